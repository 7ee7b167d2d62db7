"""The standard `grpc.health.v1.Health` service, `List` included.

grpcio-health-checking's asyncio servicer answers `Check` and `Watch` but not `List` (added
to the protocol later), which then answers UNIMPLEMENTED. This subclass lists every service
with its status, as the protocol describes.
"""

from __future__ import annotations

import grpc
from grpc_health.v1 import health, health_pb2


class GrpcHealthServicer(health.aio.HealthServicer):
    """Check, Watch and List over the statuses set with `set`."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthListResponse:
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )
