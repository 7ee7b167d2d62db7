"""Admission: a call gets in only if its metadata is within bounds and the server has room.

Metadata (HTTP/2 headers) is bounded by `max_request_headers_kb`. gRPC's own limit answers
RESOURCE_EXHAUSTED, which clients retry, with a message listing internal header names; so
the server is built with gRPC's limit well above ours (`grpc_metadata_limit_bytes`) and
this interceptor refuses what lies between as the caller's INVALID_ARGUMENT. Envoy refuses
REST requests over the same limit itself (HTTP 431).

Concurrency is bounded by `max_concurrent_calls`, the same number Envoy's circuit breaker
uses for REST, so that both faces overflow alike: UNAVAILABLE with `RetryInfo` here, HTTP
503 with `Retry-After` from Envoy. Health checks are always admitted: a full server is
busy, not dead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from routeur_grpc.errors import InvalidArgument, Unavailable
from routeur_grpc.interceptors.handler_wrapping import BuiltOnce, wrap_around

# HPACK counts each header as name + value + 32 bytes; so do we.
HEADER_OVERHEAD_BYTES = 32
ALWAYS_ADMITTED_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
OVERLOAD_RETRY_AFTER_S = 1.0


def grpc_metadata_limit_bytes(max_request_headers_kb: int) -> int:
    """gRPC's own metadata limit: above ours with room for what Envoy adds to a request
    (the original path, forwarding headers), so our clearer refusal comes first."""
    return max(256 * 1024, 4 * max_request_headers_kb * 1024)


def metadata_bytes(metadata: Any) -> int:
    """Size of a call's metadata as HTTP/2 counts it."""
    total = 0
    for key, value in metadata or ():
        total += len(key) + len(value) + HEADER_OVERHEAD_BYTES
    return total


class AdmissionInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls with oversized metadata, and calls beyond the concurrency limit."""

    def __init__(self, *, max_concurrent_calls: int, max_request_headers_kb: int) -> None:
        self._max_calls = max_concurrent_calls
        self._max_header_bytes = max_request_headers_kb * 1024
        self._in_flight = 0
        self._handlers = BuiltOnce()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        if method.startswith(ALWAYS_ADMITTED_PREFIXES):
            return handler
        return self._handlers.get(method, handler, lambda h: wrap_around(h, self._admitted))

    def _admit(self, context: grpc.aio.ServicerContext) -> None:
        header_bytes = metadata_bytes(context.invocation_metadata())
        if header_bytes > self._max_header_bytes:
            raise InvalidArgument(
                f"The request's headers (gRPC metadata) take {header_bytes / 1024:.1f} KB; "
                f"at most {self._max_header_bytes // 1024} KB are accepted. Send long "
                "values in the request body, and check the size of the credential.",
                reason="REQUEST_HEADERS_TOO_LARGE",
            )
        if self._in_flight >= self._max_calls:
            raise Unavailable(
                f"Routeur is at capacity ({self._max_calls} calls in progress). Retry "
                "after the delay given.",
                reason="OVERLOADED",
                retry_after_s=OVERLOAD_RETRY_AFTER_S,
            )
        self._in_flight += 1

    @asynccontextmanager
    async def _admitted(self, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        self._admit(context)
        try:
            yield None
        finally:
            self._in_flight -= 1
