"""Traces through the gateway: Envoy opens the trace, the server and its upstream call join it.

A real Envoy and a real server both export to a fake OTLP/HTTP collector, as they would to
an OpenTelemetry Collector; a REST client that sends no `traceparent` still gets one trace
from the gateway down to the provider's HTTP request, each span carrying the request id.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fakes import FakeOpenAI, FakeOtlpCollector, ReceivedSpan
from gateway_support import start_envoy
from openai_backed import MODEL, start_openai_backed_server
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from support import auth_headers

from routeur_grpc.observability.tracing import REQUEST_ID_ATTRIBUTE

CHAT_METHOD = "routeur.v1.OpenAICompatService/CreateChatCompletion"


@pytest.fixture(scope="module")
async def collector() -> AsyncIterator[FakeOtlpCollector]:
    fake = FakeOtlpCollector()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def openai_upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


def _chat_completion(base_url: str, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    """POST /v1/chat/completions with urllib: the httpx clients of this process are traced
    (the server under test instruments them), and would send a `traceparent` of their own."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}]}
    request = urllib.request.Request(
        f"{base_url}/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **auth_headers(), **headers},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}


async def _traced_call(
    tmp_path: Path, collector: FakeOtlpCollector, upstream: FakeOpenAI, headers: dict[str, str]
) -> tuple[dict[str, str], ReceivedSpan, ReceivedSpan]:
    """One REST chat completion through Envoy, both exporting to `collector`: the answer's
    headers, and the call's span from the gateway and from the server."""
    running = await start_openai_backed_server(
        tmp_path, upstream, otlp_endpoint=collector.url, otel_service_name="routeur"
    )
    try:
        envoy = await start_envoy(
            [running.address], tmp_path / "envoy.log", otlp_endpoint=collector.url
        )
        try:
            status, answer = await asyncio.to_thread(_chat_completion, envoy.rest_url, headers)
            assert status == 200
            request_id = answer["x-request-id"]
            # Envoy sends its spans in batches, at least every 5 seconds.
            gateway = await collector.wait_span(_is_call_of(request_id, "routeur-gateway"))
        finally:
            await envoy.stop()
    finally:
        await running.server.stop(0.5)  # sends the server's last spans
    server = await collector.wait_span(_is_call_of(request_id, "routeur"))
    return answer, gateway, server


def _is_call_of(request_id: str, service: str):  # type: ignore[no-untyped-def]
    def matches(span: ReceivedSpan) -> bool:
        return (
            span.service == service
            and span.kind == Span.SPAN_KIND_SERVER
            and span.attributes.get(REQUEST_ID_ATTRIBUTE) == request_id
        )

    return matches


async def test_a_rest_call_is_one_trace_from_envoy_to_the_upstream_request(
    tmp_path: Path, collector: FakeOtlpCollector, openai_upstream: FakeOpenAI
):
    answer, gateway, server = await _traced_call(tmp_path, collector, openai_upstream, {})
    request_id = answer["x-request-id"]
    assert gateway.parent_span_id == ""  # the trace starts at the gateway
    assert server.name.endswith(CHAT_METHOD)
    assert (server.trace_id, server.parent_span_id) == (gateway.trace_id, gateway.span_id)
    upstream = await collector.wait_span(
        lambda span: span.kind == Span.SPAN_KIND_CLIENT and span.trace_id == gateway.trace_id
    )
    assert upstream.service == "routeur"
    assert upstream.attributes[REQUEST_ID_ATTRIBUTE] == request_id
    # Envoy checked the server's health every 0.3 s meanwhile: not a trace each time.
    assert not [span.name for span in collector.spans if "grpc.health" in span.name]


async def test_the_gateway_continues_a_callers_trace(
    tmp_path: Path, collector: FakeOtlpCollector, openai_upstream: FakeOpenAI
):
    trace_id, caller_span = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    answer, gateway, server = await _traced_call(
        tmp_path, collector, openai_upstream,
        {"traceparent": f"00-{trace_id}-{caller_span}-01", "x-request-id": "traced-by-caller"},
    )
    assert answer["x-request-id"] == "traced-by-caller"
    assert (gateway.trace_id, gateway.parent_span_id) == (trace_id, caller_span)
    assert (server.trace_id, server.parent_span_id) == (trace_id, gateway.span_id)
