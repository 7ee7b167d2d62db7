"""The server exposes every routeur.v1 contract, health checking and reflection."""

from __future__ import annotations

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from routeur.v1 import (
    health_service_pb2,
    health_service_pb2_grpc,
    realtime_service_pb2,
    realtime_service_pb2_grpc,
)

from routeur_grpc.server import SERVICES

EVERY_SERVICE = sorted(service.full_name for service in SERVICES)


async def test_reflection_lists_every_routeur_service_health_and_reflection(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    async for response in stub.ServerReflectionInfo(iter([request])):
        listed = {service.name for service in response.list_services_response.service}
        break
    assert set(EVERY_SERVICE) <= listed
    assert {"grpc.health.v1.Health", "grpc.reflection.v1alpha.ServerReflection"} <= listed
    assert len([name for name in listed if name.startswith("routeur.v1.")]) == len(EVERY_SERVICE)


async def test_reflection_describes_the_completion_contract(channel):
    stub = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(
        file_containing_symbol="routeur.v1.CompletionService"
    )
    async for response in stub.ServerReflectionInfo(iter([request])):
        assert response.file_descriptor_response.file_descriptor_proto
        break


async def test_the_server_as_a_whole_is_serving(channel):
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=""))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize("service", EVERY_SERVICE)
async def test_built_services_report_serving(channel, service):
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service))
    assert response.status == health_pb2.HealthCheckResponse.SERVING


async def test_rest_health_has_the_capl_shape(channel):
    stub = health_service_pb2_grpc.HealthServiceStub(channel)
    response = await stub.GetHealth(health_service_pb2.GetHealthRequest())
    assert response.status == "healthy"
    assert response.version and response.title and response.environment == "development"
    assert response.timestamp.seconds > 0
    assert {c.name: c.status for c in response.components} == {
        "store": "healthy", "local_model": "healthy"
    }


async def test_a_bidirectional_call_is_served(channel):
    stub = realtime_service_pb2_grpc.RealtimeServiceStub(channel)
    ping = realtime_service_pb2.RunSessionRequest(
        ping=realtime_service_pb2.RealtimePing(nonce="n")
    )
    events = [event.WhichOneof("event") async for event in stub.RunSession(iter([ping]))]
    assert events == ["started", "pong"]
