"""Shared fixtures: the real Routeur server on port 0 with a temporary data directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from routeur_grpc.server import RouteurServer, build_server
from routeur_grpc.settings import Settings

LOCAL_MODEL = "local/smollm2-135m-instruct"


@dataclass(frozen=True)
class RunningServer:
    address: str
    server: RouteurServer
    data_dir: Path


def server_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test server: any free port, a private data directory, short answers."""
    values: dict[str, object] = {
        "grpc_address": "127.0.0.1:0",
        "data_dir": data_dir,
        "log_format": "text",
        "local_model_max_tokens": 24,
        "shutdown_grace_s": 2.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def start_server(settings: Settings) -> RunningServer:
    server, port = await build_server(settings)
    await server.start()
    return RunningServer(f"127.0.0.1:{port}", server, settings.data_dir)


@pytest.fixture(scope="session")
async def routeur(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningServer]:
    """One real server for the whole session (the local model loads once)."""
    running = await start_server(server_settings(tmp_path_factory.mktemp("routeur-data")))
    yield running
    await running.server.stop(grace=1.0)


@pytest.fixture(scope="session")
async def channel(routeur: RunningServer) -> AsyncIterator[grpc.aio.Channel]:
    async with grpc.aio.insecure_channel(routeur.address) as channel:
        yield channel
