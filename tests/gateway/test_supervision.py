"""Envoy is supervised: when it exits it is restarted, its exit is logged, health shows the
gateway down meanwhile, and its process never sees Routeur's secrets."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from routeur.v1 import health_service_pb2 as health_service_pb
from routeur.v1 import health_service_pb2_grpc as health_service_grpc
from support import RunningServer, auth_headers, open_channel, server_settings, start_server

from routeur_grpc.gateway.envoy_process import envoy_environment
from routeur_grpc.gateway.supervisor import GatewaySupervisor
from routeur_grpc.server import GATEWAY_HEALTH_SERVICE

pytestmark = pytest.mark.slow

SECRET_KEY = "sk-supervision-secret"
RESTART_BACKOFF_S = 1.5


async def until(predicate: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not await predicate():
            await asyncio.sleep(0.05)


@pytest.fixture(scope="module")
async def supervised(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[tuple[RunningServer, GatewaySupervisor]]:
    data: Path = tmp_path_factory.mktemp("supervised")
    settings = server_settings(
        data,
        local_model_enabled=False,
        rest_port=0,
        gateway_admin_port=0,
        gateway_health_check_interval_s=0.3,
        gateway_restart_backoff_s=RESTART_BACKOFF_S,
        providers=[{"name": "openai", "type": "openai", "base_url": "http://127.0.0.1:9/v1",
                    "api_key": SECRET_KEY}],
    )
    running = await start_server(settings)
    port = int(running.address.rpartition(":")[2])
    supervisor = await running.server.supervise_gateway(settings, port)
    yield running, supervisor
    await supervisor.stop()
    await running.server.stop(0)


async def gateway_health(address: str) -> tuple[int, str]:
    async with open_channel(address) as channel:
        grpc_health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=GATEWAY_HEALTH_SERVICE), timeout=5
        )
        report = await health_service_grpc.HealthServiceStub(channel).GetHealth(
            health_service_pb.GetHealthRequest(), timeout=5
        )
    gateway = next(c for c in report.components if c.name == "gateway")
    return grpc_health.status, gateway.status


def test_envoys_environment_is_an_allowlist() -> None:
    environment = envoy_environment({
        "PATH": "/usr/bin", "LANG": "C.UTF-8", "ROUTEUR_PROVIDERS": f'[{{"api_key": "{SECRET_KEY}"}}]',
        "OPENAI_API_KEY": SECRET_KEY, "HOME": "/root",
    })
    assert environment == {"PATH": "/usr/bin", "LANG": "C.UTF-8"}


async def test_envoy_runs_without_routeurs_secrets(supervised) -> None:
    _, supervisor = supervised
    environ = Path(f"/proc/{supervisor.envoy.pid}/environ").read_bytes()
    assert b"ROUTEUR_" not in environ
    assert SECRET_KEY.encode() not in environ


async def test_after_envoy_exits_it_is_restarted_and_health_shows_the_outage(
    supervised, caplog: pytest.LogCaptureFixture
) -> None:
    running, supervisor = supervised
    serving = health_pb2.HealthCheckResponse.SERVING
    assert await gateway_health(running.address) == (serving, "healthy")
    rest_url = supervisor.rest_url
    old_pid = supervisor.envoy.pid

    with caplog.at_level(logging.INFO):
        async with httpx.AsyncClient(timeout=5.0) as admin:
            await admin.post(f"{supervisor.envoy.admin_url}/quitquitquit")
        await until(lambda: _down(running.address))
        grpc_status, component = await gateway_health(running.address)
        assert grpc_status == health_pb2.HealthCheckResponse.NOT_SERVING
        assert component == "unhealthy"

        await until(lambda: _rest_answers(rest_url))
        # Envoy may answer a moment before the supervisor has seen it ready.
        await until(lambda: _up(running.address))
    assert supervisor.envoy.pid != old_pid
    assert supervisor.rest_url == rest_url  # same port as before
    assert await gateway_health(running.address) == (serving, "healthy")
    messages = [record.getMessage() for record in caplog.records]
    assert "REST gateway (Envoy) exited; restarting" in messages
    assert "REST gateway (Envoy) restarted" in messages


async def _down(address: str) -> bool:
    return (await gateway_health(address))[1] == "unhealthy"


async def _up(address: str) -> bool:
    return (await gateway_health(address))[1] == "healthy"


async def _rest_answers(rest_url: str) -> bool:
    try:
        async with httpx.AsyncClient(base_url=rest_url, timeout=2.0) as client:
            return (await client.get("/health", headers=auth_headers())).status_code == 200
    except httpx.HTTPError:
        return False
