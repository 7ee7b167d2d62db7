"""Password hashing with argon2id (the `argon2-cffi` package), off the event loop.

Hashing costs tens of milliseconds on purpose, so it runs in a worker thread. A login for
an unknown user still pays one verification, so response times do not tell which
usernames exist.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from routeur_grpc.errors import InvalidArgument

MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_CHARS = 1024

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# A hash of nothing anyone knows, verified against when the user does not exist.
_DECOY_HASH = _hasher.hash("routeur decoy password, never valid")


def check_password_rules(password: str) -> str:
    if not MIN_PASSWORD_CHARS <= len(password) <= MAX_PASSWORD_CHARS:
        raise InvalidArgument(
            f"`password` must have {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_CHARS} characters.",
            metadata={"field": "password"},
        )
    return password


async def hash_password(password: str) -> str:
    check_password_rules(password)
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; an empty `password_hash` (no password set) never does."""
    return await asyncio.to_thread(_verify, password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DECOY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
