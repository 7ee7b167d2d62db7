"""One place where errors become gRPC status.

A `RouteurError` becomes its own code and message, with `google.rpc.ErrorInfo` (and
`RetryInfo` when it says when to retry, also as a `retry-after` trailer that the REST gateway
passes on as HTTP's `Retry-After`) in the `grpc-status-details-bin` trailer. Trailing
metadata set earlier in the call (e.g. the remaining quota) is kept. Anything
else is a bug: it is logged with the request id (type and location only) and the caller
gets INTERNAL with a generic message and the request id to quote.
"""

from __future__ import annotations

import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import NoReturn

import grpc
from grpc_status import rpc_status

from routeur_grpc.api.rpc_status import to_rpc_status
from routeur_grpc.errors import Internal, RouteurError
from routeur_grpc.interceptors.handler_wrapping import Around, BuiltOnce, wrap_around
from routeur_grpc.request_context import REQUEST_ID_METADATA_KEY, current_request_id
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger("routeur.errors")

RETRY_AFTER_METADATA_KEY = "retry-after"


class ErrorMappingInterceptor(grpc.aio.ServerInterceptor):
    """Turns exceptions raised by servicers into status codes with details."""

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
        return self._handlers.get(method, handler, lambda h: wrap_around(h, _mapping(method)))


def _mapping(method: str) -> Around:
    @asynccontextmanager
    async def mapping(context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
        try:
            yield
        except Exception as error:  # noqa: BLE001 - this is the one place that maps
            await _abort(context, method, error)

    return mapping


async def _abort(context: grpc.aio.ServicerContext, method: str, error: Exception) -> NoReturn:
    if isinstance(error, grpc.aio.AbortError):
        raise error  # context.abort() was already called; its status stands
    if not isinstance(error, RouteurError):
        log.error("unexpected error", extra={"rpc": method, **describe_exception(error)})
        error = Internal(
            f"Internal error. Quote request id {current_request_id()} when reporting it."
        )
    elif error.code == grpc.StatusCode.INTERNAL:
        log.error("internal error", extra={"rpc": method, "reason": error.reason})
    status = rpc_status.to_status(to_rpc_status(error))
    earlier = tuple(
        (key, value)
        for key, value in context.trailing_metadata() or ()
        if key != REQUEST_ID_METADATA_KEY
    )
    retry_after = (
        ((RETRY_AFTER_METADATA_KEY, str(max(1, math.ceil(error.retry_after_s)))),)
        if error.retry_after_s is not None
        else ()
    )
    trailing = (
        *status.trailing_metadata,
        *earlier,
        *retry_after,
        (REQUEST_ID_METADATA_KEY, current_request_id()),
    )
    await context.abort(status.code, status.details, trailing)
    raise AssertionError("context.abort returned")  # pragma: no cover
