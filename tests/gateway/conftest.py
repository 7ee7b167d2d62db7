"""Fixtures of the REST gateway tests: a real Envoy process in front of real gRPC servers.

Envoy listens on a port the system picks (read back from its admin interface), its start-up
wait is bounded, and it is stopped at teardown (and dies with the test process anyway).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from gateway_support import start_envoy
from support import RunningServer, auth_headers

from routeur_grpc.gateway import EnvoyProcess


@pytest.fixture(scope="session")
async def gateway(
    routeur: RunningServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[EnvoyProcess]:
    """Envoy in front of the session's Routeur server."""
    log_dir = tmp_path_factory.mktemp("envoy")
    envoy = await start_envoy([routeur.address], log_dir / "envoy.log")
    yield envoy
    await envoy.stop()


@pytest.fixture(scope="session")
async def rest(gateway: EnvoyProcess) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP/1.1 client of the gateway, as curl and browsers are."""
    async with httpx.AsyncClient(
        base_url=gateway.rest_url, timeout=120.0, headers=auth_headers()
    ) as client:
        yield client
