"""Realtime session events: what a client sends and what a session answers.

Plain values shared by both transports: the gRPC `RunSession` stream and the WebSocket
endpoint convert their own messages to and from these.
"""

from __future__ import annotations

from dataclasses import dataclass

from routeur_grpc.domain.completion import CompletionMetadata
from routeur_grpc.errors import RouteurError


# --- From the client ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Ping:
    """Keep-alive; answered by a `Pong` with the same nonce."""

    nonce: str = ""


@dataclass(frozen=True, slots=True)
class UserMessage:
    """A message to answer ("" `message_id`: the session makes one; "" `model`: default)."""

    text: str
    message_id: str = ""
    model: str = ""


@dataclass(frozen=True, slots=True)
class Cancel:
    """Stop the reply to `message_id` ("" for whichever reply is running)."""

    message_id: str = ""


@dataclass(frozen=True, slots=True)
class Activity:
    """The client did something the session does not handle itself (WebRTC signalling
    relayed by the WebSocket endpoint): it only keeps the session from going idle."""


ClientEvent = Ping | UserMessage | Cancel | Activity


# --- From the session ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SessionStarted:
    session_id: str
    conversation_id: str


@dataclass(frozen=True, slots=True)
class Pong:
    nonce: str = ""


@dataclass(frozen=True, slots=True)
class ReplyDelta:
    message_id: str
    content: str


@dataclass(frozen=True, slots=True)
class ReplyDone:
    """The end of one reply: completed (`metadata`), `cancelled`, or failed (`error`)."""

    message_id: str
    metadata: CompletionMetadata | None = None
    cancelled: bool = False
    error: RouteurError | None = None


@dataclass(frozen=True, slots=True)
class SessionError:
    """A problem with a client event that is not a message; the session goes on."""

    error: RouteurError


ServerEvent = SessionStarted | Pong | ReplyDelta | ReplyDone | SessionError
