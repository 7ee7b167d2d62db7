"""Who is calling on a WebSocket connection: the one seam for authentication.

INTEGRATION POINT (authentication): `authenticate_websocket` is the only place the
WebSocket endpoint learns who its caller is. Today it answers the anonymous caller, as every
gRPC call does until authentication lands, and refuses nothing. When it lands, verify
`credential` here (the same API key or bearer token the gRPC interceptor accepts) and raise
`errors.Unauthenticated` when it is missing or invalid: the endpoint then sends an `error`
message and closes the connection before any session starts.

Browsers cannot set headers on a WebSocket, so the credential comes from the
`Sec-WebSocket-Protocol` header (`new WebSocket(url, ["routeur.v1", "bearer.<token>"])`);
other clients may send `Authorization: Bearer <token>`.
"""

from __future__ import annotations

from collections.abc import Mapping

from routeur_grpc.domain.caller import Caller
from routeur_grpc.request_context import current_owner_id

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


def authenticate_websocket(credential: str | None, request_id: str) -> Caller:
    """The caller a WebSocket connection acts for. See the module docstring: for now, the
    caller every unauthenticated call acts for, whatever the credential."""
    del credential  # read once authentication lands
    return Caller(owner_id=current_owner_id(), request_id=request_id)
