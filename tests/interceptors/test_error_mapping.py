"""One interceptor maps errors to status, for unary and streaming handlers alike.

These tests run a real grpc.aio server with the production interceptors in front of small
servicers that fail on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from routeur.v1 import (
    completion_service_pb2 as completion_pb,
)
from routeur.v1 import (
    completion_service_pb2_grpc as completion_grpc,
)
from routeur.v1 import (
    model_service_pb2 as model_pb,
)
from routeur.v1 import (
    model_service_pb2_grpc as model_grpc,
)
from support import error_info, trailing

from routeur_grpc.errors import NotFound, ResourceExhausted
from routeur_grpc.interceptors.error_mapping import ErrorMappingInterceptor
from routeur_grpc.interceptors.request_context import RequestContextInterceptor

SECRET = "sk-live-DO-NOT-LEAK"


class FailingModels(model_grpc.ModelServiceServicer):
    async def ListModels(self, request, context):
        raise ValueError(f"connection string with {SECRET}")

    async def GetModel(self, request, context):
        if request.name == "busy":
            raise ResourceExhausted("Too many requests: retry in 2.5 s.", retry_after_s=2.5)
        raise NotFound(f"No model named {request.name!r}.", metadata={"model": request.name})


class FailingStream(completion_grpc.CompletionServiceServicer):
    async def StreamCompletion(self, request, context) -> AsyncIterator[completion_pb.StreamCompletionResponse]:
        yield completion_pb.StreamCompletionResponse(content="first")
        if request.message == "bug":
            raise KeyError(SECRET)
        raise NotFound("The thing went away.")


@pytest.fixture(scope="module")
async def failing_channel():
    server = grpc.aio.server(interceptors=[RequestContextInterceptor(), ErrorMappingInterceptor()])
    model_grpc.add_ModelServiceServicer_to_server(FailingModels(), server)
    completion_grpc.add_CompletionServiceServicer_to_server(FailingStream(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(None)


async def test_a_domain_error_keeps_its_code_message_and_reason(failing_channel):
    stub = model_grpc.ModelServiceStub(failing_channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetModel(model_pb.GetModelRequest(name="x"))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert caught.value.details() == "No model named 'x'."
    info = error_info(caught.value)
    assert (info.reason, info.domain, dict(info.metadata)) == ("NOT_FOUND", "routeur", {"model": "x"})


async def test_a_retryable_error_says_when_to_retry(failing_channel):
    stub = model_grpc.ModelServiceStub(failing_channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GetModel(model_pb.GetModelRequest(name="busy"))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    status = rpc_status.from_call(caught.value)
    retry = error_details_pb2.RetryInfo()
    assert any(detail.Unpack(retry) for detail in status.details if detail.Is(retry.DESCRIPTOR))
    assert retry.retry_delay.seconds == 2 and retry.retry_delay.nanos == 500_000_000


async def test_an_unexpected_error_is_internal_and_tells_nothing_inside(failing_channel, caplog):
    stub = model_grpc.ModelServiceStub(failing_channel)
    with caplog.at_level(logging.INFO), pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(model_pb.ListModelsRequest(), metadata=(("x-request-id", "r-1"),))
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert SECRET not in caught.value.details() and "ValueError" not in caught.value.details()
    assert "r-1" in caught.value.details()
    assert trailing(caught.value, "x-request-id") == "r-1"
    logged = "\n".join(f"{record.getMessage()} {vars(record)}" for record in caplog.records)
    assert "ValueError" in logged and SECRET not in logged and "Traceback" not in logged


async def test_a_streaming_handler_error_after_a_message_becomes_its_status(failing_channel):
    stub = completion_grpc.CompletionServiceStub(failing_channel)
    received = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for chunk in stub.StreamCompletion(completion_pb.StreamCompletionRequest(message="x")):
            received.append(chunk.content)
    assert received == ["first"]
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    assert error_info(caught.value).reason == "NOT_FOUND"


async def test_a_streaming_handler_bug_is_internal_without_detail(failing_channel):
    stub = completion_grpc.CompletionServiceStub(failing_channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for _ in stub.StreamCompletion(completion_pb.StreamCompletionRequest(message="bug")):
            pass
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert SECRET not in caught.value.details()
