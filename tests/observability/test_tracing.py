"""Traces: one trace from the caller's traceparent through the server to the upstream call."""

from __future__ import annotations

from pathlib import Path

from fakes import FakeOpenAI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from routeur.v1 import completion_service_pb2 as completion_pb2
from routeur.v1 import completion_service_pb2_grpc as completion_grpc
from support import open_channel, server_settings

from routeur_grpc.observability.tracing import REQUEST_ID_ATTRIBUTE
from routeur_grpc.server import build_server

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


async def test_a_call_continues_the_callers_trace_down_to_the_upstream_request(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    exporter = InMemorySpanExporter()
    settings = server_settings(
        tmp_path,
        local_model_enabled=False,
        providers=[{"name": "openai", "type": "openai", "base_url": f"{fake_openai.url}/v1",
                    "api_key": "sk-test"}],
    )
    server, port = await build_server(settings, span_exporter=exporter)
    await server.start()
    try:
        async with open_channel(f"127.0.0.1:{port}") as channel:
            stub = completion_grpc.CompletionServiceStub(channel)
            await stub.Complete(
                completion_pb2.CompleteRequest(message="Hi", model="gpt-4o"),
                metadata=(("traceparent", TRACEPARENT), ("x-request-id", "trace-test-1")),
            )
    finally:
        await server.stop(0.5)  # flushes the batch processor
    spans = exporter.get_finished_spans()
    server_spans = [s for s in spans if s.kind == SpanKind.SERVER]
    client_spans = [s for s in spans if s.kind == SpanKind.CLIENT]
    assert server_spans and client_spans
    call = next(s for s in server_spans if s.name.endswith("CompletionService/Complete"))
    assert format(call.context.trace_id, "032x") == TRACE_ID
    assert call.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"
    upstream = client_spans[-1]
    assert upstream.context.trace_id == call.context.trace_id
    assert upstream.attributes[REQUEST_ID_ATTRIBUTE] == "trace-test-1"


async def test_tracing_is_off_without_an_endpoint(tmp_path: Path):
    server, _ = await build_server(server_settings(tmp_path, local_model_enabled=False))
    try:
        assert server.tracer_provider is None
    finally:
        await server.stop(0)
