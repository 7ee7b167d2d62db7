"""The model calls of one agent run: through the router, streamed out, accounted as one.

Every call goes through the router's public `stream()`, so fallbacks, retries, deadlines,
timeouts and cancellation behave exactly as for a plain completion (closing the graph closes
the call, which closes the upstream request). All the calls of a run book their tokens in
one `UsageLedger`, so the accounting of the latest call, however it ended, covers every call
made so far: the runner closes the request's accounting from it, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any, Protocol

from routeur_grpc.accounting.ledger import UsageLedger
from routeur_grpc.domain.completion import (
    AttemptNote,
    ChatMessage,
    CompletionChunk,
    CompletionRequest,
    ToolCall,
    ToolSpec,
)
from routeur_grpc.routing.completion_record import CompletionRecord
from routeur_grpc.services.agents.events import AnswerText

StreamWriter = Callable[[Any], None]
Accounted = Callable[[CompletionRecord], None]


class ModelStream(Protocol):
    """The router's `stream()`: content chunks, then one `done` chunk with the accounting."""

    def __call__(
        self,
        request: CompletionRequest,
        *,
        deadline: float | None = None,
        on_accounted: Accounted | None = None,
        prefer_unary: bool = False,
        ledger: UsageLedger | None = None,
        allow_fallback: bool = False,
    ) -> AsyncIterator[CompletionChunk]: ...


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """What one model call produced."""

    text: str
    model: str
    tool_calls: tuple[ToolCall, ...] = ()


class ModelCalls:
    """Runs the model calls of one agent run, all booked in one ledger."""

    def __init__(
        self,
        stream: ModelStream,
        request: CompletionRequest,
        *,
        deadline: float | None,
        whole: bool,
    ) -> None:
        self._stream = stream
        self._request = request
        self._deadline = deadline
        self._whole = whole
        self._ledger = UsageLedger()
        #: The accounting of the latest call: it covers every call so far (one ledger).
        self.last: CompletionRecord | None = None
        #: Every upstream attempt of every call, in order.
        self.attempts: list[AttemptNote] = []
        self._open = 0  # calls started and not yet closed
        self._settle: Callable[[CompletionRecord | None], None] | None = None

    def _accounted(self, record: CompletionRecord) -> None:
        self.last = record
        self.attempts.extend(record.metadata.attempts)

    def settle(self, close: Callable[[CompletionRecord | None], None]) -> None:
        """Hand the latest accounting to `close` once no call is left open: now, or when the
        call still closing has accounted (a cancelled graph's node may close after it)."""
        if self._open:
            self._settle = close
        else:
            close(self.last)

    def _closed(self) -> None:
        self._open -= 1
        if not self._open and self._settle is not None:
            close, self._settle = self._settle, None
            close(self.last)

    async def call(
        self,
        messages: Sequence[ChatMessage],
        *,
        writer: StreamWriter | None = None,
        max_tokens: int | None = None,
        tools: Sequence[ToolSpec] = (),
    ) -> ModelAnswer:
        """Asks the request's model to continue `messages` (ending with the user's turn, or
        with tool results), offering it `tools`.

        With a `writer`, each piece of text is written out as it arrives (the answer the
        client sees); without one, the call is internal and may use a unary endpoint. An
        error before the first piece is raised; after it, the router's `error` is raised
        too, and the runner reports it on the last chunk.
        """
        *history, last = messages
        if last.role == "user" and not last.tool_calls:
            message, earlier = last.content, tuple(history)
        else:
            message, earlier = "", tuple(messages)  # the history is the whole prompt
        request = replace(
            self._request,
            message=message,
            history=earlier,
            tools=tuple(tools),
            max_tokens=max_tokens if max_tokens is not None else self._request.max_tokens,
        )
        chunks = self._stream(
            request,
            deadline=self._deadline,
            on_accounted=self._accounted,
            # Tool calls come through providers' streaming endpoints only.
            prefer_unary=(self._whole or writer is None) and not tools,
            ledger=self._ledger,
            allow_fallback=request.allow_fallback,
        )
        self._open += 1
        try:
            return await self._read(chunks, request, writer)
        finally:
            self._closed()  # the router's stream is closed: this call has been accounted

    async def _read(
        self,
        chunks: AsyncIterator[CompletionChunk],
        request: CompletionRequest,
        writer: StreamWriter | None,
    ) -> ModelAnswer:
        parts: list[str] = []
        calls: list[ToolCall] = []
        async with aclosing(chunks):
            async for chunk in chunks:
                if chunk.done:
                    if chunk.error is not None:
                        raise chunk.error
                    metadata = chunk.metadata
                    assert metadata is not None  # the router's done chunk always has it
                    return ModelAnswer("".join(parts), metadata.model, tuple(calls))
                calls.extend(chunk.tool_calls)
                parts.append(chunk.content)
                if writer is not None and chunk.content:
                    label = chunk.metadata
                    if label is None:
                        writer(AnswerText(chunk.content, request.model))
                    else:
                        writer(
                            AnswerText(
                                chunk.content,
                                label.model,
                                label.requested_model,
                                label.fallback_reason,
                            )
                        )
        raise AssertionError("the router ended a stream without a done chunk")
