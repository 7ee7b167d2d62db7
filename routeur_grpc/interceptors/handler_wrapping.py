"""Wrapping a gRPC method handler's behaviour, whatever its cardinality.

grpc.aio interceptors receive a `RpcMethodHandler` whose behaviour is one of four kinds.
Unary-response behaviours are coroutines; streaming-response behaviours are async
generators (or coroutines that write with `context.write`). These helpers rebuild a
handler with each behaviour wrapped, so an interceptor writes its logic once per shape.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

Behaviour = Callable[[Any, grpc.aio.ServicerContext], Any]
UnaryWrapper = Callable[[Behaviour], Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]]
StreamWrapper = Callable[
    [Behaviour], Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]
]


def wrap_handler(
    handler: grpc.RpcMethodHandler, unary: UnaryWrapper, stream: StreamWrapper
) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour wrapped by `unary` or `stream`, by response kind."""
    codec = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(unary(handler.unary_unary), **codec)
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(unary(handler.stream_unary), **codec)
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(stream(handler.unary_stream), **codec)
    return grpc.stream_stream_rpc_method_handler(stream(handler.stream_stream), **codec)


async def iterate_responses(
    behaviour: Behaviour, request: Any, context: grpc.aio.ServicerContext
) -> AsyncIterator[Any]:
    """Run a streaming behaviour, whether an async generator or a context.write coroutine."""
    result = behaviour(request, context)
    if inspect.isasyncgen(result):
        try:
            async for response in result:
                yield response
        finally:
            await result.aclose()
    else:
        await result
