"""Routeur end to end: gRPC calls, the router, the real SDKs and the fake upstreams.

Covers: every provider unary and streamed; retries then success; retries
exhausted; fallback before the first token and none after it; deadline; cancellation;
circuit breaker; pricing and emissions against the catalog; unknown model.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import grpc
import pytest
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import model_service_pb2, model_service_pb2_grpc
from support import user_id_of

from routeur_grpc.accounting.pricing import DEFAULT_USD_TO_EUR
from routeur_grpc.routing.catalog import ModelCatalog

from .conftest import EndToEnd

MODELS = [
    ("openai", "gpt-4o"),
    ("mistral", "mistral-large-latest"),
    ("anthropic", "claude-haiku-4-5"),
    ("gemini", "gemini-2.5-flash"),
    ("ollama", "ollama/llama3:8b"),
]


def stub(e2e: EndToEnd) -> pb_grpc.CompletionServiceStub:
    return pb_grpc.CompletionServiceStub(e2e.channel)


@pytest.mark.parametrize(("fake", "model"), MODELS, ids=[m[0] for m in MODELS])
async def test_unary_completion_with_full_accounting(e2e: EndToEnd, fake: str, model: str) -> None:
    upstream = e2e.fakes[fake]
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="Say hello.", model=model, temperature=0.3), timeout=10
    )
    assert response.response == upstream.reply_text
    assert response.model == model
    expected_usage = (type(upstream).prompt_tokens, len(upstream.words()))
    assert (response.usage.prompt_tokens, response.usage.completion_tokens) == expected_usage
    meta = response.metadata
    assert meta.usage_by_model[model].total_tokens == sum(expected_usage)
    entry = ModelCatalog.load().resolve(model)
    rate = DEFAULT_USD_TO_EUR if entry.currency == "USD" else 1.0
    cost = meta.pricing.by_model[model]
    assert meta.pricing.currency == "EUR"
    assert cost.input == pytest.approx(expected_usage[0] * entry.input_price_per_million / 1e6 * rate)
    assert cost.output == pytest.approx(expected_usage[1] * entry.output_price_per_million / 1e6 * rate)
    assert meta.pricing.total_cost == pytest.approx(cost.total)
    assert meta.emissions_kgCO2eq > 0
    assert meta.emissions_gCO2eq == pytest.approx(meta.emissions_kgCO2eq * 1000)
    assert meta.energy_kwh > 0
    assert meta.equivalences.car_km > 0 and meta.equivalences.smartphone_charges > 0
    assert meta.latency_s > 0


@pytest.mark.parametrize(("fake", "model"), MODELS, ids=[m[0] for m in MODELS])
async def test_streamed_completion(e2e: EndToEnd, fake: str, model: str) -> None:
    upstream = e2e.fakes[fake]
    chunks = [
        chunk
        async for chunk in stub(e2e).StreamCompletion(
            pb.StreamCompletionRequest(message="Say hello.", model=model), timeout=10
        )
    ]
    *pieces, last = chunks
    assert len(pieces) > 1
    assert "".join(p.content for p in pieces) == upstream.reply_text
    assert all(p.metadata.model == model and not p.done for p in pieces)
    assert last.done and not last.HasField("error")
    assert last.metadata.usage.output_tokens == len(upstream.words())
    assert last.metadata.pricing.by_model[model].total >= 0


async def test_retries_then_success(e2e: EndToEnd) -> None:
    fake = e2e.fakes["anthropic"]
    fake.fail_next(503, times=2)
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="hi", model="claude-haiku-4-5"), timeout=10
    )
    assert response.response == fake.reply_text
    assert len(fake.requests) == 3


async def test_retry_after_is_honoured(e2e: EndToEnd) -> None:
    fake = e2e.fakes["gemini"]
    fake.fail_next(429, retry_after="0.3")
    await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gemini-2.5-flash"), timeout=10)
    first, second = fake.requests
    assert second.received_at - first.received_at >= 0.3


async def test_retries_exhausted_is_unavailable_with_a_readable_message(e2e: EndToEnd) -> None:
    fake = e2e.fakes["anthropic"]
    fake.fail_next(500, times=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="claude-haiku-4-5"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "anthropic" in caught.value.details()
    assert "gave up after 3 attempts" in caught.value.details()
    assert len(fake.requests) == 3


async def test_rate_limits_exhausted_is_resource_exhausted(e2e: EndToEnd) -> None:
    fake = e2e.fakes["mistral"]
    fake.fail_next(429, retry_after="0", times=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="mistral-small-latest"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "rate limiting" in caught.value.details()


async def test_fallback_before_the_first_token(e2e: EndToEnd) -> None:
    openai, mistral = e2e.fakes["openai"], e2e.fakes["mistral"]
    openai.fail_next(500, times=3)
    response = await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gpt-4o"), timeout=10)
    assert response.model == "mistral-large-latest"
    assert response.response == mistral.reply_text
    usage = response.metadata.usage_by_model
    assert set(usage) == {"gpt-4o", "mistral-large-latest"}
    assert usage["gpt-4o"].total_tokens == 0  # tried, failed, billed nothing
    assert response.metadata.pricing.by_model["gpt-4o"].total == 0
    assert len(openai.requests) == 3 and len(mistral.requests) == 1


async def test_no_fallback_once_a_token_was_sent(e2e: EndToEnd) -> None:
    openai, mistral = e2e.fakes["openai"], e2e.fakes["mistral"]
    openai.drop_next(after_frames=3)
    chunks = [
        chunk
        async for chunk in stub(e2e).StreamCompletion(
            pb.StreamCompletionRequest(message="hi", model="gpt-4o"), timeout=10
        )
    ]
    *pieces, last = chunks
    assert pieces and "".join(p.content for p in pieces)
    assert last.done and last.error.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert mistral.requests == [] and len(openai.requests) == 1
    # What came through is still accounted, counted locally.
    assert last.metadata.usage.output_tokens > 0
    assert last.metadata.pricing.by_model["gpt-4o"].output > 0


async def test_deadline_exceeded_closes_the_upstream_request(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    fake.hang_next()
    started = time.monotonic()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gpt-4o-mini"), timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    close = await fake.wait_client_close(timeout=2)
    assert close.at - started < 1.0


async def test_client_cancel_closes_the_upstream_connection(e2e: EndToEnd) -> None:
    fake = e2e.fakes["mistral"]
    fake.reply_text = " ".join(["word"] * 200)  # 10 s at this pace: only a cancel ends it early
    fake.slow_next(0.05)
    call = stub(e2e).StreamCompletion(
        pb.StreamCompletionRequest(message="hi", model="mistral-large-latest"), timeout=10
    )
    received = 0
    async for chunk in call:
        received += 1
        if received == 2:
            break
    cancelled_at = time.monotonic()
    call.cancel()
    close = await fake.wait_client_close(timeout=2)
    # A liveness bound, not a performance one: bench/bench_cancel.py measures the delay.
    assert close.at - cancelled_at < 1.0
    # The tokens produced before the cancel are accounted and recorded in the store.
    usage = e2e.server.server.app.store.usage
    owner = await user_id_of(e2e.server.address)
    today = datetime.now(UTC).date()
    for _ in range(200):
        total = await usage.total(owner, first_day=today, last_day=today)
        if total.requests:
            break
        await asyncio.sleep(0.01)
    assert total.requests == 1
    assert total.completion_tokens >= 2
    assert total.cost > 0
    assert total.emissions_g > 0


async def test_circuit_breaker_opens_then_recovers(e2e: EndToEnd) -> None:
    fake = e2e.fakes["gemini"]
    fake.fail_next(500, times=3)  # three failures open the breaker (threshold 3)
    with pytest.raises(grpc.aio.AioRpcError):
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gemini-2.5-pro"), timeout=10)
    assert len(fake.requests) == 3
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gemini-2.5-pro"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "paused" in caught.value.details()
    assert len(fake.requests) == 3, "an open circuit sends nothing upstream"
    await asyncio.sleep(0.35)  # the cooldown
    response = await stub(e2e).Complete(
        pb.CompleteRequest(message="hi", model="gemini-2.5-pro"), timeout=10
    )
    assert response.response == fake.reply_text
    assert len(fake.requests) == 4


async def test_unknown_model_is_invalid_argument_naming_it(e2e: EndToEnd) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(pb.CompleteRequest(message="hi", model="gpt-17-ultra"), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "'gpt-17-ultra'" in caught.value.details() and "ListModels" in caught.value.details()


async def test_a_model_whose_provider_is_not_configured_is_a_failed_precondition(e2e: EndToEnd) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub(e2e).Complete(
            pb.CompleteRequest(message="hi", model="local/smollm2-135m-instruct"), timeout=10
        )
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_list_models_shows_the_catalog_with_availability_and_prices(e2e: EndToEnd) -> None:
    models = model_service_pb2_grpc.ModelServiceStub(e2e.channel)
    response = await models.ListModels(model_service_pb2.ListModelsRequest(page_size=100), timeout=10)
    by_name = {m.name: m for m in response.models}
    assert by_name["gpt-4o"].available and by_name["codestral-latest"].available
    assert not by_name["local/smollm2-135m-instruct"].available
    assert by_name["gpt-4o"].price.currency == "EUR"
    assert by_name["gpt-4o"].price.input_per_million == pytest.approx(2.5 * DEFAULT_USD_TO_EUR)
    assert "openai/gpt-4o" in by_name["gpt-4o"].aliases
    alias = await models.GetModel(model_service_pb2.GetModelRequest(name="mistral-large"), timeout=10)
    assert alias.model.name == "mistral-large-latest"


async def test_a_deterministic_request_asked_twice_is_answered_from_the_cache(
    e2e: EndToEnd,
) -> None:
    fake = e2e.fakes["openai"]
    request = pb.CompleteRequest(message="Capital of France?", model="gpt-4o", temperature=0)
    first = await stub(e2e).Complete(request, timeout=10)
    second = await stub(e2e).Complete(request, timeout=10)
    assert second.response == first.response
    assert len(fake.requests) == 1, "the second answer came from the cache"


async def test_requests_meant_to_vary_are_never_cached(e2e: EndToEnd) -> None:
    fake = e2e.fakes["openai"]
    request = pb.CompleteRequest(message="A poem?", model="gpt-4o", temperature=0.7)
    await stub(e2e).Complete(request, timeout=10)
    await stub(e2e).Complete(request, timeout=10)
    assert len(fake.requests) == 2
