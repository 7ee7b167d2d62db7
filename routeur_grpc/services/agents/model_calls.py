"""The model calls of one agent run: through the router, streamed out, accounted.

Every call goes through the router's public `stream()`, so fallbacks, retries, deadlines and
cancellation behave exactly as for a plain completion (closing the graph closes the call,
which closes the upstream request). The accounting of each call, however it ends, is kept
here, so that the run's metadata can add them up, and passed on to the completion's
recorder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass, replace
from typing import Any, Protocol

from routeur_grpc.domain.completion import (
    ChatMessage,
    CompletionChunk,
    CompletionRequest,
    TokenUsage,
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
    ) -> AsyncIterator[CompletionChunk]: ...


@dataclass(frozen=True, slots=True)
class ModelAnswer:
    """What one model call produced."""

    text: str
    model: str
    usage: TokenUsage
    tool_calls: tuple[ToolCall, ...] = ()


class ModelCalls:
    """Runs the model calls of one agent run and keeps each one's accounting."""

    def __init__(
        self,
        stream: ModelStream,
        request: CompletionRequest,
        *,
        deadline: float | None,
        on_accounted: Accounted | None,
        whole: bool,
    ) -> None:
        self._stream = stream
        self._request = request
        self._deadline = deadline
        self._on_accounted = on_accounted
        self._whole = whole
        self.records: list[CompletionRecord] = []

    def _accounted(self, record: CompletionRecord) -> None:
        self.records.append(record)
        if self._on_accounted is not None:
            self._on_accounted(record)

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
        parts: list[str] = []
        calls: list[ToolCall] = []
        chunks = self._stream(
            request,
            deadline=self._deadline,
            on_accounted=self._accounted,
            # Tool calls come through providers' streaming endpoints only.
            prefer_unary=(self._whole or writer is None) and not tools,
        )
        async with aclosing(chunks):
            async for chunk in chunks:
                if chunk.done:
                    if chunk.error is not None:
                        raise chunk.error
                    metadata = chunk.metadata
                    assert metadata is not None  # the router's done chunk always has it
                    return ModelAnswer(
                        "".join(parts), metadata.model, metadata.usage, tuple(calls)
                    )
                calls.extend(chunk.tool_calls)
                parts.append(chunk.content)
                if writer is not None and chunk.content:
                    model = chunk.metadata.model if chunk.metadata else request.model
                    writer(AnswerText(chunk.content, model))
        raise AssertionError("the router ended a stream without a done chunk")
