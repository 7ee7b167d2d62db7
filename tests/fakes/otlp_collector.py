"""A fake OpenTelemetry collector: OTLP over HTTP (protobuf), as Envoy and the SDK send it.

It keeps every span it receives, with the `service.name` of the process that sent it, so
that a test can follow one trace across Envoy and the server.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from .http_server import FakeUpstream, RecordedRequest, Reply

TRACES_PATH = "/v1/traces"


@dataclass(frozen=True, slots=True)
class ReceivedSpan:
    """A span as the collector received it; ids in hexadecimal, "" for a root's parent."""

    service: str
    name: str
    kind: int  # opentelemetry.proto.trace.v1.Span.SpanKind
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, object]


def _value(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


class FakeOtlpCollector(FakeUpstream):
    def __init__(self) -> None:
        super().__init__()
        self.spans: list[ReceivedSpan] = []

    def route(self, request: RecordedRequest) -> tuple[Reply, bool]:
        if request.method != "POST" or request.path != TRACES_PATH:
            return Reply(status=404, raw_body=b"", content_type="text/plain"), False
        export = ExportTraceServiceRequest.FromString(request.body)
        for resource_spans in export.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(
                        ReceivedSpan(
                            service=str(resource.get("service.name", "")),
                            name=span.name,
                            kind=span.kind,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_span_id=span.parent_span_id.hex(),
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        reply = ExportTraceServiceResponse().SerializeToString()
        return Reply(raw_body=reply, content_type="application/x-protobuf"), False

    async def wait_span(
        self, matches: Callable[[ReceivedSpan], bool], timeout: float = 15.0
    ) -> ReceivedSpan:
        """The first span received that `matches`, waiting for it if needed."""
        deadline = time.monotonic() + timeout
        while True:
            found = next((span for span in self.spans if matches(span)), None)
            if found is not None:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"no such span among {[s.name for s in self.spans]}")
            await asyncio.sleep(0.05)
