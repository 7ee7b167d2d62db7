"""QuotaService servicer: users' own rate limits and budgets, protobuf in and out."""

from __future__ import annotations

import grpc
from routeur.v1 import quota_service_pb2 as pb
from routeur.v1 import quota_service_pb2_grpc as pb_grpc

from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.records import UserLimits
from routeur_grpc.services.user_limits import UserLimitsService


class QuotaServicer(pb_grpc.QuotaServiceServicer):
    def __init__(self, limits: UserLimitsService, currency: str, budget_period: str) -> None:
        self._limits = limits
        self._currency = currency
        self._period = budget_period

    async def GetUserLimits(
        self, request: pb.GetUserLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUserLimitsResponse:
        limits = await self._limits.get(request.user_id)
        return pb.GetUserLimitsResponse(limits=self._message(request.user_id, limits))

    async def UpdateUserLimits(
        self, request: pb.UpdateUserLimitsRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateUserLimitsResponse:
        given = request.limits
        limits = await self._limits.set(
            given.user_id,
            requests_per_minute=(
                given.requests_per_minute if given.HasField("requests_per_minute") else None
            ),
            tokens_per_minute=(
                given.tokens_per_minute if given.HasField("tokens_per_minute") else None
            ),
            budget=given.budget if given.HasField("budget") else None,
        )
        return pb.UpdateUserLimitsResponse(limits=self._message(given.user_id, limits))

    def _message(self, user_id: str, limits: UserLimits | None) -> pb.UserLimits:
        message = pb.UserLimits(
            user_id=user_id, currency=self._currency, budget_period=self._period
        )
        if limits is None:
            return message
        if limits.requests_per_minute is not None:
            message.requests_per_minute = limits.requests_per_minute
        if limits.tokens_per_minute is not None:
            message.tokens_per_minute = limits.tokens_per_minute
        if limits.budget is not None:
            message.budget = limits.budget
        message.updated_at.CopyFrom(timestamp(limits.update_time))
        return message
