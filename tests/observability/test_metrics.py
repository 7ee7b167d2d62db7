"""Prometheus metrics: what a scrape shows after real calls through the server."""

from __future__ import annotations

from pathlib import Path

import grpc
import httpx
import pytest
from fakes import FakeOpenAI
from prometheus_client.parser import text_string_to_metric_families
from routeur.v1 import completion_service_pb2 as completion_pb2
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from support import open_channel, server_settings, start_server

from routeur_grpc.domain.completion import (
    AttemptNote,
    CompletionMetadata,
    ModelCost,
    Pricing,
    TokenUsage,
)
from routeur_grpc.observability.metrics import Metrics, MetricsOptions, split_method


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: dict, name: str, **labels: str) -> float:
    """The sum of the samples named `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def test_a_method_name_splits_into_service_and_method():
    assert split_method("/routeur.v1.CompletionService/Complete") == (
        "routeur.v1.CompletionService", "Complete",
    )


def test_a_completion_counts_tokens_cost_and_carbon_by_provider_and_model():
    metrics = Metrics()
    metrics.completion_accounted(
        "openai",
        CompletionMetadata(
            model="gpt-4o", latency_s=0.2, usage=TokenUsage(12, 30),
            pricing=Pricing("EUR", {"gpt-4o": ModelCost(0.001, 0.002)}),
            emissions_kg_co2eq=0.0005,
        ),
    )
    found = samples(metrics.exposition()[0].decode())
    labels = {"gen_ai_provider_name": "openai", "gen_ai_request_model": "gpt-4o"}
    assert value(found, "routeur_tokens_total", gen_ai_token_type="input", **labels) == 12
    assert value(found, "routeur_tokens_total", gen_ai_token_type="output", **labels) == 30
    assert value(found, "gen_ai_client_token_usage_count", **labels) == 2
    assert value(found, "routeur_cost_total", currency="EUR", **labels) == pytest.approx(0.003)
    assert value(found, "routeur_emissions_gco2eq_total", **labels) == pytest.approx(0.5)
    assert value(found, "gen_ai_client_operation_duration_seconds_count", **labels) == 1


def test_failed_attempts_retries_fallbacks_and_cache_hits_are_counted():
    metrics = Metrics()
    metrics.completion_accounted(
        "mistral",
        CompletionMetadata(
            model="mistral-large-latest", requested_model="gpt-4o",
            fallback_reason="UPSTREAM_UNAVAILABLE",
            attempts=(
                AttemptNote("gpt-4o", "openai", "UPSTREAM_UNAVAILABLE"),
                AttemptNote("gpt-4o", "openai", "UPSTREAM_UNAVAILABLE"),
                AttemptNote("mistral-large-latest", "mistral"),
            ),
        ),
    )
    metrics.completion_accounted("openai", CompletionMetadata(model="gpt-4o", cache_hit=True))
    found = samples(metrics.exposition()[0].decode())
    assert value(found, "routeur_upstream_errors_total", gen_ai_provider_name="openai",
                 error_type="UPSTREAM_UNAVAILABLE") == 2
    assert value(found, "routeur_upstream_retries_total", gen_ai_request_model="gpt-4o") == 2
    assert value(found, "routeur_fallbacks_total", gen_ai_request_model="gpt-4o",
                 gen_ai_response_model="mistral-large-latest") == 1
    assert value(found, "routeur_response_cache_hits_total", gen_ai_request_model="gpt-4o") == 1


def test_circuit_states_are_read_at_each_scrape():
    metrics = Metrics()
    states = {"openai": {"gpt-4o": "closed"}}
    metrics.watch_circuits(lambda: states)
    found = samples(metrics.exposition()[0].decode())
    assert value(found, "routeur_circuit_state", gen_ai_provider_name="openai") == 0
    states["openai"]["gpt-4o"] = "open"
    found = samples(metrics.exposition()[0].decode())
    assert value(found, "routeur_circuit_state", gen_ai_provider_name="openai") == 2


def test_users_are_not_labels_unless_asked():
    metadata = CompletionMetadata(model="m", usage=TokenUsage(1, 1))
    quiet, detailed = Metrics(), Metrics(MetricsOptions(per_user_labels=True))
    quiet.completion_accounted("p", metadata, "alice")
    detailed.completion_accounted("p", metadata, "alice")
    assert b"alice" not in quiet.exposition()[0]
    assert b'user_id="alice"' in detailed.exposition()[0]


async def test_the_metrics_endpoint_shows_calls_streams_and_tokens(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    running = await start_server(
        server_settings(
            tmp_path,
            local_model_enabled=False,
            metrics_port=0,
            providers=[{"name": "openai", "type": "openai", "base_url": f"{fake_openai.url}/v1",
                        "api_key": "sk-test"}],
        )
    )
    try:
        async with open_channel(running.address) as channel:
            stub = completion_grpc.CompletionServiceStub(channel)
            await stub.Complete(completion_pb2.CompleteRequest(message="Hi", model="gpt-4o"))
            async for _ in stub.StreamCompletion(
                completion_pb2.StreamCompletionRequest(message="Hi", model="gpt-4o")
            ):
                pass
            with pytest.raises(grpc.aio.AioRpcError):
                await stub.Complete(completion_pb2.CompleteRequest(message="", model="gpt-4o"))
        port = running.server.metrics_server.port
        async with httpx.AsyncClient() as client:
            scrape = await client.get(f"http://127.0.0.1:{port}/metrics")
        assert scrape.status_code == 200
        found = samples(scrape.text)
        service = "routeur.v1.CompletionService"
        assert value(found, "routeur_rpc_requests_total", rpc_service=service,
                     rpc_method="Complete", rpc_grpc_status_code="OK") == 1
        assert value(found, "routeur_rpc_requests_total", rpc_service=service,
                     rpc_method="Complete", rpc_grpc_status_code="INVALID_ARGUMENT") == 1
        assert value(found, "gen_ai_server_time_to_first_token_seconds_count",
                     rpc_method="StreamCompletion") == 1
        assert value(found, "routeur_inflight_streams", rpc_method="StreamCompletion") == 0
        assert value(found, "routeur_tokens_total", gen_ai_provider_name="openai",
                     gen_ai_token_type="output") > 0
    finally:
        await running.server.stop(0.5)
