"""The fuzz suite's short profile: every routeur.v1 RPC, over gRPC (typed messages and raw
bytes) and over REST through the real Envoy, with the verdict of `fuzzing.Verdict`: never
INTERNAL or UNKNOWN (HTTP 500/502), never a class name or stack text, never past the
deadline; and the server healthy afterwards. `bench/fuzz.py` runs the same cases at length.
"""

from __future__ import annotations

import httpx
import pytest
from fuzzing import Verdict, every_rpc, run_fuzz_client
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support import auth_headers, open_channel

from routeur_grpc.gateway import EnvoyProcess

pytestmark = pytest.mark.slow

SEED = 20261130  # the short profile is the same run every time
TYPED_PER_RPC = 4
RAW_PER_RPC = 3
REST_PER_RPC = 3


def assert_clean(verdict: Verdict) -> None:
    assert verdict.cases > 0
    assert verdict.failures == [], "\n".join(verdict.failures[:20])


def test_every_service_of_the_package_is_fuzzed() -> None:
    services = {rpc.service for rpc in every_rpc()}
    assert {"routeur.v1.CompletionService", "routeur.v1.ConversationService"} <= services
    assert len(every_rpc()) >= 50


async def test_typed_messages_over_grpc(fake_backed) -> None:
    verdict = await run_fuzz_client(
        "grpc", fake_backed.server.address, str(TYPED_PER_RPC), "--seed", str(SEED)
    )
    assert_clean(verdict)


async def test_raw_bytes_over_grpc(fake_backed) -> None:
    verdict = await run_fuzz_client(
        "grpc", fake_backed.server.address, str(RAW_PER_RPC), "--raw", "--seed", str(SEED)
    )
    assert_clean(verdict)


async def test_rest_requests_through_envoy(envoy: EnvoyProcess) -> None:
    verdict = await run_fuzz_client("rest", envoy.rest_url, str(REST_PER_RPC), "--seed", str(SEED))
    assert_clean(verdict)


async def test_the_server_is_healthy_afterwards(fake_backed, envoy: EnvoyProcess) -> None:
    async with open_channel(fake_backed.server.address) as channel:
        reply = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(), timeout=5
        )
    assert reply.status == health_pb2.HealthCheckResponse.SERVING
    async with httpx.AsyncClient(base_url=envoy.rest_url, timeout=10) as client:
        response = await client.get("/health", headers=auth_headers())
    assert response.status_code == 200
    assert response.json()["status"] == "healthy"
