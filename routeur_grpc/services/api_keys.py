"""The shape of Routeur API keys: made here, recognised here, stored as a hash.

A key reads `rk_<handle>_<secret>`: `rk_` says what it is (secret scanners and people
recognise it), the handle is a short random id shown in key listings as the key's
`prefix`, so a key found in a log can be matched to its record, and the secret carries
256 bits of entropy. Only the sha256 of the whole key is stored: with that much entropy a
fast hash is safe, and it lets the store find a key by its hash in one indexed read. A key
chosen by an operator (`ROUTEUR_BOOTSTRAP_ADMIN_KEY`) may have another shape; it is hashed
and looked up the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

API_KEY_PREFIX = "rk_"
_HANDLE_BYTES = 6  # 8 characters of base64url
_SECRET_BYTES = 32  # 43 characters of base64url, 256 bits
# Shortest operator-chosen key accepted: shorter ones could be guessed.
MIN_CHOSEN_KEY_CHARS = 32


@dataclass(frozen=True, slots=True)
class NewApiKey:
    """A key just made: the secret to show once, and what the store keeps."""

    secret: str
    prefix: str
    secret_hash: str


def new_api_key() -> NewApiKey:
    # token_urlsafe may produce `_`, which would make the handle ambiguous: use hex there.
    handle = secrets.token_hex(_HANDLE_BYTES)[:8]
    secret = f"{API_KEY_PREFIX}{handle}_{secrets.token_urlsafe(_SECRET_BYTES)}"
    return stored_form(secret)


def stored_form(secret: str) -> NewApiKey:
    """What the store keeps of a given key (an operator-chosen one, say)."""
    return NewApiKey(secret=secret, prefix=key_prefix(secret), secret_hash=hash_secret(secret))


def key_prefix(secret: str) -> str:
    """The part of a key that may be shown: `rk_<handle>`, or the first 6 characters."""
    if secret.startswith(API_KEY_PREFIX):
        head, sep, _ = secret[len(API_KEY_PREFIX):].partition("_")
        if sep and head:
            return f"{API_KEY_PREFIX}{head}"
    return secret[:6]


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def looks_like_jwt(credential: str) -> bool:
    """JWTs are three base64url parts joined by dots; API keys contain no dot."""
    return credential.count(".") == 2
