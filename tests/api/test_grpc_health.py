"""`grpc.health.v1.Health/List`: every service with its status, over the real server."""

from __future__ import annotations

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def test_list_names_every_service_with_its_status(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    listing = await stub.List(health_pb2.HealthListRequest(), timeout=5)
    statuses = listing.statuses
    assert statuses[""].status == health_pb2.HealthCheckResponse.SERVING
    assert statuses["routeur.v1.CompletionService"].status == health_pb2.HealthCheckResponse.SERVING
    assert len(statuses) > 5
