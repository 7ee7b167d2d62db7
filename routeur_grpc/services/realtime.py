"""Realtime sessions: a conversation held open, answered one reply at a time.

`RealtimeService.open_session` admits a session for a caller (at most
`max_sessions_per_caller` at once) and gives it a saved conversation; `RealtimeSession.run`
turns the client's events into the session's events, whatever the transport (gRPC
`RunSession` or the WebSocket endpoint). Each reply is one `CompletionService.stream` call
on the session's conversation, so history, routing, usage limits and usage recording apply
to every reply exactly as to a completion. A `Cancel` cancels the reply's task, which closes
the completion stream and so the upstream model call. A session whose client sends nothing
for `idle_timeout_s`, while no reply is running, ends with DEADLINE_EXCEEDED (`SESSION_IDLE`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionRequest
from routeur_grpc.domain.realtime import (
    Activity,
    Cancel,
    ClientEvent,
    Ping,
    Pong,
    ReplyDelta,
    ReplyDone,
    ServerEvent,
    SessionStarted,
    UserMessage,
)
from routeur_grpc.errors import (
    CallerRefused,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    RouteurError,
)
from routeur_grpc.services.completion import CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)

SESSION_IDLE = "SESSION_IDLE"
TOO_MANY_SESSIONS = "TOO_MANY_SESSIONS"


@dataclass(frozen=True, slots=True)
class RealtimeSettings:
    """Rules every realtime session follows."""

    default_model: str
    idle_timeout_s: float
    max_sessions_per_caller: int


class RealtimeService:
    """Admits sessions, per caller up to a cap, and gives each its conversation."""

    def __init__(
        self,
        completions: CompletionService,
        conversations: ConversationService,
        settings: RealtimeSettings,
    ) -> None:
        self._completions = completions
        self._conversations = conversations
        self._settings = settings
        self._held: dict[str, int] = {}  # owner id → sessions open now

    @asynccontextmanager
    async def open_session(
        self, caller: Caller, session_id: str = ""
    ) -> AsyncIterator[RealtimeSession]:
        """A session for `caller` for the time of the `async with` block.

        Raises `CallerRefused` (RESOURCE_EXHAUSTED) when the caller holds the most sessions
        allowed already.
        """
        owner = caller.owner_id
        held = self._held.get(owner, 0)
        cap = self._settings.max_sessions_per_caller
        if held >= cap:
            raise CallerRefused(
                f"You already have {held} realtime sessions open, the most allowed: close one "
                "before opening another.",
                reason=TOO_MANY_SESSIONS,
            )
        self._held[owner] = held + 1
        try:
            conversation = await self._conversations.create(owner, "")
            yield RealtimeSession(
                session_id=session_id or uuid.uuid4().hex,
                conversation_id=conversation.conversation_id,
                caller=caller,
                completions=self._completions,
                settings=self._settings,
            )
        finally:
            remaining = self._held.get(owner, 1) - 1
            if remaining > 0:
                self._held[owner] = remaining
            else:
                self._held.pop(owner, None)


class _End:
    """The session is over (with `error`, if it ended on one)."""

    def __init__(self, error: RouteurError | None = None) -> None:
        self.error = error


_CLIENT_DONE = object()  # the client ended its side: finish the reply, then end
_CLIENT_GONE = object()  # the client's stream failed (connection lost): end at once


class RealtimeSession:
    """One open session: reads client events, writes session events."""

    def __init__(
        self,
        *,
        session_id: str,
        conversation_id: str,
        caller: Caller,
        completions: CompletionService,
        settings: RealtimeSettings,
    ) -> None:
        self.session_id = session_id
        self.conversation_id = conversation_id
        self._caller = caller
        self._completions = completions
        self._settings = settings
        self._out: asyncio.Queue[ServerEvent | _End] = asyncio.Queue()
        self._reply: asyncio.Task[None] | None = None
        self._reply_id = ""
        self._cancel_asked = False
        self._last_activity = 0.0

    async def run(self, events: AsyncIterator[ClientEvent]) -> AsyncIterator[ServerEvent]:
        """The session's events, `SessionStarted` first, until the client ends its side
        (after the running reply, if any, is done) or the session goes idle (raises
        `DeadlineExceeded`)."""
        yield SessionStarted(self.session_id, self.conversation_id)
        self._touch()
        pump = asyncio.create_task(self._pump(events))
        try:
            while True:
                item = await self._out.get()
                if isinstance(item, _End):
                    if item.error is not None:
                        raise item.error
                    return
                yield item
        finally:
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pump
            await self._stop_reply()

    # --- reading the client ------------------------------------------------------------------

    async def _pump(self, events: AsyncIterator[ClientEvent]) -> None:
        inbox: asyncio.Queue[object] = asyncio.Queue()

        async def read() -> None:
            try:
                async for event in events:
                    inbox.put_nowait(event)
            except Exception:  # noqa: BLE001 - the client is gone, whatever the reason
                inbox.put_nowait(_CLIENT_GONE)
                return
            inbox.put_nowait(_CLIENT_DONE)

        reader = asyncio.create_task(read())
        try:
            while True:
                try:
                    event = await asyncio.wait_for(inbox.get(), timeout=self._idle_left())
                except TimeoutError:
                    if self._idle_left() > 0:
                        continue
                    self._out.put_nowait(_End(self._idle_error()))
                    return
                if event is _CLIENT_GONE:
                    self._out.put_nowait(_End())  # nobody to answer: the reply stops too
                    return
                if event is _CLIENT_DONE:
                    if self._reply is not None:
                        await asyncio.wait({self._reply})
                    self._out.put_nowait(_End())
                    return
                self._handle(event)  # type: ignore[arg-type]
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader

    def _handle(self, event: ClientEvent) -> None:
        self._touch()
        match event:
            case Ping(nonce=nonce):
                self._out.put_nowait(Pong(nonce))
            case UserMessage():
                self._start_reply(event)
            case Cancel(message_id=message_id):
                running = self._reply is not None and not self._reply.done()
                if running and message_id in ("", self._reply_id):
                    self._cancel_asked = True
                    self._reply.cancel()  # type: ignore[union-attr]
                # Cancelling a reply that is over (or unknown) is a harmless no-op.
            case Activity():
                pass

    # --- replies -----------------------------------------------------------------------------

    def _start_reply(self, message: UserMessage) -> None:
        message_id = message.message_id or uuid.uuid4().hex[:16]
        if self._reply is not None and not self._reply.done():
            self._out.put_nowait(
                ReplyDone(
                    message_id,
                    error=FailedPrecondition(
                        f"A reply (to {self._reply_id!r}) is still being generated: wait for "
                        "its `done`, or cancel it, before sending another message.",
                        reason="REPLY_IN_PROGRESS",
                    ),
                )
            )
            return
        request = CompletionRequest(
            message=message.text,
            model=message.model.strip() or self._settings.default_model,
            conversation_id=self.conversation_id,
        )
        self._reply_id = message_id
        self._cancel_asked = False
        self._reply = asyncio.create_task(self._answer(message_id, request))

    async def _answer(self, message_id: str, request: CompletionRequest) -> None:
        try:
            chunks = self._completions.stream(request, self._caller)
            async with aclosing(chunks):
                async for chunk in chunks:
                    if chunk.done:
                        self._out.put_nowait(
                            ReplyDone(message_id, metadata=chunk.metadata, error=chunk.error)
                        )
                        return
                    if chunk.content:
                        self._out.put_nowait(ReplyDelta(message_id, chunk.content))
        except asyncio.CancelledError:
            if not self._cancel_asked:
                raise  # the session itself is closing
            self._out.put_nowait(ReplyDone(message_id, cancelled=True))
        except RouteurError as error:
            self._out.put_nowait(ReplyDone(message_id, error=error))
        except Exception as error:  # noqa: BLE001 - the session goes on; the bug is logged
            log.error("realtime reply failed", extra=describe_exception(error))
            self._out.put_nowait(
                ReplyDone(
                    message_id,
                    error=Internal(
                        f"Internal error. Quote request id {self._caller.request_id} when "
                        "reporting it."
                    ),
                )
            )
        finally:
            self._touch()

    async def _stop_reply(self) -> None:
        reply = self._reply
        if reply is not None and not reply.done():
            self._cancel_asked = False
            reply.cancel()
            await asyncio.gather(reply, return_exceptions=True)

    # --- idleness ----------------------------------------------------------------------------

    def _touch(self) -> None:
        self._last_activity = asyncio.get_running_loop().time()

    def _idle_left(self) -> float:
        if self._reply is not None and not self._reply.done():
            return self._settings.idle_timeout_s  # a reply being generated is not idleness
        elapsed = asyncio.get_running_loop().time() - self._last_activity
        return max(0.0, self._settings.idle_timeout_s - elapsed)

    def _idle_error(self) -> DeadlineExceeded:
        return DeadlineExceeded(
            f"The realtime session was idle for {self._settings.idle_timeout_s:g} s and is "
            "closed: open a new one (send pings to keep a session open).",
            reason=SESSION_IDLE,
        )
