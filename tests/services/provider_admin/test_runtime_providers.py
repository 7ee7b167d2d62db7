"""Providers added through the API answer completions at once, without a restart, and on a
second instance sharing the store after its next poll."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
from fakes import FakeOpenAI
from routeur.v1 import completion_service_pb2 as cpb
from routeur.v1 import completion_service_pb2_grpc as cpb_grpc
from routeur.v1 import health_service_pb2, health_service_pb2_grpc
from routeur.v1 import provider_service_pb2 as pb
from routeur.v1 import provider_service_pb2_grpc as pb_grpc
from support import open_channel, start_server

from .conftest import admin_settings

MODEL = "gpt-4o-mini"


async def _ask(channel: grpc.aio.Channel) -> cpb.CompleteResponse | grpc.aio.AioRpcError:
    stub = cpb_grpc.CompletionServiceStub(channel)
    try:
        return await stub.Complete(cpb.CompleteRequest(message="Bonjour", model=MODEL))
    except grpc.aio.AioRpcError as error:
        return error


async def _health(channel: grpc.aio.Channel) -> dict[str, tuple[str, str]]:
    stub = health_service_pb2_grpc.HealthServiceStub(channel)
    report = await stub.GetHealth(health_service_pb2.GetHealthRequest())
    return {c.name: (c.status, c.message) for c in report.components}


async def _eventually_answers(
    channel: grpc.aio.Channel, timeout_s: float = 15.0
) -> cpb.CompleteResponse:
    deadline = time.monotonic() + timeout_s
    while True:
        outcome = await _ask(channel)
        if isinstance(outcome, cpb.CompleteResponse):
            return outcome
        assert time.monotonic() < deadline, f"never answered: {outcome.details()}"
        await asyncio.sleep(0.1)


async def test_a_provider_created_at_run_time_answers_here_and_on_another_instance(
    tmp_path: Path, fake_openai: FakeOpenAI
):
    a = await start_server(admin_settings(tmp_path))
    b = await start_server(admin_settings(tmp_path))  # same data_dir: same store, same key
    try:
        async with open_channel(a.address) as one, open_channel(b.address) as two:
            before = await _ask(one)
            assert isinstance(before, grpc.aio.AioRpcError)
            admin = pb_grpc.ProviderServiceStub(one)
            created = (
                await admin.CreateProvider(
                    pb.CreateProviderRequest(
                        provider=pb.Provider(
                            provider_type="openai",
                            name="OpenAI",
                            api_key="sk-runtime-key-00001111",
                            base_url=f"{fake_openai.url}/v1",
                        )
                    )
                )
            ).provider

            answer = await _ask(one)  # applied at once on the instance that changed it
            assert isinstance(answer, cpb.CompleteResponse), answer
            assert answer.response == fake_openai.reply_text
            assert (
                fake_openai.requests[-1].headers["authorization"]
                == "Bearer sk-runtime-key-00001111"
            )

            other = await _eventually_answers(two)  # after its next poll
            assert other.response == fake_openai.reply_text
            for channel in (one, two):  # each instance reports it with its circuit
                status, message = (await _health(channel))["provider:OpenAI"]
                assert status == "healthy" and "circuit closed" in message

            await admin.ToggleProvider(
                pb.ToggleProviderRequest(provider_id=created.provider_id, enabled=False)
            )
            off = await _ask(one)
            assert isinstance(off, grpc.aio.AioRpcError)
            assert off.code() != grpc.StatusCode.INTERNAL
            assert "provider:OpenAI" not in await _health(one)
    finally:
        await a.server.stop(0.5)
        await b.server.stop(0.5)
