"""Who is calling on a WebSocket connection: the same credentials as every other call.

Browsers cannot set headers on a WebSocket, so the credential comes from the
`Sec-WebSocket-Protocol` header (`new WebSocket(url, ["routeur.v1", "bearer.<token>"])`);
other clients may send `Authorization: Bearer <token>`. The credential is an API key or a
token, checked like the gRPC interceptor checks `authorization` metadata. A connection
without one, or with an invalid one, gets an `error` message and is closed before any
session starts.
"""

from __future__ import annotations

from collections.abc import Mapping

from routeur_grpc.domain.caller import UNAUTHENTICATED_OPERATOR, Caller
from routeur_grpc.services.authentication import Authenticator

SUBPROTOCOL = "routeur.v1"
BEARER_SUBPROTOCOL_PREFIX = "bearer."


def websocket_credential(headers: Mapping[str, str], subprotocols: list[str]) -> str | None:
    """The token a connection presents, if any: `bearer.<token>` among the offered
    subprotocols, else an `Authorization: Bearer` header."""
    for offered in subprotocols:
        if offered.startswith(BEARER_SUBPROTOCOL_PREFIX):
            return offered.removeprefix(BEARER_SUBPROTOCOL_PREFIX) or None
    scheme, _, token = (headers.get("authorization") or "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def authenticate_websocket(
    credential: str | None, request_id: str, authenticator: Authenticator | None
) -> Caller:
    """The caller a WebSocket connection acts for; raises `Unauthenticated` when the
    credential is missing or invalid. `authenticator` None: authentication is disabled."""
    if authenticator is None:
        identity = UNAUTHENTICATED_OPERATOR
    else:
        identity = await authenticator.authenticate(
            f"Bearer {credential}" if credential else None
        )
    return Caller(
        owner_id=identity.user_id,
        request_id=request_id,
        roles=identity.roles,
        api_key_id=identity.api_key_id,
        auth_method=identity.auth_method,
    )
