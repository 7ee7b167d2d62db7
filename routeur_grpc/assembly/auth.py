"""Authentication's parts: the token codec, the first administrator, the authenticator.

Unsafe authentication settings stop the start here, with a message naming the setting.
"""

from __future__ import annotations

import logging

from routeur_grpc.domain.repositories import Store
from routeur_grpc.services.authentication import Authenticator
from routeur_grpc.services.bootstrap import ensure_first_admin
from routeur_grpc.services.token_keys import TokenKeyError, load_token_keys
from routeur_grpc.services.tokens import TokenCodec
from routeur_grpc.settings import Settings

log = logging.getLogger(__name__)

PRODUCTION = "production"


class AuthSetupError(Exception):
    """Authentication cannot be set up as configured; the message names the setting."""


def token_codec(settings: Settings) -> TokenCodec:
    """Signs and checks access tokens; refuses unsafe authentication settings."""
    production = settings.environment == PRODUCTION
    if settings.auth == "disabled":
        if production:
            raise AuthSetupError(
                "ROUTEUR_AUTH=disabled is refused when ROUTEUR_ENVIRONMENT=production: "
                "every caller would be an administrator."
            )
        log.warning(
            "authentication is DISABLED (ROUTEUR_AUTH=disabled): every caller is an "
            "anonymous administrator; never expose this server"
        )
    try:
        keys = load_token_keys(
            algorithm=settings.jwt_algorithm,
            secret=settings.jwt_secret.get_secret_value() if settings.jwt_secret else None,
            private_key_file=settings.jwt_private_key_file,
            public_key_file=settings.jwt_public_key_file,
            data_dir=settings.data_dir,
            production=production,
        )
    except TokenKeyError as error:
        raise AuthSetupError(str(error)) from None
    return TokenCodec(
        keys,
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        default_ttl_s=settings.jwt_ttl_s,
        max_ttl_s=settings.jwt_max_ttl_s,
    )


async def first_admin(settings: Settings, store: Store) -> None:
    """Create the first administrator (and its key file) if there is none; the store is
    closed when that fails, since nothing else will close it."""
    try:
        await ensure_first_admin(
            store.users,
            store.api_keys,
            chosen_key=(
                settings.bootstrap_admin_key.get_secret_value()
                if settings.bootstrap_admin_key
                else None
            ),
            data_dir=settings.data_dir,
        )
    except BaseException:
        await store.close()
        raise


def authenticator(settings: Settings, store: Store, tokens: TokenCodec) -> Authenticator:
    return Authenticator(store.users, store.api_keys, tokens, cache_ttl_s=settings.auth_cache_ttl_s)
