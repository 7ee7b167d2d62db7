"""Two server instances behind one Envoy: calls spread over both (least request: of two
picked at random, the one with fewer calls in flight), health-checked over
grpc.health.v1."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from gateway_support import start_envoy
from support import auth_headers, server_settings, start_server

from routeur_grpc.gateway.envoy_process import healthy_upstreams

pytestmark = pytest.mark.slow


async def _until(predicate, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not await predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_calls_spread_over_both_and_fail_over(tmp_path_factory: pytest.TempPathFactory):
    # Instance B has no local model, so /health's components tell which instance answered.
    a = await start_server(server_settings(tmp_path_factory.mktemp("instance-a")))
    b = await start_server(
        server_settings(tmp_path_factory.mktemp("instance-b"), local_model_enabled=False)
    )
    envoy = await start_envoy(
        [a.address, b.address], tmp_path_factory.mktemp("envoy-two") / "envoy.log"
    )
    try:
        async with (
            httpx.AsyncClient(base_url=envoy.rest_url, timeout=30, headers=auth_headers()) as rest,
            httpx.AsyncClient(timeout=5) as admin,
        ):
            await _until(lambda: _healthy(admin, envoy.admin_url, 2))
            # Sequential calls tie on calls in flight, so each instance is a coin toss:
            # 40 calls all on one side would be a 1-in-2^39 chance.
            seen = [await _instance(rest) for _ in range(40)]
            assert set(seen) == {"a", "b"}, seen

            await b.server.stop(grace=0.5)
            await _until(lambda: _healthy(admin, envoy.admin_url, 1))
            assert [await _instance(rest) for _ in range(6)] == ["a"] * 6
    finally:
        await envoy.stop()
        await a.server.stop(grace=0.5)
        await b.server.stop(grace=0.5)


async def _instance(rest: httpx.AsyncClient) -> str:
    response = await rest.get("/health")
    assert response.status_code == 200, response.text
    names = {component["name"] for component in response.json()["components"]}
    return "a" if "local_model" in names else "b"


async def _healthy(admin: httpx.AsyncClient, admin_url: str, count: int) -> bool:
    return await healthy_upstreams(admin, admin_url) == count
