"""The remaining quota, as response metadata on every call that was measured against it.

`x-ratelimit-{limit,remaining,reset}-{requests,tokens}` (the names OpenAI's API uses) go in
the initial metadata of a successful call, which the REST gateway passes on as HTTP headers,
and in the trailing metadata of a refused or failed one (a trailers-only answer: HTTP headers
too). The completion service writes the figures into the call's `QuotaReport`
(`limits.report`); this interceptor sets that report up and sends it, unless the servicer
already sent them with its own answer headers (`api.answer_headers`: a call sends its
initial metadata once). Place it inside the error mapping, which keeps trailing metadata
set before it aborts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from routeur_grpc.interceptors.handler_wrapping import (
    Behaviour,
    BuiltOnce,
    responses,
    wrap_handler,
)
from routeur_grpc.limits.report import QuotaReport, begin_report


class QuotaHeadersInterceptor(grpc.aio.ServerInterceptor):
    """Sends each call's `QuotaReport` as response metadata."""

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
        return self._handlers.get(handler_call_details.method, handler, _reporting)


def _reporting(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    return wrap_handler(handler, _reporting_unary, _reporting_stream)


def _reporting_unary(behaviour: Behaviour) -> Callable[..., Awaitable[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
        report = begin_report()
        try:
            response = await behaviour(request, context)
        except BaseException:
            _add_trailing(context, report)
            raise
        await _send_initial(context, report)
        return response

    return handle


def _reporting_stream(behaviour: Behaviour) -> Callable[..., AsyncIterator[Any]]:
    async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        report = begin_report()
        sent = False
        try:
            async with responses(behaviour, request, context) as answers:
                async for response in answers:
                    if not sent:
                        sent = True
                        await _send_initial(context, report)
                    yield response
        except BaseException:
            if not sent:
                _add_trailing(context, report)
            raise

    return handle


async def _send_initial(context: grpc.aio.ServicerContext, report: QuotaReport) -> None:
    if report.sent:  # the servicer sent them with its own answer headers
        return
    headers = report.headers()
    if headers:
        report.sent = True
        await context.send_initial_metadata(headers)


def _add_trailing(context: grpc.aio.ServicerContext, report: QuotaReport) -> None:
    headers = report.headers()
    if headers:
        context.set_trailing_metadata((*(context.trailing_metadata() or ()), *headers))
