"""Where the token signing keys come from, and refusing weak ones in production.

- HS256 (default): the secret is `ROUTEUR_JWT_SECRET`. In development, without one, a
  random secret is generated once into `data_dir/jwt.secret` (mode 0600) and reused, so
  tokens survive a restart. In production a missing, short or well-known secret stops the
  start with a message naming the setting.
- RS256 or EdDSA: a PEM private key (`ROUTEUR_JWT_PRIVATE_KEY_FILE`) signs; the public key
  (`ROUTEUR_JWT_PUBLIC_KEY_FILE`, or derived from the private key) verifies. Instances that
  only verify may be given the public key alone.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed448, ed25519, rsa

from routeur_grpc.services.tokens import TokenKeys

MIN_SECRET_BYTES = 32
SECRET_FILE_NAME = "jwt.secret"
# Secrets found in tutorials and templates: anyone could sign tokens with them.
WELL_KNOWN_SECRETS = frozenset(
    {
        "secret", "changeme", "change-me", "change_me", "your-secret-key", "your_secret_key",
        "your-256-bit-secret", "jwt-secret", "jwt_secret", "supersecret", "super-secret",
        "password", "development", "test", "routeur", "mysecret", "secretkey", "secret-key",
        "your-super-secret-jwt-key", "please-change-me",
    }
)


class TokenKeyError(Exception):
    """The signing keys cannot be used; the message names the setting to change."""


def load_token_keys(
    *,
    algorithm: str,
    secret: str | None,
    private_key_file: Path | None,
    public_key_file: Path | None,
    data_dir: Path,
    production: bool,
) -> TokenKeys:
    if algorithm == "HS256":
        value = secret if secret else _development_secret(data_dir, production)
        _check_secret(value, production)
        return TokenKeys(algorithm, value, value)
    return _asymmetric(algorithm, private_key_file, public_key_file)


def _development_secret(data_dir: Path, production: bool) -> str:
    if production:
        raise TokenKeyError(
            "ROUTEUR_JWT_SECRET is not set: in production, set it to a random value of at "
            f"least {MIN_SECRET_BYTES} bytes (e.g. `openssl rand -base64 48`)."
        )
    path = data_dir / SECRET_FILE_NAME
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another instance wrote it first
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def _check_secret(secret: str, production: bool) -> None:
    if not production:
        return
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise TokenKeyError(
            f"ROUTEUR_JWT_SECRET is too short: use at least {MIN_SECRET_BYTES} random bytes."
        )
    if secret.strip().lower() in WELL_KNOWN_SECRETS:
        raise TokenKeyError("ROUTEUR_JWT_SECRET is a well-known value: use a random one.")


def _asymmetric(
    algorithm: str, private_key_file: Path | None, public_key_file: Path | None
) -> TokenKeys:
    if private_key_file is None and public_key_file is None:
        raise TokenKeyError(
            f"ROUTEUR_JWT_ALGORITHM={algorithm} needs ROUTEUR_JWT_PRIVATE_KEY_FILE (to sign) "
            "or ROUTEUR_JWT_PUBLIC_KEY_FILE (to verify only)."
        )
    private_key: Any = None
    if private_key_file is not None:
        setting = "ROUTEUR_JWT_PRIVATE_KEY_FILE"
        try:
            private_key = serialization.load_pem_private_key(
                _read(private_key_file, setting), password=None
            )
        except (ValueError, TypeError):
            raise TokenKeyError(f"{setting}: not an unencrypted PEM private key.") from None
        _check_type(algorithm, private_key, setting)
    if public_key_file is not None:
        setting = "ROUTEUR_JWT_PUBLIC_KEY_FILE"
        try:
            public_key = serialization.load_pem_public_key(_read(public_key_file, setting))
        except (ValueError, TypeError):
            raise TokenKeyError(f"{setting}: not a PEM public key.") from None
        _check_type(algorithm, public_key, setting)
    else:
        public_key = private_key.public_key()
    return TokenKeys(algorithm, private_key, public_key)


_KEY_TYPES: dict[str, tuple[type, ...]] = {
    "RS256": (rsa.RSAPrivateKey, rsa.RSAPublicKey),
    "EdDSA": (
        ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey,
        ed448.Ed448PrivateKey, ed448.Ed448PublicKey,
    ),
}


def _check_type(algorithm: str, key: Any, setting: str) -> None:
    if not isinstance(key, _KEY_TYPES[algorithm]):
        kind = "an RSA" if algorithm == "RS256" else "an Ed25519 or Ed448"
        raise TokenKeyError(f"{setting}: ROUTEUR_JWT_ALGORITHM={algorithm} needs {kind} key.")


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise TokenKeyError(f"{setting}: cannot read {path}: {error.strerror}") from None
