"""Runs an agent's graph for one completion and turns it into completion chunks.

The text the graph's nodes write is yielded as soon as it is written (LangGraph's
`stream_mode="custom"`), each chunk labelled with the answering model and the agent. The
last chunk carries the request's accounting: every model call the graph made, added up
(`accounting.merge_metadata`), with the steps, chunks and tool calls of the run. Closing the
stream (the client went away) closes the graph, which cancels the node running and the
model call inside it; each call's own accounting still reaches `on_accounted`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionChunk, CompletionMetadata, CompletionRequest
from routeur_grpc.errors import RouteurError
from routeur_grpc.services.agents.accounting import merge_metadata
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
        """
        started = time.monotonic()
        models = ModelCalls(
            self._models,
            request,
            deadline=caller.deadline,
            on_accounted=on_accounted,
            whole=whole,
        )
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
        events = graph.astream({}, stream_mode="custom", context=run)
        try:
            async with aclosing(events):
                async for event in events:
                    if isinstance(event, AnswerText):
                        if whole:
                            parts.append(event.text)
                            continue
                        shown = True
                        yield CompletionChunk(
                            content=event.text,
                            metadata=CompletionMetadata(model=event.model, agent=request.agent),
                        )
                    elif isinstance(event, AnswerRestarted):
                        if whole:
                            parts.clear()
                        elif shown:
                            yield CompletionChunk(
                                content=REVISION_SEPARATOR,
                                metadata=CompletionMetadata(
                                    model=run.trace.answer_model or request.model,
                                    agent=request.agent,
                                ),
                            )
        except RouteurError as error:
            if not shown:
                raise
            failure = error
        model = run.trace.answer_model or (
            models.records[-1].metadata.model if models.records else request.model
        )
        if parts:
            yield CompletionChunk(
                content="".join(parts),
                metadata=CompletionMetadata(model=model, agent=request.agent),
            )
        metadata = merge_metadata(
            [record.metadata for record in models.records],
            model=model,
            agent=request.agent,
            currency=self._currency,
            message_count=len(request.messages()),
            latency_s=time.monotonic() - started,
            steps=run.trace.steps,
            chunks=run.trace.chunks,
            tool_calls=run.trace.tool_calls,
        )
        yield CompletionChunk(done=True, error=failure, metadata=metadata)
