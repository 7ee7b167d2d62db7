"""Checking a call's credential: an API key or an access token, against the store.

A bearer credential with two dots is read as a JWT, anything else as an API key. Either
way the user is read from the store, so a disabled user, a revoked or expired key (and
the tokens exchanged for it) stop working at once. To keep that read off the hot path,
users and keys are cached for `cache_ttl_s` seconds (`ROUTEUR_AUTH_CACHE_TTL_S`, 5 s by
default): a change made through this instance applies at once (its cache entry is
dropped), a change made through another instance sharing the store applies within that
time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Generic, TypeVar

from routeur_grpc.domain.caller import AUTH_API_KEY, AUTH_JWT, ROLE_ADMIN, ROLE_USER, Identity
from routeur_grpc.domain.records import ApiKey, User
from routeur_grpc.domain.repositories import ApiKeyRepository, UserRepository
from routeur_grpc.errors import NotFound, Unauthenticated
from routeur_grpc.services.api_keys import hash_secret, looks_like_jwt
from routeur_grpc.services.tokens import TokenClaims, TokenCodec

log = logging.getLogger(__name__)

BEARER = "bearer"
MAX_CREDENTIAL_CHARS = 8192
_MAX_CACHE_ENTRIES = 10_000

K = TypeVar("K")
V = TypeVar("V")


class _TtlCache(Generic[K, V]):
    """A small map whose entries expire; cleared whole when it grows too big."""

    def __init__(self, ttl_s: float, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self._clock():
            return None
        return entry[1]

    def put(self, key: K, value: V) -> None:
        if self._ttl_s <= 0:
            return
        if len(self._entries) >= _MAX_CACHE_ENTRIES:
            self._entries.clear()
        self._entries[key] = (self._clock() + self._ttl_s, value)

    def drop(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


def roles_of(user: User) -> frozenset[str]:
    """An admin is also a user."""
    return frozenset({ROLE_ADMIN, ROLE_USER}) if user.role == ROLE_ADMIN else frozenset({ROLE_USER})


class Authenticator:
    """Turns `authorization` metadata into the caller's identity, or refuses it."""

    def __init__(
        self,
        users: UserRepository,
        api_keys: ApiKeyRepository,
        tokens: TokenCodec,
        *,
        cache_ttl_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._users = users
        self._api_keys = api_keys
        self._tokens = tokens
        self._users_by_id: _TtlCache[str, User] = _TtlCache(cache_ttl_s, clock)
        self._keys_by_hash: _TtlCache[str, ApiKey] = _TtlCache(cache_ttl_s, clock)
        self._keys_by_id: _TtlCache[str, ApiKey] = _TtlCache(cache_ttl_s, clock)

    async def authenticate(self, authorization: str | None) -> Identity:
        credential = bearer_credential(authorization)
        if looks_like_jwt(credential):
            return await self.identity_for_token(self._tokens.decode(credential))
        return await self.identity_for_api_key(credential)

    async def identity_for_api_key(self, secret: str) -> Identity:
        key = await self._key_by_secret(secret)
        _check_key(key)
        user = await self._active_user(key.user_id)
        return Identity(user.user_id, roles_of(user), key.key_id, AUTH_API_KEY)

    async def identity_for_token(self, claims: TokenClaims) -> Identity:
        user = await self._active_user(claims.sub)
        if claims.api_key_id:
            _check_key(await self._key_by_id(user.user_id, claims.api_key_id))
        # Roles come from the account as it is now, not as it was when the token was made.
        return Identity(user.user_id, roles_of(user), claims.api_key_id, AUTH_JWT)

    def forget_user(self, user_id: str) -> None:
        """Drop what is cached about a user (after disabling, deleting or changing them)."""
        self._users_by_id.drop(user_id)

    def forget_keys(self) -> None:
        """Drop every cached key (after a revocation)."""
        self._keys_by_hash.clear()
        self._keys_by_id.clear()

    async def _key_by_secret(self, secret: str) -> ApiKey:
        secret_hash = hash_secret(secret)
        key = self._keys_by_hash.get(secret_hash)
        if key is None:
            key = await self._api_keys.find_by_secret_hash(secret_hash)
            if key is None:
                raise Unauthenticated(
                    "The API key is not valid. Check that it was copied whole, or ask an "
                    "administrator for a new one.",
                    reason="INVALID_API_KEY",
                )
            self._keys_by_hash.put(secret_hash, key)
            await self._api_keys.touch_last_used(key.key_id)  # at most once per cache period
        return key

    async def _key_by_id(self, user_id: str, key_id: str) -> ApiKey:
        key = self._keys_by_id.get(key_id)
        if key is None:
            try:
                key = await self._api_keys.get(user_id, key_id)
            except NotFound:
                raise _revoked() from None
            self._keys_by_id.put(key_id, key)
        return key

    async def _active_user(self, user_id: str) -> User:
        user = self._users_by_id.get(user_id)
        if user is None:
            try:
                user = await self._users.get(user_id)
            except NotFound:
                raise Unauthenticated(
                    "The account of this credential no longer exists.", reason="UNKNOWN_USER"
                ) from None
            self._users_by_id.put(user_id, user)
        if user.disabled:
            raise Unauthenticated(
                "This account is disabled: ask an administrator.", reason="ACCOUNT_DISABLED"
            )
        return user


def bearer_credential(authorization: str | None) -> str:
    """The credential of an `authorization: Bearer <credential>` value."""
    if not authorization:
        raise Unauthenticated(
            "This call needs a credential: send the header `Authorization: Bearer <API key "
            "or token>` (gRPC: `authorization` metadata). POST /auth/token exchanges an API "
            "key or a username and password for a token.",
            reason="CREDENTIAL_MISSING",
        )
    scheme, _, credential = authorization.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != BEARER or not credential or len(credential) > MAX_CREDENTIAL_CHARS:
        raise Unauthenticated(
            "The `authorization` value must read `Bearer <API key or token>`.",
            reason="CREDENTIAL_MALFORMED",
        )
    return credential


def _check_key(key: ApiKey) -> None:
    if key.revoked:
        raise _revoked()
    if key.expire_time is not None and key.expire_time <= datetime.now(UTC):
        raise Unauthenticated(
            "The API key has expired: ask for a new one.", reason="API_KEY_EXPIRED"
        )


def _revoked() -> Unauthenticated:
    return Unauthenticated(
        "The API key of this credential was revoked.", reason="API_KEY_REVOKED"
    )
