"""The quota around the router's stream-and-account flow: every ending of a completion
settles its reservation (done, failed before or after the first token, cancelled, refused
by the caller's own limits), and a caller's refusal never counts against a deployment nor
touches the saved conversation.

The router, completion service, counters and SQLite store are the real ones; the provider
is a provider of our own interface that plays a script (it stands in for no SDK).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionRequest
from routeur_grpc.errors import RateLimited, RouteurError, Unavailable
from routeur_grpc.limits.counters import Charge, Counter
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    UsageReport,
)
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.storage import open_store

NOW = 1_800_000_000.0
MODEL = "gpt-4o"
CALLER = Caller(owner_id="gina", request_id="r")


class Scripted:
    """Fails with `failure` before the first piece, or after `fail_after` pieces."""

    name = "openai"

    def __init__(
        self,
        pieces: list[str],
        *,
        failure: RouteurError | None = None,
        fail_after: int | None = None,
    ) -> None:
        self.pieces = pieces
        self.failure = failure
        self.fail_after = fail_after
        self.calls = 0
        self.closed = 0

    async def list_models(self) -> list[ProviderModel]:
        return []

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        self.calls += 1
        try:
            if self.failure is not None and self.fail_after is None:
                raise self.failure
            for index, piece in enumerate(self.pieces):
                if index == self.fail_after:
                    raise Unavailable("The upstream went away.")
                yield TextDelta(piece)
            yield UsageReport(5, len(self.pieces))
        finally:
            self.closed += 1

    async def aclose(self) -> None:
        pass


@dataclass
class Setup:
    service: CompletionService
    router: ModelRouter
    counters: InProcessCounters
    conversations: ConversationService
    tpm: int

    async def used(self) -> float:
        probe = Counter("user:gina:tokens", self.tpm)
        verdict = await self.counters.reserve("probe", [Charge(probe, 0)], now=NOW, hold_ttl_s=60)
        return verdict.states[0].used

    def circuits(self) -> set[str]:
        return {state for states in self.router.circuit_states().values() for state in states.values()}


@pytest.fixture
async def build(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = await open_store(
        SimpleNamespace(store="sqlite", data_dir=tmp_path, mongodb_uri="", mongodb_database="")
    )
    usage = UsageRecorder(store.usage, "EUR")

    async def make(provider: Scripted, tpm: int = 100_000) -> Setup:
        router = ModelRouter(
            [provider],
            {"openai": "openai"},
            RouterConfig(retry=RetryPolicy(max_attempts=1), breaker_failure_threshold=1),
        )
        await router.start()
        counters = InProcessCounters()
        quota = CompletionQuota(
            counters,
            QuotaConfig(LimitDefaults(tokens_per_minute=tpm), extend_tokens=1),
            router,
            TokenCounter(),
            clock=lambda: NOW,
        )
        conversations = ConversationService(store.conversations)
        service = CompletionService(
            router, CompletionLimits(), conversations, usage, quota=quota
        )
        return Setup(service, router, counters, conversations, tpm)

    yield make
    await usage.aclose()
    await store.close()


def ask(conversation_id: str = "", **fields: object) -> CompletionRequest:
    return CompletionRequest(
        message="Bonjour", model=MODEL, conversation_id=conversation_id, **fields  # type: ignore[arg-type]
    )


async def test_a_finished_answer_settles_to_the_usage_the_router_reports(build) -> None:  # type: ignore[no-untyped-def]
    setup = await build(Scripted(["a", "b", "c"]))
    *_, last = [c async for c in setup.service.stream(ask(max_tokens=1000), CALLER)]
    assert last.error is None
    assert await setup.used() == last.metadata.usage.total_tokens == 8


async def test_a_failure_before_the_first_token_costs_nothing_and_changes_nothing(build) -> None:  # type: ignore[no-untyped-def]
    setup = await build(Scripted(["a"], failure=Unavailable("down")))
    conversation = await setup.conversations.create("gina", "t")
    with pytest.raises(Unavailable):
        await setup.service.complete(ask(conversation.conversation_id), CALLER)
    assert await setup.used() == 0
    assert await setup.conversations.history("gina", conversation.conversation_id) == ()


async def test_a_failure_part_way_costs_what_was_delivered(build) -> None:  # type: ignore[no-untyped-def]
    setup = await build(Scripted(["a", "b", "c", "d"], fail_after=2))
    *_, last = [c async for c in setup.service.stream(ask(max_tokens=1000), CALLER)]
    assert isinstance(last.error, Unavailable)
    assert 0 < await setup.used() < 100  # the prompt and two pieces, not the reservation


async def test_a_cancelled_stream_is_settled_and_closes_the_upstream(build) -> None:  # type: ignore[no-untyped-def]
    provider = Scripted([" word"] * 50)
    setup = await build(provider)
    stream = setup.service.stream(ask(max_tokens=1000), CALLER)
    await anext(stream)
    await stream.aclose()  # the client went away after one piece
    await asyncio.sleep(0)
    assert 0 < await setup.used() < 100
    assert provider.closed == 1


async def test_a_refusal_before_the_call_never_reaches_or_blames_the_provider(build) -> None:  # type: ignore[no-untyped-def]
    provider = Scripted(["a"])
    setup = await build(provider, tpm=10)
    conversation = await setup.conversations.create("gina", "t")
    for _ in range(3):
        with pytest.raises(RateLimited):
            await setup.service.complete(ask(conversation.conversation_id), CALLER)
    assert provider.calls == 0
    assert setup.circuits() == {"closed"}
    assert await setup.used() == 0
    assert await setup.conversations.history("gina", conversation.conversation_id) == ()


async def test_a_refusal_mid_stream_ends_the_answer_without_blaming_the_provider(build) -> None:  # type: ignore[no-untyped-def]
    provider = Scripted([" word"] * 200)
    setup = await build(provider, tpm=40)
    conversation = await setup.conversations.create("gina", "t")
    request = ask(conversation.conversation_id, max_tokens=5)
    *pieces, last = [c async for c in setup.service.stream(request, CALLER)]
    assert isinstance(last.error, RateLimited) and last.done
    assert len(pieces) < 200
    assert provider.closed == provider.calls == 1, "the upstream request closed at once"
    assert setup.circuits() == {"closed"}, "a caller's limit is not a deployment failure"
    assert await setup.used() <= 40
    assert await setup.conversations.history("gina", conversation.conversation_id) == ()


async def test_a_refusal_mid_stream_still_says_which_model_answered_for_which(build) -> None:  # type: ignore[no-untyped-def]
    setup = await build(Scripted([" word"] * 200), tpm=40)
    request = CompletionRequest(
        message="Bonjour", model="claude-sonnet-4-5", max_tokens=5, allow_fallback=True
    )
    *_, last = [c async for c in setup.service.stream(request, CALLER)]
    assert isinstance(last.error, RateLimited)
    assert last.metadata.model == "gpt-4o"
    assert last.metadata.requested_model == "claude-sonnet-4-5"
    assert last.metadata.fallback_reason == "MODEL_NOT_CONFIGURED"
    assert set(last.metadata.usage_by_model) == {"gpt-4o"}
