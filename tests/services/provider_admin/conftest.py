"""A server without the local model, fake upstreams, and a ProviderService stub."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest
from fakes import FakeOllama, FakeOpenAI
from routeur.v1 import provider_service_pb2_grpc as pb_grpc
from support import RunningServer, open_channel, server_settings, start_server

from routeur_grpc.settings import Settings

CONFIG_KEY = "sk-config-file-key-9876"


@pytest.fixture(scope="session")
async def openai_upstream() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture(scope="session")
async def ollama_upstream() -> AsyncIterator[FakeOllama]:
    async with FakeOllama() as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def fake_openai(openai_upstream: FakeOpenAI) -> FakeOpenAI:
    openai_upstream.reset()
    return openai_upstream


@pytest.fixture
def fake_ollama(ollama_upstream: FakeOllama) -> FakeOllama:
    ollama_upstream.reset()
    return ollama_upstream


def admin_settings(data_dir: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "local_model_enabled": False,
        "providers": [
            {
                "name": "from-config",
                "type": "mistral",
                "api_key": CONFIG_KEY,
                "base_url": "http://127.0.0.1:9",
            }
        ],
        "retry_max_attempts": 1,
        "provider_refresh_s": 0.2,
    }
    values.update(overrides)
    return server_settings(data_dir, **values)


@dataclass
class Admin:
    server: RunningServer
    channel: grpc.aio.Channel
    stub: pb_grpc.ProviderServiceStub


@pytest.fixture
async def admin(tmp_path: Path) -> AsyncIterator[Admin]:
    running = await start_server(admin_settings(tmp_path))
    try:
        async with open_channel(running.address) as channel:
            yield Admin(running, channel, pb_grpc.ProviderServiceStub(channel))
    finally:
        await running.server.stop(0.5)
