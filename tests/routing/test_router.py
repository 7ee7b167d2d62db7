"""The router without the transport: scripted providers of our own interface, a fake clock.

`ScriptedProvider` stands in for no SDK (the SDKs are tested against real HTTP fakes in
test_providers.py and test_end_to_end.py); it plays failures and pieces on cue.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from routeur_grpc.domain.completion import CompletionChunk, CompletionRequest, TokenUsage
from routeur_grpc.errors import DeadlineExceeded, InvalidArgument, RouteurError, Unavailable
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatRequest,
    ProviderModel,
    TextDelta,
    UsageReport,
)
from routeur_grpc.providers.unary import ChatCompletion
from routeur_grpc.routing.completion_record import CompletionRecord
from routeur_grpc.routing.retry import RetryPolicy
from routeur_grpc.routing.router import ModelRouter, RouterConfig


class FakeClock:
    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


class ScriptedProvider:
    """Fails with `failures` first, then streams `pieces` (pausing `delay_s` before each)."""

    def __init__(self, name: str, pieces: list[str], failures: list[RouteurError] | None = None,
                 delay_s: float = 0.0, models: list[str] | None = None) -> None:
        self._name = name
        self.pieces = pieces
        self.failures = list(failures or [])
        self.delay_s = delay_s
        self.models = models or []
        self.calls: list[ChatRequest] = []
        self.unary_calls = 0
        self.closed = 0

    @property
    def name(self) -> str:
        return self._name

    async def list_models(self) -> list[ProviderModel]:
        return [ProviderModel(name=m, context_window=4096) for m in self.models]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        self.calls.append(request)
        try:
            if self.failures:
                raise self.failures.pop(0)
            for piece in self.pieces:
                if self.delay_s:
                    await asyncio.sleep(self.delay_s)
                yield TextDelta(piece)
            yield UsageReport(5, len(self.pieces))
        finally:
            self.closed += 1

    async def complete_chat(self, request: ChatRequest) -> ChatCompletion:
        self.unary_calls += 1
        return ChatCompletion("".join(self.pieces), UsageReport(5, len(self.pieces)))

    async def aclose(self) -> None:
        pass


def router_over(*providers: ScriptedProvider, types: dict[str, str], **config: object) -> tuple[ModelRouter, list[CompletionRecord], FakeClock]:
    records: list[CompletionRecord] = []
    clock = FakeClock()
    router = ModelRouter(
        list(providers),
        types,
        RouterConfig(retry=RetryPolicy(max_attempts=3), **config),  # type: ignore[arg-type]
        clock=clock,
        rng=random.Random(0),
        on_accounted=records.append,
    )
    return router, records, clock


async def chunks_of(router: ModelRouter, model: str, **kwargs: object) -> list[CompletionChunk]:
    return [c async for c in router.stream(CompletionRequest(message="hi", model=model), **kwargs)]  # type: ignore[arg-type]


async def test_retries_wait_per_the_policy_then_succeed() -> None:
    openai = ScriptedProvider("openai", ["a", "b"], [Unavailable("x"), Unavailable("y")])
    router, records, clock = router_over(openai, types={"openai": "openai"})
    *pieces, last = await chunks_of(router, "gpt-4o")
    assert [p.content for p in pieces] == ["a", "b"]
    assert len(openai.calls) == 3 and openai.closed == 3
    assert len(clock.sleeps) == 2 and clock.sleeps[0] <= 1 and clock.sleeps[1] <= 2
    assert last.metadata.usage == TokenUsage(5, 2)
    assert records[-1].outcome == "completed" and records[-1].provider == "openai"


async def test_a_second_deployment_takes_over_without_waiting() -> None:
    first = ScriptedProvider("openai-a", ["a"], [Unavailable("down")])
    second = ScriptedProvider("openai-b", ["b"], [Unavailable("down")])
    router, _, clock = router_over(first, second, types={"openai-a": "openai", "openai-b": "openai"})
    *_, last = await chunks_of(router, "gpt-4o")
    assert last.error is None
    # A fresh deployment is tried at once; only the third attempt, on a deployment that
    # already failed, waits for the backoff.
    assert len(clock.sleeps) == 1
    assert len(first.calls) + len(second.calls) == 3


async def test_the_callers_mistakes_are_neither_retried_nor_replaced() -> None:
    openai = ScriptedProvider("openai", ["a"], [InvalidArgument("bad temperature")])
    mistral = ScriptedProvider("mistral", ["m"])
    router, records, _ = router_over(openai, mistral, types={"openai": "openai", "mistral": "mistral"})
    with pytest.raises(InvalidArgument):
        await chunks_of(router, "gpt-4o")
    assert len(openai.calls) == 1 and mistral.calls == []
    assert records[-1].outcome == "failed"


async def test_the_fallback_gets_its_own_upstream_model_id(tmp_path: Path) -> None:
    override = tmp_path / "catalog.toml"
    # claude-3-5-sonnet's upstream id differs from its catalog name.
    override.write_text('[fallbacks]\n"gpt-4o" = ["claude-3-5-sonnet"]\n', encoding="utf-8")
    openai = ScriptedProvider("openai", [], [Unavailable("down")] * 3)
    anthropic = ScriptedProvider("anthropic", ["c"])
    router, _, _ = router_over(
        openai, anthropic, types={"openai": "openai", "anthropic": "anthropic"},
        catalog_file=override,
    )
    *_, last = await chunks_of(router, "gpt-4o")
    assert anthropic.calls[0].model == "claude-3-5-sonnet-20241022"
    assert last.metadata.model == "claude-3-5-sonnet"
    assert set(last.metadata.usage_by_model) == {"gpt-4o", "claude-3-5-sonnet"}


async def test_deadline_in_the_middle_of_a_stream_ends_it_with_an_error_chunk() -> None:
    slow = ScriptedProvider("openai", ["one", " two", " three", " four"], delay_s=0.2)
    router, records, _ = router_over(slow, types={"openai": "openai"})
    chunks = await chunks_of(router, "gpt-4o", deadline=time.monotonic() + 0.5)
    *pieces, last = chunks
    assert 1 <= len(pieces) < 4
    assert isinstance(last.error, DeadlineExceeded)
    assert slow.closed == 1
    assert last.metadata.usage.completion_tokens == len(pieces)  # counted locally
    assert records[-1].outcome == "failed"


async def test_cancelled_streams_are_accounted_through_the_per_call_callback() -> None:
    slow = ScriptedProvider("openai", ["a", "b", "c", "d"], delay_s=0.05)
    router, records, _ = router_over(slow, types={"openai": "openai"})
    mine: list[CompletionRecord] = []
    stream = router.stream(CompletionRequest(message="hi", model="gpt-4o"), on_accounted=mine.append)
    await anext(stream)
    await stream.aclose()
    assert slow.closed == 1
    (record,) = mine
    assert record.outcome == "cancelled" and records == mine
    assert record.metadata.usage.completion_tokens == 1
    assert record.metadata.usage.prompt_tokens > 0
    assert record.metadata.pricing is not None and record.metadata.pricing.total_cost > 0


async def test_prefer_unary_uses_the_non_streamed_endpoint() -> None:
    provider = ScriptedProvider("openai", ["Bon", "jour"])
    router, _, _ = router_over(provider, types={"openai": "openai"})
    *pieces, last = await chunks_of(router, "gpt-4o", prefer_unary=True)
    assert [p.content for p in pieces] == ["Bonjour"]
    assert provider.unary_calls == 1 and provider.calls == []
    assert last.metadata.usage == TokenUsage(5, 2)


async def test_in_process_providers_are_asked_what_they_serve() -> None:
    local = ScriptedProvider("local", ["x"], models=["local/smollm2-135m-instruct", "local/extra"])
    router, _, _ = router_over(local, types={"local": "local"})
    await router.start()
    models = {m.name: m for m in await router.list_models()}
    assert models["local/smollm2-135m-instruct"].available
    assert models["local/extra"].available and models["local/extra"].price.input_per_million == 0
    assert not models["gpt-4o"].available
    assert await router.provider_of("smollm2-135m-instruct") == "local"


async def test_catalog_override_from_the_config(tmp_path: Path) -> None:
    override = tmp_path / "catalog.toml"
    override.write_text('[[models]]\nname = "gpt-4o"\ninput_price_per_million = 100\n', encoding="utf-8")
    router, _, _ = router_over(
        ScriptedProvider("openai", ["a"]), types={"openai": "openai"},
        catalog_file=override, currency="USD",
    )
    info = await router.get_model("gpt-4o")
    assert info.price is not None and info.price.input_per_million == 100
    assert info.price.currency == "USD"


async def test_unknown_model_lists_the_available_ones() -> None:
    router, _, _ = router_over(ScriptedProvider("mistral", ["a"]), types={"mistral": "mistral"})
    with pytest.raises(InvalidArgument) as caught:
        await chunks_of(router, "gpt-17")
    assert "'gpt-17'" in caught.value.message
    assert "mistral-large-latest" in caught.value.message and "gpt-4o" not in caught.value.message.split("available here:")[1]


async def test_a_request_counts_as_in_flight_on_its_deployment_until_it_ends() -> None:
    provider = ScriptedProvider("openai", ["a", "b", "c"], failures=[InvalidArgument("bad")])
    router, _, _ = router_over(provider, types={"openai": "openai"})
    await router.start()
    (deployment,) = router.routing_table.deployments("gpt-4o")
    with pytest.raises(InvalidArgument):  # failed before its first token
        await chunks_of(router, "gpt-4o")
    assert deployment.in_flight == 0
    stream = router.stream(CompletionRequest(message="hi", model="gpt-4o"))
    await anext(stream)
    assert deployment.in_flight == 1
    await stream.aclose()  # the caller went away mid-stream
    assert deployment.in_flight == 0
    await chunks_of(router, "gpt-4o")  # to the end
    assert deployment.in_flight == 0
