"""Exchanging a credential for an access token, and telling what a token says.

`issue` accepts an API key, or a username and password (argon2id): Routeur issues tokens
only against a credential, never to whoever asks. `verify` reads a token the way every
call's authentication does, store checks included (a disabled user's token is not valid).
"""

from __future__ import annotations

from dataclasses import dataclass

from routeur_grpc.domain.caller import AUTH_JWT, AUTH_PASSWORD, Caller, Identity
from routeur_grpc.domain.repositories import UserRepository
from routeur_grpc.errors import InvalidArgument, NotFound, Unauthenticated
from routeur_grpc.services.api_keys import looks_like_jwt
from routeur_grpc.services.authentication import Authenticator, bearer_credential, roles_of
from routeur_grpc.services.passwords import verify_password
from routeur_grpc.services.tokens import TOKEN_TYPE, IssuedToken, TokenCodec


@dataclass(frozen=True, slots=True)
class TokenReport:
    """VerifyToken's answer: whether valid, and for whom."""

    valid: bool
    sub: str = ""
    type: str = ""
    exp: int = 0
    roles: tuple[str, ...] = ()


class TokenExchange:
    """Issues access tokens against a credential; checks tokens."""

    def __init__(
        self, users: UserRepository, authenticator: Authenticator, tokens: TokenCodec
    ) -> None:
        self._users = users
        self._authenticator = authenticator
        self._tokens = tokens

    async def issue(
        self,
        *,
        api_key: str,
        username: str,
        password: str,
        authorization: str | None,
        expires_in_s: int,
    ) -> IssuedToken:
        """`api_key`, else `username` and `password`, else the API key the call carries."""
        if api_key:
            identity = await self._authenticator.identity_for_api_key(api_key)
        elif username or password:
            identity = await self._password_identity(username, password)
        elif authorization:
            credential = bearer_credential(authorization)
            if looks_like_jwt(credential):
                raise InvalidArgument(
                    "A token cannot be exchanged for another: send an API key (`api_key`) "
                    "or a username and password."
                )
            identity = await self._authenticator.identity_for_api_key(credential)
        else:
            raise Unauthenticated(
                "Send an API key (`api_key`, or `Authorization: Bearer <API key>`) or a "
                "`username` and `password` to get a token.",
                reason="CREDENTIAL_MISSING",
            )
        return self._tokens.issue(
            identity.user_id,
            tuple(sorted(identity.roles)),
            api_key_id=identity.api_key_id,
            ttl_s=expires_in_s,
        )

    async def verify(self, caller: Caller, token: str) -> TokenReport:
        """The given token, or (empty) the credential the call itself was made with."""
        if not token:
            return TokenReport(
                valid=True,
                sub=caller.user_id,
                type=TOKEN_TYPE if caller.auth_method == AUTH_JWT else caller.auth_method,
                roles=tuple(sorted(caller.roles)),
            )
        try:
            claims = self._tokens.decode(token)
            identity: Identity = await self._authenticator.identity_for_token(claims)
        except Unauthenticated:
            return TokenReport(valid=False)
        return TokenReport(
            valid=True,
            sub=identity.user_id,
            type=TOKEN_TYPE,
            exp=claims.exp,
            roles=tuple(sorted(identity.roles)),
        )

    async def _password_identity(self, username: str, password: str) -> Identity:
        refused = Unauthenticated(
            "Wrong username or password.", reason="INVALID_PASSWORD"
        )
        if not username or not password:
            raise refused
        try:
            user = await self._users.get_by_username(username)
            stored = await self._users.password_hash(user.user_id)
        except (NotFound, InvalidArgument):
            await verify_password("", password)  # the same time as a real check
            raise refused from None
        if not await verify_password(stored, password):
            raise refused
        if user.disabled:
            raise Unauthenticated(
                "This account is disabled: ask an administrator.", reason="ACCOUNT_DISABLED"
            )
        return Identity(user.user_id, roles_of(user), "", AUTH_PASSWORD)
