"""Interceptors build their wrapped handler once per method, and still read each call's own
metadata: the request id, the headers' size and the credential of one call never leak into
the next call of the same method."""

from __future__ import annotations

import grpc
import pytest
from routeur.v1 import model_service_pb2 as model_pb
from routeur.v1 import model_service_pb2_grpc as model_grpc
from support import ADMIN_API_KEY, RunningServer, open_channel

from routeur_grpc.interceptors.handler_wrapping import BuiltOnce


def _handler(answer: str) -> grpc.RpcMethodHandler:
    async def behaviour(request: object, context: object) -> str:
        return answer

    return grpc.unary_unary_rpc_method_handler(behaviour)


def test_a_method_handler_is_built_once_and_again_when_the_inner_handler_changes() -> None:
    built: list[grpc.RpcMethodHandler] = []

    def build(inner: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        built.append(inner)
        return inner._replace(request_deserializer=str)

    handlers = BuiltOnce()
    first, other = _handler("first"), _handler("other")
    wrapped = handlers.get("/s/M", first, build)
    assert handlers.get("/s/M", first, build) is wrapped
    assert handlers.get("/s/N", first, build) is not wrapped
    assert handlers.get("/s/M", other, build).unary_unary is other.unary_unary
    assert built == [first, first, other]


async def test_each_call_of_a_method_gets_its_own_request_id(channel: grpc.aio.Channel) -> None:
    stub = model_grpc.ModelServiceStub(channel)
    for request_id in ("first-call", "second-call"):
        call = stub.ListModels(model_pb.ListModelsRequest(), metadata=(("x-request-id", request_id),))
        await call
        assert dict(await call.trailing_metadata()).get("x-request-id") == request_id


async def test_an_oversized_call_does_not_refuse_the_next_call_of_the_method(
    channel: grpc.aio.Channel,
) -> None:
    stub = model_grpc.ModelServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(model_pb.ListModelsRequest(), metadata=[("x-padding", "t" * 100_000)])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await stub.ListModels(model_pb.ListModelsRequest(), metadata=[("x-padding", "t" * 100)])


async def test_each_call_of_a_method_is_authenticated_by_its_own_credential(
    routeur: RunningServer,
) -> None:
    async with open_channel(routeur.address, None) as channel:
        stub = model_grpc.ModelServiceStub(channel)

        def list_models_as(api_key: str) -> grpc.aio.UnaryUnaryCall:
            return stub.ListModels(
                model_pb.ListModelsRequest(), metadata=(("authorization", f"Bearer {api_key}"),)
            )

        await list_models_as(ADMIN_API_KEY)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await list_models_as("rk_deadbeef_not-a-real-key-at-all-0000000000000")
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await list_models_as(ADMIN_API_KEY)
