"""Runs an agent's graph for one completion and turns it into completion chunks.

The text the graph's nodes write is yielded as soon as it is written (LangGraph's
`stream_mode="custom"`), each chunk labelled with the answering model and the agent (and,
for a fallback's text, who was asked and why). The last chunk carries the request's
accounting: every model call of the graph books its tokens in one ledger (the router's
`ledger=`), so the latest call's accounting covers them all; the run adds its own latency,
its steps, chunks and tool calls, and every upstream attempt. That accounting reaches
`on_accounted` once, however the run ends: closing the stream (the client went away)
closes the graph, which cancels the node running and the model call inside it.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    Pricing,
)
from routeur_grpc.errors import RouteurError
from routeur_grpc.routing.completion_record import CompletionRecord, Outcome
from routeur_grpc.services.agents.events import AnswerRestarted, AnswerText
from routeur_grpc.services.agents.model_calls import Accounted, ModelCalls, ModelStream
from routeur_grpc.services.agents.registry import AgentRegistry
from routeur_grpc.services.agents.run import AgentRun, DocumentSearch

#: What separates a streamed answer from its revision.
REVISION_SEPARATOR = "\n\n"


class AgentRunner:
    """Answers completions through the agent each one names."""

    def __init__(
        self,
        registry: AgentRegistry,
        models: ModelStream,
        *,
        currency: str,
        documents: DocumentSearch | None = None,
        provider_of: Callable[[str], Awaitable[str]] | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._models = models
        self._currency = currency
        self._documents = documents
        self._provider_of = provider_of
        self._now = now

    @property
    def registry(self) -> AgentRegistry:
        return self._registry

    def resolve(self, request: CompletionRequest) -> CompletionRequest:
        """The request with its agent's canonical type (the default when it names none).

        InvalidArgument for an agent that is unknown or unavailable here.
        """
        agent = self._registry.resolve(request.agent)
        if agent == request.agent:
            return request
        return replace(request, agent=agent)

    def is_repeatable(self, request: CompletionRequest) -> bool:
        """Whether a (resolved) request's answer may be reused: not when its agent's answer
        depends on the moment, nor when it reads project documents, which may change."""
        return self._registry.is_repeatable(request.agent) and not request.project_id

    async def stream(
        self,
        request: CompletionRequest,
        caller: Caller,
        *,
        on_accounted: Accounted | None = None,
        whole: bool = False,
    ) -> AsyncIterator[CompletionChunk]:
        """Content chunks as the graph produces them, then one `done` chunk.

        `request.agent` must have been resolved. With `whole`, the caller wants the answer
        in one piece: the text comes as one chunk before the `done` one, and a revision
        replaces the first answer instead of following it. An error before any text is
        raised; after it, it ends the stream as the `error` of the last chunk.
        `on_accounted` receives the request's accounting once, however it ends.
        """
        started = time.monotonic()
        models = ModelCalls(self._models, request, deadline=caller.deadline, whole=whole)
        run = AgentRun(
            request=request,
            owner_id=caller.owner_id,
            models=models,
            documents=self._documents,
            now=self._now(),
            provider_of=self._provider_of,
        )
        graph = self._registry.graph(request.agent)
        parts: list[str] = []
        shown = False
        failure: RouteurError | None = None
        outcome: Outcome = "cancelled"
        accounted = False
        label = CompletionMetadata(model=request.model, agent=request.agent)

        def account(metadata: CompletionMetadata | None = None) -> None:
            """Hand the request's accounting to `on_accounted`, once every call has
            accounted (`metadata`, when given, is what the client was sent)."""
            nonlocal accounted
            accounted = True
            ending, error, seen = outcome, failure, models.last

            def close(latest: CompletionRecord | None) -> None:
                if on_accounted is None or latest is None:  # no model call: nothing used
                    return
                if metadata is None or latest is not seen:
                    final = self._metadata(request, run, models, started)
                else:
                    final = metadata
                on_accounted(CompletionRecord(ending, request.model, latest.provider, final, error))

            models.settle(close)

        events = graph.astream({}, stream_mode="custom", context=run)
        try:
            try:
                async with aclosing(events):
                    async for event in events:
                        if isinstance(event, AnswerText):
                            label = CompletionMetadata(
                                model=event.model,
                                agent=request.agent,
                                requested_model=event.requested_model,
                                fallback_reason=event.fallback_reason,
                            )
                            if whole:
                                parts.append(event.text)
                                continue
                            shown = True
                            yield CompletionChunk(content=event.text, metadata=label)
                        elif isinstance(event, AnswerRestarted):
                            if whole:
                                parts.clear()
                            elif shown:
                                yield CompletionChunk(content=REVISION_SEPARATOR, metadata=label)
            except RouteurError as error:
                failure = error
                if not shown:
                    outcome = "failed"
                    raise
            except Exception:
                outcome = "failed"
                raise
            if parts:
                yield CompletionChunk(content="".join(parts), metadata=label)
            outcome = "failed" if failure is not None else "completed"
            metadata = self._metadata(request, run, models, started)
            account(metadata)
            yield CompletionChunk(done=True, error=failure, metadata=metadata)
        finally:
            if not accounted:
                account()

    def _metadata(
        self, request: CompletionRequest, run: AgentRun, models: ModelCalls, started: float
    ) -> CompletionMetadata:
        """The request's accounting: the latest call's (it covers every call, one ledger),
        labelled with the answering model and the agent, with the run's latency, steps,
        chunks, tool calls and every upstream attempt."""
        last = models.last.metadata if models.last is not None else None
        model = run.trace.answer_model or (last.model if last is not None else request.model)
        base = last or CompletionMetadata(model=model, pricing=Pricing(self._currency))
        return replace(
            base,
            model=model,
            agent=request.agent,
            message_count=len(request.messages()),
            latency_s=round(time.monotonic() - started, 6),
            attempts=tuple(models.attempts),
            steps=tuple(run.trace.steps),
            chunks=tuple(run.trace.chunks),
            tool_calls=tuple(run.trace.tool_calls),
        )
