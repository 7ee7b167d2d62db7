"""Fixtures of the analysis tests: a fake OpenAI upstream, and Routeur servers over it on
each store (SQLite, and MongoDB through SecantusDB or ROUTEUR_TEST_MONGODB_URI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from fakes import FakeOpenAI
from openai_backed import start_openai_backed_server
from support import RunningServer, open_channel


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


@pytest.fixture(scope="module", params=["sqlite", "mongodb"])
async def analysis_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    openai_upstream: FakeOpenAI,
) -> AsyncIterator[RunningServer]:
    store: dict[str, object] = {"store": request.param}
    if request.param == "mongodb":
        store["mongodb_uri"] = request.getfixturevalue("mongodb_uri")
        store["mongodb_database"] = f"routeur_analysis_{uuid.uuid4().hex[:10]}"
    running = await start_openai_backed_server(
        tmp_path_factory.mktemp(f"analysis-{request.param}"), openai_upstream, **store
    )
    yield running
    await running.server.stop(grace=0.5)


@pytest.fixture
async def analysis_channel(analysis_server: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with open_channel(analysis_server.address) as channel:
        yield channel
