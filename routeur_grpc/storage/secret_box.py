"""Encryption at rest of the secrets Routeur stores (provider API keys).

Fernet (AES-128-CBC with HMAC-SHA256, from the `cryptography` package): a stored value is
opaque, authenticated, and useless without the key. The key is `ROUTEUR_SECRETS_KEY` (a
Fernet key: 32 url-safe base64-encoded bytes, e.g. from
`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`),
or, when unset, one generated once into `data_dir/secrets.key` (mode 0600). Every instance
sharing a store must use the same key. Losing the key loses the stored provider keys (they
must be entered again), nothing else.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from routeur_grpc.errors import FailedPrecondition

log = logging.getLogger(__name__)

KEY_FILE_NAME = "secrets.key"


class SecretBoxError(Exception):
    """The key is unusable; the message names the setting or the file, never the key."""


class SecretBox:
    """Encrypts and decrypts short secrets with one key."""

    def __init__(self, key: bytes) -> None:
        try:
            self._fernet = Fernet(key)
        except (ValueError, TypeError):
            raise SecretBoxError(
                "ROUTEUR_SECRETS_KEY is not a Fernet key (32 url-safe base64-encoded bytes)"
            ) from None

    @classmethod
    def open(cls, configured: str | None, data_dir: Path) -> SecretBox:
        """The configured key, or the one kept in `data_dir` (made on first use)."""
        if configured:
            return cls(configured.encode())
        path = data_dir / KEY_FILE_NAME
        if not path.exists():
            key = Fernet.generate_key()
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(key)
            log.info("generated the key that encrypts stored secrets", extra={"path": str(path)})
        try:
            return cls(path.read_bytes().strip())
        except SecretBoxError:
            raise SecretBoxError(f"{path} does not hold a Fernet key") from None

    def encrypt(self, secret: str) -> str:
        """ "" stays "" (no secret)."""
        return self._fernet.encrypt(secret.encode()).decode() if secret else ""

    def decrypt(self, token: str) -> str:
        if not token:
            return ""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise FailedPrecondition(
                "A stored API key cannot be decrypted: the secrets key (ROUTEUR_SECRETS_KEY or "
                "data_dir/secrets.key) changed since it was saved. Enter the provider's key "
                "again.",
                reason="SECRET_UNREADABLE",
            ) from None


def mask(secret: str) -> str:
    """How a key is shown to people: `sk-...1234`; short keys show nothing of themselves."""
    if not secret:
        return ""
    if len(secret) < 12:
        return "****"
    return f"{secret[:3]}...{secret[-4:]}"
