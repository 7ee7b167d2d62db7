"""Metrics of the rate limiter's decisions and of transcription jobs' transitions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest
from fakes import FakeOpenAI
from prometheus_client.parser import text_string_to_metric_families
from routeur.v1 import completion_service_pb2 as completion_pb2
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from support import open_channel, server_settings, start_server

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionChunk, CompletionRequest
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import RateLimited
from routeur_grpc.limits.memory import InProcessCounters
from routeur_grpc.limits.policy import LimitDefaults
from routeur_grpc.observability.metrics import Metrics
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig

NOW = 1_800_000_000.0
CALLER = Caller(owner_id="gina", request_id="r")


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and wanted <= set(sample.labels.items())
    )


def scrape(metrics: Metrics) -> str:
    return metrics.exposition()[0].decode()


class _Models:
    async def get_model(self, name: str) -> ModelInfo:
        return ModelInfo(name=name, provider="openai")


def _quota(metrics: Metrics, defaults: LimitDefaults) -> CompletionQuota:
    return CompletionQuota(
        InProcessCounters(),
        QuotaConfig(defaults, extend_tokens=1),
        _Models(),
        TokenCounter(),
        clock=lambda: NOW,
        on_decision=metrics.rate_limit_decision,
    )


def test_decisions_are_counted_by_outcome_and_limit_kind():
    metrics = Metrics()
    metrics.rate_limit_decision("allowed", "requests")
    metrics.rate_limit_decision("allowed", "requests")
    metrics.rate_limit_decision("refused", "budget")
    text = scrape(metrics)
    name = "routeur_rate_limit_decisions_total"
    assert value(text, name, decision="allowed", limit="requests") == 2
    assert value(text, name, decision="refused", limit="budget") == 1
    assert value(text, name, decision="refused", limit="requests") == 0


def test_job_transitions_are_counted_by_status():
    metrics = Metrics()
    for status in ("queued", "running", "succeeded", "queued"):
        metrics.job_transition(status)
    text = scrape(metrics)
    name = "routeur_transcription_job_transitions_total"
    assert value(text, name, status="queued") == 2
    assert value(text, name, status="running") == 1
    assert value(text, name, status="succeeded") == 1


async def test_the_quota_tells_each_kind_it_admits_on_and_the_kind_that_refuses():
    metrics = Metrics()
    quota = _quota(metrics, LimitDefaults(requests_per_minute=1, tokens_per_minute=100_000))
    request = CompletionRequest(message="Bonjour", model="m", max_tokens=10)
    await quota.open(request, CALLER)
    with pytest.raises(RateLimited):
        await quota.open(request, CALLER)
    text = scrape(metrics)
    name = "routeur_rate_limit_decisions_total"
    assert value(text, name, decision="allowed", limit="requests") == 1
    assert value(text, name, decision="allowed", limit="tokens") == 1
    assert value(text, name, decision="allowed", limit="budget") == 0
    assert value(text, name, decision="refused", limit="requests") == 1
    assert value(text, name, decision="refused", limit="tokens") == 0


async def test_a_stream_stopped_for_want_of_tokens_counts_as_a_token_refusal():
    metrics = Metrics()
    request = CompletionRequest(message="Bonjour", model="m", max_tokens=1)
    quota = _quota(metrics, LimitDefaults(tokens_per_minute=40))

    async def words() -> AsyncIterator[CompletionChunk]:
        for _ in range(100):
            yield CompletionChunk(content=" word")

    pieces = [chunk async for chunk in quota.guard(request, CALLER, words())]
    assert pieces[-1].done and isinstance(pieces[-1].error, RateLimited)
    text = scrape(metrics)
    name = "routeur_rate_limit_decisions_total"
    assert value(text, name, decision="allowed", limit="tokens") == 1
    assert value(text, name, decision="refused", limit="tokens") == 1


async def test_a_server_refusing_a_second_call_shows_the_refusal_on_its_metrics_port(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(
        server_settings(
            tmp_path,
            local_model_enabled=False,
            metrics_port=0,
            rate_limit_rpm=1,
            providers=[{"name": "openai", "type": "openai", "base_url": f"{fake_openai.url}/v1",
                        "api_key": "sk-test"}],
        )
    )
    try:
        async with open_channel(running.address) as channel:
            stub = completion_grpc.CompletionServiceStub(channel)
            await stub.Complete(completion_pb2.CompleteRequest(message="Hi", model="gpt-4o"))
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await stub.Complete(completion_pb2.CompleteRequest(message="Hi", model="gpt-4o"))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        port = running.server.metrics_server.port
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"http://127.0.0.1:{port}/metrics")).text
        name = "routeur_rate_limit_decisions_total"
        assert value(text, name, decision="allowed", limit="requests") == 1
        assert value(text, name, decision="refused", limit="requests") == 1
    finally:
        await running.server.stop(0.5)
