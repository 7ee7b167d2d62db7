"""HealthService servicer: the `/health` JSON keys of the CAPL Routeur IA API."""

from __future__ import annotations

import grpc
from google.protobuf import timestamp_pb2
from routeur.v1 import health_service_pb2 as pb
from routeur.v1 import health_service_pb2_grpc as pb_grpc

from routeur_grpc import __version__
from routeur_grpc.services.health import HealthChecker

SERVICE_TITLE = "Routeur"


class HealthServicer(pb_grpc.HealthServiceServicer):
    def __init__(self, checker: HealthChecker, environment: str) -> None:
        self._checker = checker
        self._environment = environment

    async def GetHealth(
        self, request: pb.GetHealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetHealthResponse:
        report = await self._checker.report()
        now = timestamp_pb2.Timestamp()
        now.GetCurrentTime()
        return pb.GetHealthResponse(
            status=report.status,
            version=__version__,
            title=SERVICE_TITLE,
            environment=self._environment,
            timestamp=now,
            components=[
                pb.ComponentHealth(
                    name=c.name, status="healthy" if c.healthy else "unhealthy", message=c.message
                )
                for c in report.components
            ],
        )
