"""The realtime WebSocket endpoint, `/realtime/ws`, for browsers.

Browsers cannot run a bidirectional gRPC stream, so the realtime session is also offered
over a WebSocket (the `websockets` library, in the gRPC server's process and event loop, on
its own port); Envoy proxies it on the REST port with the upgrade. It speaks the CAPL
Routeur IA API's JSON messages, `{"type": ..., "payload": {...}}`:

- client → server: `ping` {nonce?}, `message` {text, message_id?, model?}, `cancel`
  {message_id?}, and the WebRTC signalling types `offer`, `answer`, `ice`;
- server → client: `started` {session_id, conversation_id}, `pong`, `delta` {message_id,
  content}, `done` {message_id, metadata, cancelled, error?}, `error` {code, message,
  details}, and the signalling messages of the other participants, as they sent them.

`?session_id=<id>` joins a session id (for signalling: connections of the same owner on the
same id relay `offer`/`answer`/`ice` to each other); without it a new id is made. Each
connection holds its own realtime session (conversation, replies, idle timeout), counted in
the caller's session cap.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import websockets
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from routeur_grpc.api import realtime_convert as convert
from routeur_grpc.api.websocket_auth import (
    SUBPROTOCOL,
    authenticate_websocket,
    websocket_credential,
)
from routeur_grpc.domain.realtime import Activity, ClientEvent
from routeur_grpc.errors import CallerRefused, Internal, InvalidArgument, RouteurError
from routeur_grpc.request_context import (
    REQUEST_ID_METADATA_KEY,
    accept_request_id,
    current_request_id,
    set_request_id,
)
from routeur_grpc.services.authentication import Authenticator
from routeur_grpc.services.realtime import SESSION_IDLE, RealtimeService
from routeur_grpc.services.realtime_signalling import (
    SIGNALLING_TYPES,
    Participant,
    SignallingRooms,
)
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)
access_log = logging.getLogger("routeur.access")

PATH = "/realtime/ws"
SESSION_EVENT_TYPES = ("ping", "message", "cancel")
MAX_MESSAGE_BYTES = 1024 * 1024
_SESSION_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

# Close codes (RFC 6455 §7.4.1).
CLOSE_NORMAL = 1000
CLOSE_POLICY = 1008
CLOSE_INTERNAL = 1011
CLOSE_TRY_AGAIN_LATER = 1013


class _ClientGone(Exception):
    """The client closed the connection: its session ends at once."""


class RealtimeWebSocketServer:
    """The `/realtime/ws` endpoint: start it on an address, stop it at shutdown."""

    def __init__(
        self,
        realtime: RealtimeService,
        rooms: SignallingRooms,
        authenticator: Authenticator | None = None,
    ) -> None:
        self._realtime = realtime
        self._rooms = rooms
        self._authenticator = authenticator  # None: authentication disabled
        self._server: Server | None = None
        self.port: int | None = None

    async def start(self, address: str, *, reuse_port: bool = False) -> int:
        """Listen on host:port (port 0 picks one); the port bound. `reuse_port` lets it share
        a port reserved by the process that started this one (`SO_REUSEPORT`)."""
        host, _, port = address.rpartition(":")
        self._server = await serve(
            self._serve,
            host.strip("[]"),
            int(port),
            process_request=_only_realtime_path,
            select_subprotocol=_select_subprotocol,
            max_size=MAX_MESSAGE_BYTES,
            server_header=None,
            reuse_port=reuse_port,
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self.port

    async def stop(self) -> None:
        """Close every connection (1001, going away) and stop listening."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        set_request_id(accept_request_id(request.headers.get(REQUEST_ID_METADATA_KEY)))
        started = time.perf_counter()
        try:
            await self._run(connection, request)
        except websockets.ConnectionClosed:
            pass
        except RouteurError as error:
            await _send_error_and_close(connection, error)
        except Exception as error:  # noqa: BLE001 - one place for the connection's bugs
            log.error("realtime websocket failed", extra=describe_exception(error))
            await _send_error_and_close(
                connection,
                Internal(
                    f"Internal error. Quote request id {current_request_id()} when reporting it."
                ),
            )
        finally:
            # The WebSocket's line in the access log, as the gRPC interceptor writes for calls.
            access_log.info(
                "websocket finished",
                extra={
                    "path": PATH,
                    "close_code": connection.close_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )

    async def _run(self, connection: ServerConnection, request: Request) -> None:
        query = parse_qs(urlsplit(request.path).query)
        session_id = (query.get("session_id") or [""])[0]
        if session_id and not _SESSION_ID.fullmatch(session_id):
            raise InvalidArgument(
                "`session_id` must be 1 to 128 letters, digits or `._:-`."
            )
        offered = list(request.headers.get_all("Sec-WebSocket-Protocol"))
        subprotocols = [p.strip() for value in offered for p in value.split(",") if p.strip()]
        caller = await authenticate_websocket(
            websocket_credential({k.lower(): v for k, v in request.headers.raw_items()},
                                 subprotocols),
            current_request_id(),
            self._authenticator,
        )
        async with self._realtime.open_session(caller, session_id) as session:
            with self._rooms.join(caller.owner_id, session.session_id, connection.send) as me:
                events = session.run(self._client_events(connection, me))
                async with aclosing(events):
                    async for event in events:
                        await connection.send(json.dumps(convert.websocket_message(event)))

    async def _client_events(
        self, connection: ServerConnection, me: Participant
    ) -> AsyncIterator[ClientEvent]:
        """The session events among the client's messages; signalling is relayed here."""
        try:
            async for text in connection:
                try:
                    kind, payload = _parse(text)
                    if kind in SIGNALLING_TYPES:
                        relayed = text if isinstance(text, str) else text.decode()
                        await self._rooms.relay(me, relayed)
                        yield Activity()
                    else:
                        yield convert.websocket_event(kind, payload)
                except InvalidArgument as error:
                    await connection.send(json.dumps(convert.websocket_error(error)))
                    yield Activity()
        except websockets.ConnectionClosed:
            pass
        raise _ClientGone


def _parse(text: str | bytes) -> tuple[str, dict[str, Any]]:
    """The `type` and `payload` of a client message; `InvalidArgument` saying what is wrong."""
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidArgument(
            'Messages are JSON objects: {"type": "...", "payload": {...}}.'
        ) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise InvalidArgument('A message needs a string `type`: {"type": "...", "payload": {}}.')
    kind = message["type"]
    payload = message.get("payload") or {}
    if not isinstance(payload, dict):
        raise InvalidArgument("`payload` must be a JSON object.")
    if kind not in SESSION_EVENT_TYPES and kind not in SIGNALLING_TYPES:
        known = ", ".join([*SESSION_EVENT_TYPES, *sorted(SIGNALLING_TYPES)])
        raise InvalidArgument(f"Unknown message type {kind!r}: use one of {known}.")
    return kind, payload


async def _send_error_and_close(connection: ServerConnection, error: RouteurError) -> None:
    if isinstance(error, CallerRefused):
        code = CLOSE_TRY_AGAIN_LATER
    elif error.reason == SESSION_IDLE:
        code = CLOSE_NORMAL
    elif isinstance(error, InvalidArgument):
        code = CLOSE_POLICY
    else:
        code = CLOSE_INTERNAL
    try:
        await connection.send(json.dumps(convert.websocket_error(error)))
        await connection.close(code, error.reason.lower())
    except websockets.ConnectionClosed:
        pass


def _only_realtime_path(connection: ServerConnection, request: Request) -> Response | None:
    if urlsplit(request.path).path != PATH:
        return connection.respond(
            HTTPStatus.NOT_FOUND, f"Not found: the WebSocket endpoint is {PATH}\n"
        )
    return None


def _select_subprotocol(
    connection: ServerConnection, offered: Sequence[Subprotocol]
) -> Subprotocol | None:
    """`routeur.v1` when the client offers it (browsers fail a connection whose offered
    subprotocols all go unanswered, so a client sending a `bearer.<token>` offers it too)."""
    chosen = Subprotocol(SUBPROTOCOL)
    return chosen if chosen in offered else None
