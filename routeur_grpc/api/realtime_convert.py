"""Realtime events: protobuf to domain and back, and the WebSocket's JSON form of them.

The WebSocket endpoint speaks the CAPL Routeur IA API's `{type, payload}` messages. Its
payloads are the JSON form of the same protobuf messages the gRPC stream carries (snake_case
field names, zero values printed), so both transports describe an event identically and the
`metadata` of a reply has the same keys as a completion's over REST.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.rpc import error_details_pb2  # noqa: F401 - registers ErrorInfo for JSON output
from routeur.v1 import realtime_service_pb2 as pb

from routeur_grpc.api.completion_convert import fill_metadata
from routeur_grpc.api.rpc_status import to_rpc_status
from routeur_grpc.domain.realtime import (
    Activity,
    Cancel,
    ClientEvent,
    Ping,
    Pong,
    ReplyDelta,
    ReplyDone,
    ServerEvent,
    SessionError,
    SessionStarted,
    UserMessage,
)
from routeur_grpc.errors import InvalidArgument, RouteurError


def client_event(request: pb.RunSessionRequest) -> ClientEvent:
    """The domain event of a gRPC request (an empty one only keeps the session alive)."""
    kind = request.WhichOneof("event")
    if kind == "ping":
        return Ping(request.ping.nonce)
    if kind == "message":
        message = request.message
        return UserMessage(text=message.text, message_id=message.message_id, model=message.model)
    if kind == "cancel":
        return Cancel(request.cancel.message_id)
    return Activity()


def session_response(event: ServerEvent) -> pb.RunSessionResponse:
    match event:
        case SessionStarted(session_id=session_id, conversation_id=conversation_id):
            return pb.RunSessionResponse(
                started=pb.RealtimeSessionStarted(
                    session_id=session_id, conversation_id=conversation_id
                )
            )
        case Pong(nonce=nonce):
            return pb.RunSessionResponse(pong=pb.RealtimePong(nonce=nonce))
        case ReplyDelta(message_id=message_id, content=content):
            return pb.RunSessionResponse(
                delta=pb.RealtimeReplyDelta(message_id=message_id, content=content)
            )
        case ReplyDone():
            done = pb.RealtimeReplyDone(message_id=event.message_id, cancelled=event.cancelled)
            if event.metadata is not None:
                fill_metadata(done.metadata, event.metadata)
            if event.error is not None:
                done.error.CopyFrom(to_rpc_status(event.error))
            return pb.RunSessionResponse(done=done)
        case SessionError(error=error):
            return pb.RunSessionResponse(error=to_rpc_status(error))
    raise AssertionError(f"unknown session event {event!r}")


# --- WebSocket JSON ------------------------------------------------------------------------


def websocket_message(event: ServerEvent) -> dict[str, Any]:
    """`{type, payload}` for a session event: `started`, `pong`, `delta`, `done`, `error`."""
    response = session_response(event)
    kind = response.WhichOneof("event")
    assert kind is not None
    return {"type": kind, "payload": _json(getattr(response, kind))}


def websocket_error(error: RouteurError) -> dict[str, Any]:
    """`{type: "error", payload: {code, message, details}}`, as REST errors look."""
    return {"type": "error", "payload": _json(to_rpc_status(error))}


def websocket_event(kind: str, payload: dict[str, Any]) -> ClientEvent:
    """The domain event of a `ping`, `message` or `cancel` WebSocket message.

    Raises `InvalidArgument` for a payload field of the wrong type.
    """
    if kind == "ping":
        return Ping(_text(payload, "nonce"))
    if kind == "message":
        return UserMessage(
            text=_text(payload, "text"),
            message_id=_text(payload, "message_id"),
            model=_text(payload, "model"),
        )
    if kind == "cancel":
        return Cancel(_text(payload, "message_id"))
    raise AssertionError(f"not a session event type: {kind!r}")


def _text(payload: dict[str, Any], key: str) -> str:
    value = payload.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidArgument(f"`payload.{key}` must be a string.")
    return value


def _json(message: Any) -> dict[str, Any]:
    return json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        always_print_fields_with_no_presence=True,
    )
