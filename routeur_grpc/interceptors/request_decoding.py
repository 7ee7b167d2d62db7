"""Requests whose bytes are not a valid message become INVALID_ARGUMENT.

grpc.aio decodes a request before any interceptor's code runs; when the bytes are truncated,
hold a string that is not UTF-8, or nest messages deeper than protobuf's recursion limit
(a `google.protobuf.Value` about 33 levels deep), the decoder raises, and grpc answers
UNKNOWN with the Python exception's class and text, and logs a stack trace at ERROR: a
caller's mistake reported as our bug, and a way to flood the log.

This interceptor gives each handler a decoder that never raises: a message that cannot be
decoded becomes a `MalformedRequest`, and the handler's behaviour, before anything else,
turns it into the caller's INVALID_ARGUMENT (through the error-mapping interceptor, which
must therefore sit outside this one). Such requests are logged at INFO, at most once per
`LOG_INTERVAL_S` with the number of the others.

A unary method is also served as one taking a stream of requests: grpc.aio ends a unary
handler without any status when the client half-closes without sending its message, which
leaves the call hanging to its deadline (over REST, to Envoy's route timeout). Read from a
stream, a missing message is seen, and refused as INVALID_ARGUMENT at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from routeur_grpc.errors import InvalidArgument
from routeur_grpc.interceptors.handler_wrapping import (
    Behaviour,
    BuiltOnce,
    responses,
    wrap_handler,
)

log = logging.getLogger(__name__)

LOG_INTERVAL_S = 10.0


@dataclass(frozen=True)
class MalformedRequest:
    """What the decoder returns in place of a message it could not decode."""

    message_type: str
    size: int


class _ThrottledLog:
    """One INFO line per interval; the lines it held back are counted in the next one."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._interval_s = interval_s
        self._clock = clock
        self._next_at = 0.0
        self._held_back = 0

    def malformed(self, method: str, request: MalformedRequest) -> None:
        now = self._clock()
        if now < self._next_at:
            self._held_back += 1
            return
        log.info(
            "malformed request refused",
            extra={
                "rpc": method,
                "message_type": request.message_type,
                "bytes": request.size,
                "similar_not_logged": self._held_back,
            },
        )
        self._held_back = 0
        self._next_at = now + self._interval_s


def tolerant_deserializer(
    deserializer: Callable[[bytes], Any] | None, message_type: str
) -> Callable[[bytes], Any] | None:
    """`deserializer`, returning a `MalformedRequest` instead of raising on bad bytes."""
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, RecursionError, UnicodeDecodeError, ValueError):
            return MalformedRequest(message_type, len(data))

    return decode


def refusal(request: MalformedRequest) -> InvalidArgument:
    """The error a caller gets for bytes that are not a valid request message."""
    return InvalidArgument(
        f"The request is not a valid {request.message_type} message: it is truncated, a "
        "string field is not valid UTF-8, or values are nested too deep (more than 100 "
        "messages, about 33 levels of JSON values). Build it with code generated from the "
        "published .proto files.",
        reason="MALFORMED_REQUEST",
    )


class RequestDecodingInterceptor(grpc.aio.ServerInterceptor):
    """Undecodable requests are refused as INVALID_ARGUMENT; place it inside error mapping."""

    def __init__(self, log_interval_s: float = LOG_INTERVAL_S) -> None:
        self._log = _ThrottledLog(log_interval_s)
        self._handlers = BuiltOnce()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.request_deserializer is None:
            return handler
        method = handler_call_details.method
        return self._handlers.get(method, handler, lambda h: self._checking(method, h))

    def _checking(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        message_type = _message_type(handler.request_deserializer)
        streaming_requests = bool(handler.stream_unary or handler.stream_stream)

        def checked(request: Any) -> Any:
            if isinstance(request, MalformedRequest):
                self._log.malformed(method, request)
                raise refusal(request)
            return request

        async def checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
            async for request in requests:
                yield checked(request)

        def arguments(request: Any) -> Any:
            return checked_stream(request) if streaming_requests else checked(request)

        def unary(behaviour: Behaviour) -> Callable[..., Awaitable[Any]]:
            async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
                return await behaviour(arguments(request), context)

            return handle

        def stream(behaviour: Behaviour) -> Callable[..., AsyncIterator[Any]]:
            async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                async with responses(behaviour, arguments(request), context) as sent:
                    async for response in sent:
                        yield response

            return handle

        tolerant = handler._replace(  # a namedtuple: same handler, another decoder
            request_deserializer=tolerant_deserializer(handler.request_deserializer, message_type)
        )
        return reading_its_request(wrap_handler(tolerant, unary, stream), message_type)


def reading_its_request(handler: grpc.RpcMethodHandler, message_type: str) -> grpc.RpcMethodHandler:
    """A unary-request `handler` served as a stream-request one that reads its one message,
    and refuses the call when there is none."""
    codec = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        behaviour = handler.unary_unary

        async def one_answer(requests: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> Any:
            return await behaviour(await _one_message(requests, message_type), context)

        return grpc.stream_unary_rpc_method_handler(one_answer, **codec)
    if handler.unary_stream:
        streaming = handler.unary_stream

        async def answers(
            requests: AsyncIterator[Any], context: grpc.aio.ServicerContext
        ) -> AsyncIterator[Any]:
            request = await _one_message(requests, message_type)
            async with responses(streaming, request, context) as sent:
                async for response in sent:
                    yield response

        return grpc.stream_stream_rpc_method_handler(answers, **codec)
    return handler


async def _one_message(requests: AsyncIterator[Any], message_type: str) -> Any:
    async for request in requests:
        return request
    raise InvalidArgument(
        f"The call carried no request message: send one {message_type}.",
        reason="MISSING_REQUEST",
    )


def _message_type(deserializer: Callable[[bytes], Any]) -> str:
    """`routeur.v1.CompleteRequest` for a generated message's `FromString`."""
    owner = getattr(deserializer, "__self__", None)
    descriptor = getattr(owner, "DESCRIPTOR", None)
    return getattr(descriptor, "full_name", "request")
