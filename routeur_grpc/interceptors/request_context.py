"""Request id and access log for every call.

The id comes from the caller's `x-request-id` metadata when acceptable, or is made up. It
is stored in a ContextVar (so every log line of the call carries it) and returned to the
caller in trailing metadata. One log line per call records method, status and duration.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import grpc

from routeur_grpc.interceptors.handler_wrapping import (
    Around,
    BuiltOnce,
    call_metadata,
    wrap_around,
)
from routeur_grpc.request_context import (
    REQUEST_ID_METADATA_KEY,
    accept_request_id,
    current_owner_id,
    set_request_id,
)

log = logging.getLogger("routeur.access")


class RequestContextInterceptor(grpc.aio.ServerInterceptor):
    """Outermost interceptor: sets up the request's context and logs its outcome."""

    def __init__(self) -> None:
        self._handlers = BuiltOnce()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        return self._handlers.get(method, handler, lambda h: wrap_around(h, _call_context(method)))


def _call_context(method: str) -> Around:
    @asynccontextmanager
    async def call_context(context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        incoming_id = call_metadata(context).get(REQUEST_ID_METADATA_KEY)
        request_id = accept_request_id(incoming_id if isinstance(incoming_id, str) else None)
        set_request_id(request_id)
        context.set_trailing_metadata(((REQUEST_ID_METADATA_KEY, request_id),))
        started = time.perf_counter()
        try:
            yield
        finally:
            _log_outcome(method, context, started)

    return call_context


HEALTH_PROBE_PREFIX = "/grpc.health.v1.Health/"


def _log_outcome(method: str, context: grpc.aio.ServicerContext, started: float) -> None:
    code = context.code()
    if code is None:
        # No status set: the call either ended normally or was cancelled by the client.
        task = asyncio.current_task()
        code = grpc.StatusCode.CANCELLED if task and task.cancelling() else grpc.StatusCode.OK
    status = code.name if isinstance(code, grpc.StatusCode) else str(code)
    # Load balancers (Envoy among them) probe health every few seconds: those successful
    # probes would drown the log at INFO.
    quiet = method.startswith(HEALTH_PROBE_PREFIX) and code == grpc.StatusCode.OK
    log.log(
        logging.DEBUG if quiet else logging.INFO,
        "rpc finished",
        extra={
            "rpc": method,
            "status": status,
            "user": current_owner_id(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
        },
    )
