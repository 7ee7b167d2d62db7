"""Wrapping a gRPC method handler's behaviour, whatever its cardinality.

grpc.aio interceptors receive a `RpcMethodHandler` whose behaviour is one of four kinds.
Unary-response behaviours are coroutines; streaming-response behaviours are async
generators (or coroutines that write with `context.write`). `wrap_around` rebuilds a
handler so that one async context manager surrounds the whole call, whichever the kind:
an interceptor writes its logic once (set up before, clean up or map errors after), and
the unary and streaming paths cannot drift apart.

grpc.aio asks every interceptor for a handler on every call. Each interceptor builds its
wrapped handler once per method (`BuiltOnce`) and reads what differs from call to call (the
caller's metadata) from the call's context: a handler built per call cost each call its
closures and each open stream the objects that hold them.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, aclosing
from typing import Any

import grpc

Behaviour = Callable[[Any, grpc.aio.ServicerContext], Any]
ResponseObserver = Callable[[Any], None]
Around = Callable[
    [grpc.aio.ServicerContext], AbstractAsyncContextManager[ResponseObserver | None]
]
"""Makes the context manager that surrounds one call; it sees the call's exceptions. It may
yield a function, then called with each message a streaming call sends (first included)."""


UnaryWrapper = Callable[[Behaviour], Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]]
StreamWrapper = Callable[
    [Behaviour], Callable[[Any, grpc.aio.ServicerContext], AsyncIterator[Any]]
]


class BuiltOnce:
    """An interceptor's wrapped handlers, one per method, built at the method's first call."""

    def __init__(self) -> None:
        self._built: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def get(
        self,
        method: str,
        handler: grpc.RpcMethodHandler,
        build: Callable[[grpc.RpcMethodHandler], grpc.RpcMethodHandler],
    ) -> grpc.RpcMethodHandler:
        """`build(handler)`, built again only if `method`'s inner handler changed."""
        built = self._built.get(method)
        if built is None or built[0] is not handler:
            built = (handler, build(handler))
            self._built[method] = built
        return built[1]


def call_metadata(context: grpc.aio.ServicerContext) -> dict[str, Any]:
    """The caller's metadata, by key (the last value of a repeated key)."""
    return dict(context.invocation_metadata() or ())


def wrap_handler(
    handler: grpc.RpcMethodHandler, unary: UnaryWrapper, stream: StreamWrapper
) -> grpc.RpcMethodHandler:
    """`handler` with its behaviour replaced by `unary(behaviour)` or `stream(behaviour)`,
    by response kind. For interceptors that change the request itself; the others use
    `wrap_around`."""
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


def wrap_around(handler: grpc.RpcMethodHandler, around: Around) -> grpc.RpcMethodHandler:
    """`handler` with each call run inside `around(context)`, for every handler kind."""

    def unary(behaviour: Behaviour) -> Callable[..., Awaitable[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> Any:
            async with around(context):
                return await behaviour(request, context)

        return handle

    def stream(behaviour: Behaviour) -> Callable[..., AsyncIterator[Any]]:
        async def handle(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            async with around(context) as observe, responses(behaviour, request, context) as sent:
                async for response in sent:
                    if observe is not None:
                        observe(response)
                    yield response

        return handle

    return wrap_handler(handler, unary, stream)


def responses(
    behaviour: Behaviour, request: Any, context: grpc.aio.ServicerContext
) -> aclosing[AsyncGenerator[Any, None]]:
    """Run a streaming behaviour, whether an async generator or a context.write coroutine:
    its responses, closed on leaving the `async with`.

    An async generator is iterated as it is, with no generator of ours around it: every
    interceptor would otherwise add a frame to each stream and a hop to each message.
    """
    result = behaviour(request, context)
    return aclosing(result if inspect.isasyncgen(result) else _written(result))


async def _written(writing: Awaitable[Any]) -> AsyncGenerator[Any, None]:
    """A behaviour that writes with `context.write`: no response of its own to yield."""
    await writing
    return
    yield  # an async generator
