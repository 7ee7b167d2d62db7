"""Access tokens: JWTs signed and checked by pyjwt, with the algorithm pinned.

Issued tokens carry `sub` (user id), `roles`, `iat`, `exp`, `iss`, `aud`, `jti`, `type`
(`access`) and, when exchanged for an API key, `akid` (that key's id, so revoking the key
also ends its tokens). Decoding accepts only the one configured algorithm (so `alg: none`,
an HS512 token where HS256 is expected, or a public key used as an HMAC secret are all
refused) and requires exp, iat, sub, aud and iss; a token issued in the future is refused.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from routeur_grpc.errors import Unauthenticated

TOKEN_TYPE = "access"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss")
# Tolerated clock difference between instances, in seconds.
CLOCK_SKEW_S = 30


@dataclass(frozen=True, slots=True)
class TokenKeys:
    """The configured algorithm and its keys (the same secret twice for HS256)."""

    algorithm: str
    signing_key: Any
    verifying_key: Any


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a genuine, unexpired token says."""

    sub: str
    roles: tuple[str, ...]
    exp: int
    iat: int
    jti: str
    api_key_id: str


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int


class TokenCodec:
    """Signs and checks access tokens."""

    def __init__(
        self,
        keys: TokenKeys,
        *,
        issuer: str,
        audience: str,
        default_ttl_s: int,
        max_ttl_s: int,
    ) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._default_ttl_s = default_ttl_s
        self._max_ttl_s = max_ttl_s

    def issue(
        self, user_id: str, roles: tuple[str, ...], *, api_key_id: str = "", ttl_s: int = 0
    ) -> IssuedToken:
        """A token for `user_id`; `ttl_s` 0 means the default, and is capped by the maximum."""
        lifetime = min(ttl_s or self._default_ttl_s, self._max_ttl_s)
        # Wall-clock time, as pyjwt reads it when decoding: tokens travel between machines.
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": user_id,
            "roles": list(roles),
            "type": TOKEN_TYPE,
            "iat": now,
            "exp": now + lifetime,
            "iss": self._issuer,
            "aud": self._audience,
            "jti": uuid.uuid4().hex,
        }
        if api_key_id:
            claims["akid"] = api_key_id
        token = jwt.encode(claims, self._keys.signing_key, algorithm=self._keys.algorithm)
        return IssuedToken(token, lifetime)

    def decode(self, token: str) -> TokenClaims:
        """The claims of a genuine token, or `Unauthenticated` saying what is wrong."""
        try:
            claims = jwt.decode(
                token,
                self._keys.verifying_key,
                algorithms=[self._keys.algorithm],
                audience=self._audience,
                issuer=self._issuer,
                leeway=CLOCK_SKEW_S,
                options={"require": list(REQUIRED_CLAIMS), "verify_iat": True},
            )
        except jwt.ExpiredSignatureError:
            raise _refused("The token has expired: ask POST /auth/token for a new one.",
                           "TOKEN_EXPIRED") from None
        except jwt.ImmatureSignatureError:
            raise _refused("The token's issue time is in the future.", "TOKEN_INVALID") from None
        except jwt.MissingRequiredClaimError as error:
            raise _refused(f"The token lacks the `{error.claim}` claim.",
                           "TOKEN_INVALID") from None
        except jwt.InvalidAudienceError:
            raise _refused("The token was issued for another audience.",
                           "TOKEN_INVALID") from None
        except jwt.InvalidIssuerError:
            raise _refused("The token was issued by someone else.", "TOKEN_INVALID") from None
        except jwt.InvalidAlgorithmError:
            raise _refused(
                f"The token is not signed with {self._keys.algorithm}, the only algorithm "
                "accepted.", "TOKEN_INVALID"
            ) from None
        except jwt.InvalidTokenError:
            # Bad signature, malformed token, wrong key type: no more detail helps anyone.
            raise _refused("The token is not valid.", "TOKEN_INVALID") from None
        if claims["iat"] > time.time() + CLOCK_SKEW_S:  # older pyjwt releases skip this check
            raise _refused("The token's issue time is in the future.", "TOKEN_INVALID")
        if claims.get("type", TOKEN_TYPE) != TOKEN_TYPE or not isinstance(claims["sub"], str):
            raise _refused("The token is not an access token.", "TOKEN_INVALID")
        roles = claims.get("roles", [])
        return TokenClaims(
            sub=claims["sub"],
            roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
            exp=int(claims["exp"]),
            iat=int(claims["iat"]),
            jti=str(claims.get("jti", "")),
            api_key_id=str(claims.get("akid", "")),
        )


def _refused(message: str, reason: str) -> Unauthenticated:
    return Unauthenticated(message, reason=reason)
