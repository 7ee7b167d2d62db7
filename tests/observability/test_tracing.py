"""Traces: one trace from the caller's traceparent through the server to the upstream call.

Below the call's server span, each upstream attempt is a `chat {model}` span named and
labelled by OpenTelemetry's semantic conventions for generative AI, and the provider SDK's
HTTP request is a client span below the attempt's.
"""

from __future__ import annotations

from pathlib import Path

from fakes import FakeOpenAI
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from routeur.v1 import completion_service_pb2 as completion_pb2
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from support import open_channel, server_settings

from routeur_grpc.domain.completion import Sampling
from routeur_grpc.domain.model_entry import ModelEntry
from routeur_grpc.observability.tracing import REQUEST_ID_ATTRIBUTE
from routeur_grpc.providers.base import ChatRequest
from routeur_grpc.routing.attempt_spans import start_attempt_span
from routeur_grpc.server import build_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def _traced_complete(
    tmp_path: Path, fake_openai: FakeOpenAI, **settings: object
) -> tuple[ReadableSpan, ...]:
    """The spans of one `Complete` call (model gpt-4o, served by the fake)."""
    exporter = InMemorySpanExporter()
    server_config = server_settings(
        tmp_path,
        local_model_enabled=False,
        providers=[{"name": "openai", "type": "openai", "base_url": f"{fake_openai.url}/v1",
                    "api_key": "sk-test"}],
        **settings,
    )
    server, port = await build_server(server_config, span_exporter=exporter)
    await server.start()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            stub = completion_grpc.CompletionServiceStub(channel)
            await stub.Complete(
                completion_pb2.CompleteRequest(message="Hi", model="gpt-4o", max_tokens=50),
                metadata=(("traceparent", TRACEPARENT), ("x-request-id", "trace-test-1")),
            )
    finally:
        await server.stop(0.5)  # flushes the batch processor
    return exporter.get_finished_spans()


def _attempts(spans: tuple[ReadableSpan, ...]) -> list[ReadableSpan]:
    return [s for s in spans if s.name == "chat gpt-4o"]


async def test_a_call_continues_the_callers_trace_down_to_the_upstream_request(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    spans = await _traced_complete(tmp_path, fake_openai)
    server_spans = [s for s in spans if s.kind == SpanKind.SERVER]
    client_spans = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert server_spans and client_spans
    call = next(s for s in server_spans if s.name.endswith("CompletionService/Complete"))
    assert format(call.context.trace_id, "032x") == TRACE_ID
    assert call.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"
    upstream = client_spans[-1]
    assert upstream.context.trace_id == call.context.trace_id
    assert upstream.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"


async def test_each_upstream_attempt_is_a_genai_span_between_the_call_and_its_request(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    spans = await _traced_complete(tmp_path, fake_openai)
    call = next(s for s in spans if s.name.endswith("CompletionService/Complete"))
    [attempt] = _attempts(spans)
    assert attempt.kind == SpanKind.CLIENT
    assert attempt.parent is not None and attempt.parent.span_id == call.context.span_id
    assert dict(attempt.attributes) == {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.max_tokens": 50,
        "gen_ai.response.model": "gpt-4o",
        "gen_ai.usage.input_tokens": FakeOpenAI.prompt_tokens,
        "gen_ai.usage.output_tokens": attempt.attributes["gen_ai.usage.output_tokens"],
        "routeur.provider": "openai",
        "routeur.model": "gpt-4o",
        REQUEST_ID_ATTRIBUTE: "trace-test-1",
    }
    assert attempt.attributes["gen_ai.usage.output_tokens"] > 0
    http = next(s for s in spans if s.kind == SpanKind.CLIENT and s is not attempt)
    assert http.parent is not None and http.parent.span_id == attempt.context.span_id


async def test_a_failed_attempt_says_why_and_the_retry_is_a_span_of_its_own(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    fake_openai.fail_next(503)
    spans = await _traced_complete(
        tmp_path, fake_openai, retry_max_attempts=2, retry_initial_backoff_s=0.01
    )
    failed, answered = _attempts(spans)
    assert failed.status.status_code == StatusCode.ERROR
    assert failed.attributes["error.type"] == "UPSTREAM_UNAVAILABLE"
    assert "gen_ai.usage.input_tokens" not in failed.attributes
    assert "gen_ai.response.model" not in failed.attributes  # no model answered
    assert answered.status.status_code == StatusCode.UNSET
    assert "error.type" not in answered.attributes
    assert answered.parent == failed.parent  # both below the call


async def test_tracing_is_off_without_an_endpoint(tmp_path: Path):
    server, _ = await build_server(server_settings(tmp_path, local_model_enabled=False))
    try:
        assert server.tracer_provider is None
    finally:
        await server.stop(0)


def test_an_attempts_span_names_the_sampling_parameters_asked_for():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    entry = ModelEntry(
        name="gpt-4o", provider="openai", input_price_per_million=0, output_price_per_million=0
    )
    chat = ChatRequest(
        model="gpt-4o",
        messages=(),
        sampling=Sampling(top_p=0.5, stop=("END",), seed=3, frequency_penalty=0.1),
    )
    start_attempt_span(provider.get_tracer("test"), entry, "openai", chat).end()
    [span] = exporter.get_finished_spans()
    assert {k: v for k, v in span.attributes.items() if k.startswith("gen_ai.request.")} == {
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.stop_sequences": ("END",),
        "gen_ai.request.seed": 3,
        "gen_ai.request.frequency_penalty": 0.1,
    }
