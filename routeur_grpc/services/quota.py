"""Rate limits and budgets, applied to completions before the model is asked.

Peers charge tokens once a response is over, so the request that crosses a limit always
goes through. Here a request reserves, before the call, what it may use: one request, its
prompt's counted tokens plus the answer it may get (`max_tokens`, or a default), and the
estimated cost of both. As the answer streams, its tokens are counted; a stream that
outgrows its reservation asks for more room, and is stopped with a last chunk carrying the
refusal when there is none. When the answer ends (done, failed or cancelled) the
reservation is settled to what was really used: the provider's usage and the priced cost
when the router reports them, the tokens delivered otherwise.

Refusals are `RateLimited` / `BudgetExceeded` (RESOURCE_EXHAUSTED, with when to retry); the
state of the tightest limits goes to the response metadata through `limits.report`. Each
decision is also told to `on_decision(decision, limit_kind)` (the metrics, wired by the
application), so this module needs no observability import.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.domain.records import UsageTotal
from routeur_grpc.errors import RouteurError, Unavailable
from routeur_grpc.limits import report
from routeur_grpc.limits.counters import (
    Charge,
    Counter,
    CounterState,
    CounterStore,
    CountersUnavailable,
    Verdict,
)
from routeur_grpc.limits.policy import (
    CallerCounters,
    LimitDefaults,
    UserLimitsSource,
    caller_counters,
    period_days,
)
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.services.quota_refusals import refusal

log = logging.getLogger(__name__)

PER_MILLION = 1_000_000
ALLOWED, REFUSED = "allowed", "refused"

# Told each decision: ("allowed" | "refused", "requests" | "tokens" | "budget").
DecisionObserver = Callable[[str, str], None]


@dataclass(frozen=True, slots=True)
class QuotaConfig:
    """How limits are applied (from the settings)."""

    defaults: LimitDefaults
    reserve_tokens: int = 512  # answer tokens reserved when a request gives no max_tokens
    extend_tokens: int = 64  # room asked at a time by a stream that outgrows its reservation
    hold_ttl_s: float = 900.0  # a crashed instance's budget reservations free themselves after
    fail_open: bool = False  # when the counters cannot be reached: serve unlimited, or refuse
    admins_exempt: bool = False  # admins skip rate limits and budgets


class ModelDirectory(Protocol):
    """Prices and names of models (the router)."""

    async def get_model(self, name: str) -> ModelInfo: ...


class SpendingHistory(Protocol):
    """What an owner spent over days (the usage records)."""

    async def total(self, owner_id: str, *, first_day: date, last_day: date) -> UsageTotal: ...


class CompletionQuota:
    """Reserves a request's quota; its `QuotaHold` watches the answer and settles."""

    def __init__(
        self,
        counters: CounterStore,
        config: QuotaConfig,
        models: ModelDirectory,
        token_counter: TokenCounter,
        overrides: UserLimitsSource | None = None,
        spending: SpendingHistory | None = None,
        clock: Callable[[], float] = time.time,
        on_decision: DecisionObserver | None = None,
    ) -> None:
        self._counters = counters
        self._on_decision = on_decision
        self.config = config
        self._models = models
        self.token_counter = token_counter
        self._overrides = overrides
        self._spending = spending
        self._seeded: set[str] = set()
        self._clock = clock

    async def guard(
        self,
        request: CompletionRequest,
        caller: Caller,
        chunks: AsyncIterator[CompletionChunk],
    ) -> AsyncIterator[CompletionChunk]:
        """`chunks` (not started yet) under the caller's quota: reserved before the first is
        asked for (a refusal is raised then), watched as they stream, and settled however the
        stream ends, since the reservation is made inside this generator."""
        try:
            hold = await self.open(request, caller)
        except BaseException:
            await chunks.aclose()  # never started: nothing was asked upstream
            raise
        async with aclosing(hold.guard(chunks)) as guarded:
            async for chunk in guarded:
                yield chunk

    async def open(self, request: CompletionRequest, caller: Caller) -> QuotaHold:
        """Reserve the request's quota, or raise the refusal. The caller must run the hold's
        `guard`, which settles it (or `guard` above, which does both)."""
        if self.config.admins_exempt and caller.is_admin:
            return UNLIMITED
        overrides = await self._overrides.limits_of(caller.owner_id) if self._overrides else None
        now = self._clock()
        counters = caller_counters(caller, self.config.defaults, overrides, now)
        if counters.empty:
            return UNLIMITED
        info = await self._models.get_model(request.model)
        await self._seed_budgets(caller, counters, now)
        prompt = await self.token_counter.count_messages(info.name, request.messages())
        answer = request.max_tokens or self.config.reserve_tokens
        estimate = _Estimate(info, prompt)
        hold = QuotaHold(self, counters, uuid.uuid4().hex, estimate)
        charges = [Charge(c, 1) for c in counters.requests]
        charges += [Charge(c, prompt + answer) for c in counters.tokens]
        charges += [Charge(c, estimate.cost(answer)) for c in counters.budget]
        verdict = await self.reserve(hold.hold_id, charges, counters)
        if verdict is None:  # counters unreachable, failing open
            return UNLIMITED
        if not verdict.allowed:
            self.refused(verdict, counters)
            raise refusal(verdict, counters, prompt + answer, self.config.defaults.currency)
        if self._on_decision is not None:
            for kind, kind_counters in _by_kind(counters):
                if kind_counters:
                    self._on_decision(ALLOWED, kind)
        hold.reserved_tokens = prompt + answer
        hold.reserved_cost = estimate.cost(answer)
        return hold

    async def reserve(
        self, hold_id: str, charges: list[Charge], counters: CallerCounters
    ) -> Verdict | None:
        """Reserve and report; None when the counters are unreachable and limits fail open."""
        try:
            verdict = await self._counters.reserve(
                hold_id, charges, now=self._clock(), hold_ttl_s=self.config.hold_ttl_s
            )
        except CountersUnavailable as error:
            if self.config.fail_open:
                log.warning("rate limits not applied: counters unreachable (failing open)")
                return None
            raise Unavailable(
                f"{error} Requests are refused until they can be checked; retry shortly.",
                reason="RATE_LIMITER_UNAVAILABLE",
                retry_after_s=1.0,
            ) from None
        states = verdict.states
        if verdict.refused is not None:  # no room left on it, until retry_after
            refused = verdict.refused
            states = (CounterState(refused, refused.limit, verdict.retry_after_s),)
        report.record(states, _kinds(counters))
        return verdict

    def refused(self, verdict: Verdict, counters: CallerCounters) -> None:
        """Tell the observer about a refusal, with the kind of the limit that had no room."""
        if self._on_decision is None:
            return
        kind = next(
            (k for k, kind_counters in _by_kind(counters) if verdict.refused in kind_counters),
            "requests",
        )
        self._on_decision(REFUSED, kind)

    async def _seed_budgets(self, caller: Caller, counters: CallerCounters, now: float) -> None:
        """The first time this instance sees a budget period, start it from the spending
        the usage records hold (so a restart does not hand out a fresh budget)."""
        if self._spending is None:
            return
        for counter in counters.budget:
            if counter.key in self._seeded:
                continue
            first, last = period_days(self.config.defaults.budget_period, now)
            total = await self._spending.total(caller.owner_id, first_day=first, last_day=last)
            try:
                await self._counters.seed(counter, total.cost)
            except CountersUnavailable:
                continue  # reserve will meet the same problem and decide
            self._seeded.add(counter.key)

    async def settle(self, hold_id: str, charges: list[Charge]) -> None:
        try:
            await self._counters.settle(hold_id, charges, now=self._clock())
        except CountersUnavailable:
            log.warning("a reservation could not be settled; it expires by itself")


class _Estimate:
    """Prompt tokens and the model's price, to turn token counts into a cost."""

    def __init__(self, info: ModelInfo, prompt_tokens: int) -> None:
        self.model = info.name
        self.prompt_tokens = prompt_tokens
        price = info.price
        self._input = price.input_per_million / PER_MILLION if price else 0.0
        self._output = price.output_per_million / PER_MILLION if price else 0.0

    def cost(self, answer_tokens: int) -> float:
        return self.prompt_tokens * self._input + answer_tokens * self._output

    def output_cost(self, tokens: int) -> float:
        return tokens * self._output


class QuotaHold:
    """The reservation of one request, kept up to date as its answer streams."""

    def __init__(
        self,
        quota: CompletionQuota | None,
        counters: CallerCounters,
        hold_id: str,
        estimate: _Estimate | None,
    ) -> None:
        self._quota = quota
        self._counters = counters
        self.hold_id = hold_id
        self._estimate = estimate
        self.reserved_tokens = 0
        self.reserved_cost = 0.0

    async def guard(self, chunks: AsyncIterator[CompletionChunk]) -> AsyncIterator[CompletionChunk]:
        """`chunks`, counted; stopped with a refusal when the quota runs out mid-stream;
        the reservation settled however the stream ends."""
        if self._quota is None or self._estimate is None:
            async with aclosing(chunks):
                async for chunk in chunks:
                    yield chunk
            return
        estimate = self._estimate
        delivered = 0
        final: CompletionChunk | None = None
        try:
            async with aclosing(chunks):
                async for chunk in chunks:
                    if chunk.done:
                        final = chunk
                        yield chunk
                        continue
                    counter = self._quota.token_counter
                    tokens = await counter.count_text(estimate.model, chunk.content)
                    refusal = await self._make_room(estimate.prompt_tokens + delivered + tokens)
                    if refusal is not None:
                        await chunks.aclose()  # closes the upstream request at once
                        # Who answers (and, for a fallback, who was asked), as pieces say.
                        label = chunk.metadata or CompletionMetadata(model=estimate.model)
                        used = TokenUsage(estimate.prompt_tokens, delivered)
                        final = CompletionChunk(
                            done=True,
                            error=refusal,
                            metadata=replace(
                                label, usage=used, usage_by_model={label.model: used}
                            ),
                        )
                        yield final
                        return
                    delivered += tokens
                    yield chunk
        finally:
            await self._settle(final, delivered)

    async def _make_room(self, tokens_needed: int) -> RouteurError | None:
        """Grow the reservation to cover `tokens_needed`; the refusal if there is no room."""
        assert self._quota is not None and self._estimate is not None
        cost_needed = self._estimate.cost(tokens_needed - self._estimate.prompt_tokens)
        if tokens_needed <= self.reserved_tokens and cost_needed <= self.reserved_cost:
            return None
        step = max(tokens_needed - self.reserved_tokens, self._quota.config.extend_tokens)
        step_cost = max(cost_needed - self.reserved_cost, self._estimate.output_cost(step))
        charges = [Charge(c, step) for c in self._counters.tokens]
        charges += [Charge(c, step_cost) for c in self._counters.budget]
        try:
            verdict = await self._quota.reserve(self.hold_id, charges, self._counters)
        except Unavailable as error:
            return error
        if verdict is None:
            return None
        if not verdict.allowed:
            self._quota.refused(verdict, self._counters)
            return refusal(
                verdict, self._counters, step, self._quota.config.defaults.currency, mid_stream=True
            )
        self.reserved_tokens += step
        self.reserved_cost += step_cost
        return None

    async def _settle(self, final: CompletionChunk | None, delivered: int) -> None:
        assert self._quota is not None and self._estimate is not None
        metadata = final.metadata if final is not None and final.error is None else None
        if metadata is not None:
            tokens = metadata.usage.total_tokens
            cost = (
                metadata.pricing.total_cost
                if metadata.pricing is not None
                else self._estimate.cost(metadata.usage.completion_tokens)
            )
        elif delivered:
            tokens = self._estimate.prompt_tokens + delivered
            cost = self._estimate.cost(delivered)
        else:  # failed before any answer: not billed
            tokens, cost = 0, 0.0
        charges = [Charge(c, tokens) for c in self._counters.tokens]
        charges += [Charge(c, cost) for c in self._counters.budget]
        await self._quota.settle(self.hold_id, charges)


UNLIMITED = QuotaHold(None, CallerCounters((), (), ()), "", None)


def _by_kind(counters: CallerCounters) -> tuple[tuple[str, tuple[Counter, ...]], ...]:
    return (
        ("requests", counters.requests),
        ("tokens", counters.tokens),
        ("budget", counters.budget),
    )


def _kinds(counters: CallerCounters) -> dict[str, str]:
    kinds = {c.key: "requests" for c in counters.requests}
    kinds.update({c.key: "tokens" for c in counters.tokens})
    return kinds
