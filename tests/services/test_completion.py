"""Completion rules and the router's stream contract, without the transport.

`ScriptedProvider` is a provider of our own interface that plays a script; it stands in
for no SDK or server (those are tested against real HTTP fakes in tests/providers).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from routeur_grpc.api import completion_convert as convert
from routeur_grpc.api.list_paging import page_of
from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    Equivalences,
    ModelCost,
    Pricing,
    TokenUsage,
)
from routeur_grpc.errors import InvalidArgument, Unavailable
from routeur_grpc.providers.base import ChatRequest, ProviderModel, TextDelta, UsageReport
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.completion import CompletionLimits, CompletionService
from routeur_grpc.services.conversations import ConversationService
from routeur_grpc.services.usage import UsageRecorder
from routeur_grpc.storage import open_store

CALLER = Caller(owner_id="alice", request_id="r1")


class ScriptedProvider:
    name = "scripted"

    def __init__(
        self, pieces: list[str], fail_after: int | None = None, still_writing_after: int | None = None
    ) -> None:
        self.pieces = pieces
        self.fail_after = fail_after
        self.still_writing_after = still_writing_after  # from that piece on: nothing comes, yet
        self.closed_early = False

    async def list_models(self) -> list[ProviderModel]:
        return [ProviderModel(name="scripted-1", context_window=100)]

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[TextDelta | UsageReport]:
        finished = False
        try:
            for index, piece in enumerate(self.pieces):
                if index == self.fail_after:
                    raise Unavailable("The upstream went away.")
                if index == self.still_writing_after:
                    await asyncio.Event().wait()
                yield TextDelta(piece)
            yield UsageReport(prompt_tokens=7, completion_tokens=len(self.pieces))
            finished = True
        finally:
            self.closed_early = not finished

    async def aclose(self) -> None:
        pass


@pytest.fixture
async def store(tmp_path):
    """A real SQLite store in a temporary directory."""
    store = await open_store(SimpleNamespace(
        store="sqlite", data_dir=tmp_path, mongodb_uri="", mongodb_database=""
    ))
    yield store
    await store.close()


@pytest.fixture
def service_over(store):
    async def build(provider: ScriptedProvider) -> CompletionService:
        router = ModelRouter([provider], {"scripted": "test"}, clock=InstantClock())
        await router.start()
        return CompletionService(
            router,
            CompletionLimits(max_message_chars=50),
            ConversationService(store.conversations),
            UsageRecorder(store.usage, "EUR"),
        )

    return build


class InstantClock:
    """The router's clock with waits that end at once: a retried failure costs no real time."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        return None


def request(**fields: object) -> CompletionRequest:
    return CompletionRequest(**{"message": "hello", "model": "scripted-1", **fields})  # type: ignore[arg-type]


async def collect(chunks: AsyncIterator[CompletionChunk]) -> list[CompletionChunk]:
    return [chunk async for chunk in chunks]


async def test_a_stream_ends_with_one_done_chunk_carrying_usage_and_latency(service_over):
    service = await service_over(ScriptedProvider(["a", "b", "c"]))
    *pieces, last = await collect(service.stream(request(), CALLER))
    # The first piece alone; pieces ready together may be joined behind it.
    assert pieces[0].content == "a" and "".join(p.content for p in pieces) == "abc"
    assert last.done and last.error is None
    assert last.metadata.usage == TokenUsage(7, 3)
    assert last.metadata.usage_by_model == {"scripted-1": TokenUsage(7, 3)}
    assert last.metadata.message_count == 1 and last.metadata.latency_s >= 0


async def test_a_failure_before_the_first_piece_is_raised(service_over):
    service = await service_over(ScriptedProvider(["a", "b"], fail_after=0))
    with pytest.raises(Unavailable):
        await collect(service.stream(request(), CALLER))


async def test_a_failure_after_the_first_piece_ends_the_stream_with_an_error_chunk(service_over):
    service = await service_over(ScriptedProvider(["a", "b", "c"], fail_after=2))
    *pieces, last = await collect(service.stream(request(), CALLER))
    assert "".join(p.content for p in pieces) == "ab"
    assert last.done and isinstance(last.error, Unavailable)


async def test_a_whole_completion_raises_a_failure_part_way(service_over):
    service = await service_over(ScriptedProvider(["a", "b", "c"], fail_after=2))
    with pytest.raises(Unavailable):
        await service.complete(request(), CALLER)


async def test_a_whole_completion_joins_the_pieces(service_over):
    service = await service_over(ScriptedProvider(["Bon", "jour"]))
    result = await service.complete(request(), CALLER)
    assert result.response == "Bonjour"
    assert result.usage == TokenUsage(7, 2)


async def test_closing_the_stream_early_closes_the_provider_stream(service_over):
    provider = ScriptedProvider(["a", "b", "c"], still_writing_after=1)
    service = await service_over(provider)
    chunks = service.stream(request(), CALLER)
    await anext(chunks)
    await chunks.aclose()
    assert provider.closed_early


async def test_an_over_long_message_is_refused_with_its_length(service_over):
    service = await service_over(ScriptedProvider(["a"]))
    with pytest.raises(InvalidArgument, match="51 characters long; the limit is 50"):
        await service.complete(request(message="x" * 51), CALLER)


def test_the_last_chunk_carries_every_accounting_field_of_the_capl_api():
    metadata = CompletionMetadata(
        model="m", agent="V2", message_count=4, latency_s=1.23, usage=TokenUsage(123, 456),
        usage_by_model={"m": TokenUsage(123, 456)}, emissions_kg_co2eq=0.00042,
        pricing=Pricing("EUR", {"m": ModelCost(0.0005, 0.0026)}),
        equivalences=Equivalences(0.3, 0.002, 0.01, 0.04),
    )
    message = convert.stream_response(CompletionChunk(done=True, metadata=metadata)).metadata
    assert (message.model, message.agent, message.message_count) == ("m", "V2", 4)
    assert message.emissions_kgCO2eq == pytest.approx(0.00042)
    assert message.emissions_gCO2eq == pytest.approx(0.42)
    assert message.usage.input_tokens == 123 and message.usage.total_tokens == 579
    assert message.pricing.by_model["m"].total == pytest.approx(0.0031)
    assert message.pricing.total_cost == pytest.approx(0.0031)
    assert message.equivalences.tgv_km == pytest.approx(0.01)


def test_a_content_chunk_carries_only_the_model_and_agent():
    label = CompletionMetadata(model="m", agent="V2")
    message = convert.stream_response(CompletionChunk(content="x", metadata=label)).metadata
    assert message.model == "m" and message.agent == "V2"
    assert not message.HasField("latency_s") and not message.HasField("pricing")


def test_an_error_chunk_carries_a_google_rpc_status():
    chunk = CompletionChunk(done=True, error=Unavailable("gone"))
    message = convert.stream_response(chunk)
    assert message.error.code == 14 and message.error.message == "gone"


def test_pages_cover_a_list_without_gaps_or_repeats():
    items = list(range(7))
    seen, token = [], ""
    while True:
        page, token = page_of(items, 3, token)
        seen.extend(page)
        if not token:
            break
    assert seen == items


def test_a_forged_page_token_is_refused():
    with pytest.raises(InvalidArgument, match="page_token"):
        page_of([1, 2], 1, "not-a-token")


async def test_a_request_naming_no_model_gets_the_default_model() -> None:
    """Older clients (`POST /api/chat`, `/generate`) may name no model."""
    from routeur_grpc.services.completion import CompletionLimits, CompletionService

    seen: list[str] = []

    class Router:
        def stream(self, request, **options):  # type: ignore[no-untyped-def]
            seen.append(request.model)

            async def chunks():  # type: ignore[no-untyped-def]
                from routeur_grpc.domain.completion import CompletionChunk, CompletionMetadata

                yield CompletionChunk(content="hi", metadata=CompletionMetadata(model="m"))
                yield CompletionChunk(done=True, metadata=CompletionMetadata(model="m"))

            return chunks()

    service = CompletionService(
        Router(), CompletionLimits(), None, None, default_model="the-default"  # type: ignore[arg-type]
    )
    from routeur_grpc.domain.caller import Caller
    from routeur_grpc.domain.completion import CompletionRequest

    result = await service.complete(CompletionRequest(message="hi", model=""), Caller("o", "r"))
    assert seen == ["the-default"] and result.response == "hi"
