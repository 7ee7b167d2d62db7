"""Fixtures of the fault suite: a Routeur whose provider is a fake OpenAI upstream (fast,
deterministic answers), and Envoy in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakes import FakeOpenAI
from support import RunningServer, server_settings, start_server

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig


@dataclass
class FakeBacked:
    server: RunningServer
    fake: FakeOpenAI
    settings: Any


def fake_backed_settings(data_dir: Path, fake: FakeOpenAI, **overrides: object) -> Any:
    return server_settings(
        data_dir,
        local_model_enabled=False,
        providers=[{"name": "openai", "type": "openai", "base_url": f"{fake.url}/v1",
                    "api_key": "sk-fault-suite"}],
        retry_initial_backoff_s=0.01,
        retry_max_backoff_s=0.05,
        **overrides,
    )


@pytest.fixture(scope="module")
async def fake_openai_upstream() -> AsyncIterator[FakeOpenAI]:
    fake = FakeOpenAI()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def fake_backed(
    tmp_path_factory: pytest.TempPathFactory, fake_openai_upstream: FakeOpenAI
) -> AsyncIterator[FakeBacked]:
    settings = fake_backed_settings(tmp_path_factory.mktemp("fault-suite"), fake_openai_upstream)
    running = await start_server(settings)
    yield FakeBacked(running, fake_openai_upstream, settings)
    await running.server.stop(1.0)


async def start_gateway(upstream: str, log_path: Path, **config: object) -> EnvoyProcess:
    """A real Envoy on free ports in front of `upstream`, once its health check passes."""
    envoy = EnvoyProcess(
        GatewayConfig(
            upstreams=(upstream,), rest_port=0, admin_port=0, health_check_interval_s=0.3,
            **config,  # type: ignore[arg-type]
        ),
        concurrency=1,
        log_path=log_path,
    )
    await envoy.start(timeout_s=30.0)
    return envoy


@pytest.fixture(scope="module")
async def envoy(
    fake_backed: FakeBacked, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EnvoyProcess]:
    """Envoy in front of `fake_backed`."""
    envoy = await start_gateway(
        fake_backed.server.address, tmp_path_factory.mktemp("fault-envoy") / "envoy.log"
    )
    yield envoy
    await envoy.stop()
