"""Completion: validate a request, have the router answer it, collect it when asked to.

The router does the model work; this service owns what a completion means for a caller:
the rules a request must follow, the saved conversation it continues, the usage recorded,
the response cache, the agent that answers, and turning a stream into a whole answer.

A request names an agent (`agent`; V2 when it names none), whose graph asks the model; a
`direct` request (OpenAI's chat API, whose callers expect the raw model) is the model
alone: no agent, no system prompt of ours.

A saved conversation changes only when a turn is complete: its history is read before the
model is asked, and the user's message and the answer are appended together once the
answer has finished. A request refused (validation, unknown or unconfigured model), failed
(before or after its first token) or cancelled leaves the conversation as it was; the
caller still has its message and may send it again.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionRequest,
    CompletionResult,
    Equivalences,
    Pricing,
    TokenUsage,
    ToolCall,
)
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.routing.completion_record import CompletionRecord
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.coalescing import coalesced
from routeur_grpc.services.completion_rules import CompletionLimits, validate_request
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.quota import CompletionQuota
from routeur_grpc.services.response_cache import ResponseCache, cache_key, is_cacheable
from routeur_grpc.services.usage import UsageRecorder


class CompletionService:
    """Answers completion requests, whole or streamed."""

    def __init__(
        self,
        router: ModelRouter,
        limits: CompletionLimits,
        conversations: ConversationService,
        usage: UsageRecorder,
        cache: ResponseCache[CompletionResult] | None = None,
        quota: CompletionQuota | None = None,
        *,
        default_model: str = "",
        agents: AgentRunner | None = None,
    ) -> None:
        """`default_model` answers requests that name none (empty: such requests are
        refused). Without `agents`, the model answers alone and a request naming an agent
        is refused. `quota`: rate limits and budgets (None: unlimited)."""
        self._router = router
        self._agents = agents
        self._cache = cache
        self._limits = limits
        self._conversations = conversations
        self._usage = usage
        self._quota = quota
        self._default_model = default_model

    async def stream(
        self, request: CompletionRequest, caller: Caller, *, direct: bool = False
    ) -> AsyncIterator[CompletionChunk]:
        """The answer as it is generated; the last chunk is `done` (see `ModelRouter.stream`).

        `direct`: the model answers alone, whatever the agents configured here.
        """
        request = self._with_default_model(request)
        self.validate(request)
        request = self._with_agent(request, direct)
        answer = self._answer(request, caller, prefer_unary=False)
        async with aclosing(coalesced(answer)) as chunks:
            async for chunk in chunks:
                yield chunk

    async def complete(
        self, request: CompletionRequest, caller: Caller, *, direct: bool = False
    ) -> CompletionResult:
        """The whole answer. A failure part-way raises: nobody has seen the first part.

        With a response cache, a deterministic request (temperature 0, no stored
        conversation, no project documents, an agent whose answer does not depend on the
        moment) asked again by the same caller gets the stored answer. `direct`: the model
        answers alone, whatever the agents configured here.
        """
        request = self._with_default_model(request)
        self.validate(request)
        request = self._with_agent(request, direct)
        started = time.monotonic()
        key = None
        repeatable = not request.agent or (
            self._agents is not None and self._agents.is_repeatable(request)
        )
        if self._cache is not None and is_cacheable(request) and repeatable:
            key = cache_key(caller.owner_id, request)
            cached = self._cache.get(key)
            if cached is not None:
                return _cache_hit(cached, time.monotonic() - started)
        result = await self._complete(request, caller)
        if key is not None and self._cache is not None:
            self._cache.put(key, result)
        return result

    async def _complete(self, request: CompletionRequest, caller: Caller) -> CompletionResult:
        parts: list[str] = []
        calls: list[ToolCall] = []
        async with aclosing(self._answer(request, caller, prefer_unary=True)) as chunks:
            async for chunk in chunks:
                if chunk.error is not None:
                    raise chunk.error
                if chunk.done and chunk.metadata is not None:
                    metadata = chunk.metadata
                    return CompletionResult(
                        response="".join(parts),
                        model=metadata.model,
                        agent=request.agent,
                        usage=metadata.usage,
                        metadata=metadata,
                        tool_calls=tuple(calls),
                    )
                parts.append(chunk.content)
                calls.extend(chunk.tool_calls)
        raise AssertionError("the router ended a stream without a done chunk")

    async def _answer(
        self, request: CompletionRequest, caller: Caller, *, prefer_unary: bool
    ) -> AsyncIterator[CompletionChunk]:
        """The router's chunks for a valid request, with its conversation and usage kept."""
        conversation_id = request.conversation_id
        if conversation_id:
            stored = await self._conversations.history(caller.owner_id, conversation_id)
            request = replace(request, history=stored + request.history)

        def record(outcome: CompletionRecord) -> None:
            # Every ending that used tokens is recorded, a cancelled stream's included.
            if outcome.outcome == "completed" or outcome.metadata.usage.total_tokens:
                self._usage.record_soon(caller, outcome.provider, outcome.metadata)

        answer: list[str] = []
        if request.agent and self._agents is not None:
            chunks = self._agents.stream(request, caller, on_accounted=record, whole=prefer_unary)
        else:
            chunks = self._router.stream(
                request,
                deadline=caller.deadline,
                on_accounted=record,
                prefer_unary=prefer_unary,
                allow_fallback=request.allow_fallback,
            )
        if self._quota is not None:  # rate limits and budget, reserved before the model runs
            chunks = self._quota.guard(request, caller, chunks)
        async with aclosing(chunks):
            async for chunk in chunks:
                answer.append(chunk.content)
                if chunk.done and conversation_id and chunk.error is None and chunk.metadata:
                    # The turn is complete: both messages are saved, never one alone.
                    await self._conversations.append(
                        caller.owner_id, conversation_id, "user", request.message
                    )
                    await self._conversations.append(
                        caller.owner_id, conversation_id, "assistant", "".join(answer),
                        model=chunk.metadata.model,
                    )
                yield chunk

    def _with_default_model(self, request: CompletionRequest) -> CompletionRequest:
        if not request.model.strip() and self._default_model:
            return replace(request, model=self._default_model)
        return request

    def validate(self, request: CompletionRequest) -> None:
        """Raise `InvalidArgument` naming the first field that is wrong, and why."""
        validate_request(request, self._limits)

    def _with_agent(self, request: CompletionRequest, direct: bool) -> CompletionRequest:
        """The request with its agent resolved (V2 when it names none; none when `direct`)."""
        if self._agents is not None and not direct:
            return self._agents.resolve(request)
        if request.agent or request.project_id:
            raise InvalidArgument(
                "Agents are not used here: leave `agent` and `project_id` empty."
            )
        return request


def _cache_hit(cached: CompletionResult, latency_s: float) -> CompletionResult:
    """A cached answer as served now: marked, its own latency, no new tokens or cost."""
    before = cached.metadata
    currency = before.pricing.currency if before.pricing is not None else ""
    metadata = replace(
        before,
        cache_hit=True,
        latency_s=round(latency_s, 6),
        attempts=(),
        usage=TokenUsage(),
        usage_by_model={},
        pricing=Pricing(currency=currency),
        emissions_kg_co2eq=0.0,
        energy_kwh=0.0,
        equivalences=Equivalences(0.0, 0.0, 0.0, 0.0),
    )
    return replace(cached, usage=TokenUsage(), metadata=metadata)
