"""Fixtures of the realtime tests: a fake OpenAI upstream, a Routeur server over it, and
sessions opened on it (cancelled at the end of each test)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from fakes import FakeOpenAI
from openai_backed import start_openai_backed_server
from support import RunningServer, open_channel

from .realtime_client import SESSION_CAP, SessionClient


@pytest.fixture(scope="session")
async def openai_upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def fake_openai(openai_upstream: FakeOpenAI) -> FakeOpenAI:
    openai_upstream.reset()
    return openai_upstream


@pytest.fixture(scope="module")
async def realtime_server(
    tmp_path_factory: pytest.TempPathFactory, openai_upstream: FakeOpenAI
) -> AsyncIterator[RunningServer]:
    running = await start_openai_backed_server(
        tmp_path_factory.mktemp("realtime"),
        openai_upstream,
        realtime_max_sessions_per_caller=SESSION_CAP,
    )
    yield running
    await running.server.stop(grace=0.5)


@pytest.fixture
async def realtime_channel(realtime_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with open_channel(realtime_server.address) as channel:
        yield channel


@pytest.fixture
def open_session(realtime_channel: grpc.aio.Channel):
    """Open sessions on the realtime server; each is closed at the end of the test."""
    opened: list[SessionClient] = []

    def open_one(channel: grpc.aio.Channel | None = None) -> SessionClient:
        client = SessionClient(channel or realtime_channel)
        opened.append(client)
        return client

    yield open_one
    for client in opened:
        client.call.cancel()
