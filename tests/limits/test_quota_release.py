"""Every ending of a completion settles its reservation: done, failed before the answer,
failed part-way, cancelled by the client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import Unavailable
from routeur_grpc.limits.counters import Charge, Counter
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig

NOW = 1_800_000_000.0
TPM = 10_000
CALLER = Caller(owner_id="gina", request_id="r")
REQUEST = CompletionRequest(message="Bonjour", model="m", max_tokens=1000)


class _Models:
    async def get_model(self, name: str) -> ModelInfo:
        return ModelInfo(name=name, provider="openai")


def _quota(counters: InProcessCounters) -> CompletionQuota:
    return CompletionQuota(
        counters,
        QuotaConfig(LimitDefaults(tokens_per_minute=TPM)),
        _Models(),
        TokenCounter(),
        clock=lambda: NOW,
    )


async def _used(counters: InProcessCounters) -> float:
    probe = Counter("user:gina:tokens", TPM)
    verdict = await counters.reserve("probe", [Charge(probe, 0)], now=NOW, hold_ttl_s=60)
    return verdict.states[0].used


async def _words(n: int, end: CompletionChunk | None = None) -> AsyncIterator[CompletionChunk]:
    for _ in range(n):
        yield CompletionChunk(content=" word")
    if end is not None:
        yield end


async def test_a_finished_answer_settles_to_the_reported_usage():
    counters = InProcessCounters()
    hold = await _quota(counters).open(REQUEST, CALLER)
    assert await _used(counters) > 1000  # prompt + max_tokens reserved
    done = CompletionChunk(done=True, metadata=CompletionMetadata("m", usage=TokenUsage(9, 3)))
    assert len([c async for c in hold.guard(_words(3, done))]) == 4
    assert await _used(counters) == 12


async def test_a_failure_before_any_answer_costs_nothing():
    counters = InProcessCounters()
    hold = await _quota(counters).open(REQUEST, CALLER)

    async def failing() -> AsyncIterator[CompletionChunk]:
        raise Unavailable("upstream down")
        yield  # pragma: no cover

    with pytest.raises(Unavailable):
        async for _ in hold.guard(failing()):
            pass
    assert await _used(counters) == 0


async def test_a_failure_part_way_and_a_cancel_cost_what_was_delivered():
    counters = InProcessCounters()
    quota = _quota(counters)
    hold = await quota.open(REQUEST, CALLER)
    failed = CompletionChunk(done=True, error=Unavailable("dropped"))
    chunks = [c async for c in hold.guard(_words(2, failed))]
    assert chunks[-1].error is not None
    after_failure = await _used(counters)
    assert 2 < after_failure < 100  # the prompt and two words, not the reservation

    hold = await quota.open(REQUEST, CALLER)
    stream = hold.guard(_words(50))
    await anext(stream)
    await stream.aclose()  # the client went away after one chunk
    assert 1 < await _used(counters) - after_failure < 100
