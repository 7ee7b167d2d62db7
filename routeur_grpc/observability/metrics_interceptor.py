"""Counting calls, their duration, streams in flight and the time to a stream's first message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import grpc

from routeur_grpc.interceptors.handler_wrapping import BuiltOnce, ResponseObserver, wrap_around
from routeur_grpc.observability.metrics import Metrics
from routeur_grpc.observability.tracing import annotate_current_span
from routeur_grpc.request_context import current_request_id


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Records every call in `metrics`.

    Placed inside the request-context interceptor (the request id is known) and outside the
    error mapping (the final status is known).
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
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
        return self._handlers.get(method, handler, lambda h: self._measuring(method, h))

    def _measuring(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        metrics = self._metrics
        streaming = bool(handler.unary_stream or handler.stream_stream)

        @asynccontextmanager
        async def measured(context: grpc.aio.ServicerContext) -> AsyncIterator[ResponseObserver]:
            started = time.perf_counter()
            first = True
            annotate_current_span(current_request_id())

            def observe(_: Any) -> None:
                nonlocal first
                if first:
                    first = False
                    metrics.first_message(method, time.perf_counter() - started)

            if streaming:
                metrics.stream_started(method)
            try:
                yield observe
            finally:
                if streaming:
                    metrics.stream_ended(method)
                metrics.rpc_finished(method, _status(context), time.perf_counter() - started)

        return wrap_around(handler, measured)


def _status(context: grpc.aio.ServicerContext) -> str:
    code = context.code()
    if code is None:
        task = asyncio.current_task()
        code = grpc.StatusCode.CANCELLED if task and task.cancelling() else grpc.StatusCode.OK
    return code.name if isinstance(code, grpc.StatusCode) else str(code)
