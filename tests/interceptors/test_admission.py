"""Admission: oversized metadata is the caller's mistake; a full server says when to retry.

gRPC's own limits answered RESOURCE_EXHAUSTED (which clients retry) naming internal
headers; an unbounded server took every call. Now metadata beyond `max_request_headers_kb`
is INVALID_ARGUMENT, and calls beyond `max_concurrent_calls` are UNAVAILABLE with RetryInfo
(health checks always get in).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from fakes import FakeOpenAI
from fakes.http_server import Fault
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import model_service_pb2 as model_pb
from routeur.v1 import model_service_pb2_grpc as model_grpc
from support import RunningServer, error_info, open_channel, server_settings, start_server, trailing

LIMIT = 2


@pytest.mark.parametrize("kilobytes", [40, 60, 200])
async def test_oversized_metadata_is_invalid_argument_naming_no_header(
    channel: grpc.aio.Channel, kilobytes: int
) -> None:
    stub = model_grpc.ModelServiceStub(channel)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ListModels(
            model_pb.ListModelsRequest(),
            metadata=[("authorization", "Bearer " + "t" * kilobytes * 1024)],
            timeout=10,
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(caught.value).reason == "REQUEST_HEADERS_TOO_LARGE"
    for internal in (":path", "user-agent", "grpc-", "te:", "authorization"):
        assert internal not in caught.value.details()


async def test_metadata_within_the_limit_is_accepted(channel: grpc.aio.Channel) -> None:
    stub = model_grpc.ModelServiceStub(channel)
    await stub.ListModels(
        model_pb.ListModelsRequest(), metadata=[("x-padding", "t" * 10_240)]
    )


@pytest.fixture
async def hanging_openai() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    fake.always(Fault("hang"))
    yield fake
    fake.always(None)
    await fake.stop()


@pytest.fixture
async def small_server(tmp_path: Path, hanging_openai: FakeOpenAI) -> AsyncIterator[RunningServer]:
    """A server admitting `LIMIT` calls, whose only provider never answers."""
    running = await start_server(server_settings(
        tmp_path,
        local_model_enabled=False,
        max_concurrent_calls=LIMIT,
        providers=[{"name": "openai", "type": "openai", "base_url": f"{hanging_openai.url}/v1",
                    "api_key": "sk-test"}],
    ))
    yield running
    await running.server.stop(0)


async def hold_calls(channel: grpc.aio.Channel, count: int) -> list[asyncio.Task[object]]:
    stub = pb_grpc.CompletionServiceStub(channel)
    request = pb.StreamCompletionRequest(message="Bonjour", model="gpt-4o")
    calls = [stub.StreamCompletion(request, timeout=30) for _ in range(count)]
    tasks = [asyncio.create_task(call.read()) for call in calls]
    await asyncio.sleep(0.5)  # let them reach the (hanging) upstream
    return [*tasks, *calls]  # type: ignore[list-item]


async def test_beyond_the_limit_a_call_is_unavailable_with_retry_info(
    small_server: RunningServer,
) -> None:
    async with open_channel(small_server.address) as channel:
        held = await hold_calls(channel, LIMIT)
        stub = model_grpc.ModelServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await stub.ListModels(model_pb.ListModelsRequest(), timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert error_info(caught.value).reason == "OVERLOADED"
        status = rpc_status.from_call(caught.value)  # type: ignore[arg-type]
        assert any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)
        assert trailing(caught.value, "retry-after") == "1"

        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING

        for item in held:
            item.cancel()
        await asyncio.sleep(0.3)
        await stub.ListModels(model_pb.ListModelsRequest(), timeout=10)  # room again
