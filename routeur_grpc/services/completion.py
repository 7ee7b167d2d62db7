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
from dataclasses import dataclass, replace

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    MAX_STOP_SEQUENCES,
    ROLES,
    CompletionChunk,
    CompletionRequest,
    CompletionResult,
    Equivalences,
    Pricing,
    Sampling,
    TokenUsage,
)
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.routing.completion_record import CompletionRecord
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.agents.runner import AgentRunner
from routeur_grpc.services.coalescing import coalesced
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.quota import CompletionQuota
from routeur_grpc.services.response_cache import ResponseCache, cache_key, is_cacheable
from routeur_grpc.services.usage import UsageRecorder

MAX_TEMPERATURE = 2.0
MAX_HISTORY_MESSAGES = 1000
MAX_SOURCES = 1000
MAX_STOP_CHARS = 500


@dataclass(frozen=True, slots=True)
class CompletionLimits:
    """Bounds on what a request may ask for."""

    max_message_chars: int = 200_000
    max_tokens: int = 32_768



def validate_sampling(sampling: Sampling) -> None:
    """Raise `InvalidArgument` for the first sampling parameter out of its range."""
    if sampling.top_p is not None and not 0 <= sampling.top_p <= 1:
        raise InvalidArgument(f"`top_p` is {sampling.top_p}; it must be between 0 and 1.")
    for name in ("presence_penalty", "frequency_penalty"):
        value = getattr(sampling, name)
        if value is not None and not -2 <= value <= 2:
            raise InvalidArgument(f"`{name}` is {value}; it must be between -2 and 2.")
    if len(sampling.stop) > MAX_STOP_SEQUENCES:
        raise InvalidArgument(
            f"`stop` has {len(sampling.stop)} sequences; the limit is {MAX_STOP_SEQUENCES}."
        )
    for index, stop in enumerate(sampling.stop):
        if not stop:
            raise InvalidArgument(f"`stop[{index}]` is empty: a stop sequence needs text.")
        if len(stop) > MAX_STOP_CHARS:
            raise InvalidArgument(
                f"`stop[{index}]` is {len(stop)} characters long; the limit is {MAX_STOP_CHARS}."
            )

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
                    )
                parts.append(chunk.content)
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
        limit = self._limits.max_message_chars
        if not request.message.strip():
            raise InvalidArgument("`message` is empty: give the text to answer.")
        if len(request.message) > limit:
            raise InvalidArgument(
                f"`message` is {len(request.message)} characters long; the limit is {limit}."
            )
        if not request.model.strip():
            raise InvalidArgument("`model` is empty: name a model from ListModels.")
        if request.temperature is not None and not 0 <= request.temperature <= MAX_TEMPERATURE:
            raise InvalidArgument(
                f"`temperature` is {request.temperature}; it must be between 0 and "
                f"{MAX_TEMPERATURE}."
            )
        if request.max_tokens is not None and not 1 <= request.max_tokens <= self._limits.max_tokens:
            raise InvalidArgument(
                f"`max_tokens` is {request.max_tokens}; it must be between 1 and "
                f"{self._limits.max_tokens}."
            )
        validate_sampling(request.sampling)
        if len(request.history) > MAX_HISTORY_MESSAGES:
            raise InvalidArgument(
                f"`conversation_history` has {len(request.history)} messages; the limit is "
                f"{MAX_HISTORY_MESSAGES}."
            )
        for index, turn in enumerate(request.history):
            if turn.role not in ROLES:
                raise InvalidArgument(
                    f"`conversation_history[{index}].role` is {turn.role!r}; use one of "
                    f"{', '.join(sorted(ROLES))}."
                )
            if len(turn.content) > limit:
                raise InvalidArgument(
                    f"`conversation_history[{index}].content` is longer than {limit} characters."
                )
        if len(request.sources) > MAX_SOURCES:
            raise InvalidArgument(f"`sources` lists more than {MAX_SOURCES} documents.")
        if request.sources and not request.project_id:
            raise InvalidArgument(
                "`sources` is given without `project_id`: name the project the documents "
                "belong to."
            )

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
