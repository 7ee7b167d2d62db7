"""OpenTelemetry traces: one trace from the caller through the router to the upstream call.

Off unless an OTLP endpoint is configured (or a test hands an exporter in). When on, the
gRPC server interceptor opens a server span per call, continuing the caller's W3C
`traceparent` (through the gateway, that of Envoy's own span: `gateway.config` has Envoy
open the trace and send its spans to the same collector), and the httpx and
httpx2 instrumentations add a client span for every upstream HTTP request the provider
SDKs make (the SDK clients on aiohttp are instrumented one by one as they are built, so the
tracer provider exists before the providers).
Every span carries the request id (`routeur.request_id`), the key of the log lines too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from routeur_grpc.request_context import current_request_id

REQUEST_ID_ATTRIBUTE = "routeur.request_id"


class RequestIdSpanProcessor(SpanProcessor):
    """Stamps each span started inside a call with that call's request id."""

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        request_id = current_request_id()
        if request_id != "-":
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)

    def on_end(self, span: ReadableSpan) -> None:
        pass


def build_tracer_provider(
    service_name: str, otlp_endpoint: str = "", exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A tracer provider exporting to `exporter` or OTLP/HTTP at `otlp_endpoint`; None if off."""
    if exporter is None and not otlp_endpoint:
        return None
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter(endpoint=otlp_traces_url(otlp_endpoint))
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(RequestIdSpanProcessor())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    _instrument_httpx(provider)
    return provider


def otlp_traces_url(otlp_endpoint: str) -> str:
    """Where spans are sent, for an OTLP/HTTP collector's base URL."""
    return otlp_endpoint.rstrip("/") + "/v1/traces"


def server_interceptors(provider: TracerProvider | None) -> list[grpc.aio.ServerInterceptor]:
    """The interceptor that opens a span per call (outermost), when tracing is on. Health
    checks are not traced: the gateway and orchestrators probe every few seconds."""
    if provider is None:
        return []
    from opentelemetry.instrumentation.grpc import aio_server_interceptor, filters

    return [
        aio_server_interceptor(
            tracer_provider=provider, filter_=filters.negate(filters.health_check())
        )
    ]


def annotate_current_span(request_id: str) -> None:
    """Put the request id on the call's server span (it is known only once the call began)."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


async def shutdown_tracing(provider: TracerProvider) -> None:
    """Send the spans still buffered and take the httpx instrumentation off. The last export
    runs in a thread: it waits for the collector (up to the exporter's timeout), and the
    event loop goes on meanwhile."""
    await asyncio.to_thread(provider.shutdown)
    from opentelemetry.instrumentation.httpx import (
        HTTPX2ClientInstrumentor,
        HTTPXClientInstrumentor,
    )

    for instrumentor in (HTTPXClientInstrumentor(), HTTPX2ClientInstrumentor()):
        name = type(instrumentor).__name__
        if _instrumented.get(name) is provider:
            instrumentor.uninstrument()
            _instrumented[name] = None


_instrumented: dict[str, Any] = {}


def trace_upstream_client(client: Any) -> None:
    """Client spans for one SDK client whose transport is not httpx2's own (the SDKs'
    aiohttp transport, which the class-wide instrumentation does not reach), sent to the
    tracer provider of the server being built. Nothing when tracing is off."""
    provider = _instrumented.get("HTTPX2ClientInstrumentor")
    if provider is None:
        return
    from opentelemetry.instrumentation.httpx import HTTPX2ClientInstrumentor

    HTTPX2ClientInstrumentor.instrument_client(client, tracer_provider=provider)


def _instrument_httpx(provider: TracerProvider) -> None:
    """Client spans for the SDKs' upstream calls, made with httpx or its fork httpx2.

    Instrumentation patches the transport classes once per process; a later server (the
    tests start several) moves it to its own provider.
    """
    from opentelemetry.instrumentation.httpx import (
        HTTPX2ClientInstrumentor,
        HTTPXClientInstrumentor,
    )

    for instrumentor in (HTTPXClientInstrumentor(), HTTPX2ClientInstrumentor()):
        name = type(instrumentor).__name__
        if _instrumented.get(name) is not None:
            instrumentor.uninstrument()
        instrumentor.instrument(tracer_provider=provider)
        _instrumented[name] = provider
