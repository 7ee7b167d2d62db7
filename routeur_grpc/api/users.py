"""UserService servicer: protobuf in, user administration, protobuf out."""

from __future__ import annotations

import grpc
from routeur.v1 import user_service_pb2 as pb
from routeur.v1 import user_service_pb2_grpc as pb_grpc

from routeur_grpc.api.caller import caller_of
from routeur_grpc.api.timestamps import timestamp
from routeur_grpc.domain.records import ApiKey, DailyUsage, UsageRecord, User
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.services.users import UserAdministration, UserChange

UPDATABLE_FIELDS = frozenset({"display_name", "role", "disabled", "password"})
DEFAULT_UPDATE_FIELDS = ("display_name", "role", "disabled")


class UserServicer(pb_grpc.UserServiceServicer):
    def __init__(self, users: UserAdministration, currency: str) -> None:
        self._users = users
        self._currency = currency

    async def ListUsers(
        self, request: pb.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListUsersResponse:
        page = await self._users.list_users(request.page_size, request.page_token)
        return pb.ListUsersResponse(
            users=[user_message(u) for u in page.items], next_page_token=page.next_page_token
        )

    async def GetUser(
        self, request: pb.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUserResponse:
        user = await self._users.get_user(caller_of(context), request.user_id)
        return pb.GetUserResponse(user=user_message(user))

    async def CreateUser(
        self, request: pb.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateUserResponse:
        user = await self._users.create_user(
            username=request.user.username,
            display_name=request.user.display_name,
            role=request.user.role,
            password=request.password,
        )
        return pb.CreateUserResponse(user=user_message(user))

    async def UpdateUser(
        self, request: pb.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateUserResponse:
        fields = list(request.update_mask.paths) or list(DEFAULT_UPDATE_FIELDS)
        unknown = sorted(set(fields) - UPDATABLE_FIELDS)
        if unknown:
            raise InvalidArgument(
                f"`update_mask` names fields that cannot change: {', '.join(unknown)}; "
                f"choose among {', '.join(sorted(UPDATABLE_FIELDS))}.",
                metadata={"field": "update_mask"},
            )
        change = UserChange(
            display_name=request.user.display_name if "display_name" in fields else None,
            role=request.user.role if "role" in fields else None,
            disabled=request.user.disabled if "disabled" in fields else None,
            password=request.password if "password" in fields else None,
        )
        user = await self._users.update_user(caller_of(context), request.user.user_id, change)
        return pb.UpdateUserResponse(user=user_message(user))

    async def DeleteUser(
        self, request: pb.DeleteUserRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteUserResponse:
        await self._users.delete_user(request.user_id)
        return pb.DeleteUserResponse()

    async def CreateApiKey(
        self, request: pb.CreateApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateApiKeyResponse:
        created = await self._users.create_api_key(
            caller_of(context), request.user_id, request.name, request.expires_in
        )
        return pb.CreateApiKeyResponse(api_key=api_key_message(created.key), secret=created.secret)

    async def ListApiKeys(
        self, request: pb.ListApiKeysRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApiKeysResponse:
        keys = await self._users.list_api_keys(caller_of(context), request.user_id)
        return pb.ListApiKeysResponse(api_keys=[api_key_message(k) for k in keys])

    async def RevokeApiKey(
        self, request: pb.RevokeApiKeyRequest, context: grpc.aio.ServicerContext
    ) -> pb.RevokeApiKeyResponse:
        key = await self._users.revoke_api_key(
            caller_of(context), request.user_id, request.key_id
        )
        return pb.RevokeApiKeyResponse(api_key=api_key_message(key))

    async def GetUserUsage(
        self, request: pb.GetUserUsageRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetUserUsageResponse:
        report = await self._users.usage(
            caller_of(context), request.user_id, request.start_date, request.end_date
        )
        return pb.GetUserUsageResponse(
            days=[self._daily(day, str(day.day)) for day in report.days],
            total=self._daily(report.total, ""),
        )

    async def ListUserRequests(
        self, request: pb.ListUserRequestsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListUserRequestsResponse:
        records = await self._users.recent_requests(
            caller_of(context), request.user_id, request.page_size
        )
        return pb.ListUserRequestsResponse(requests=[request_message(r) for r in records])

    def _daily(self, usage: DailyUsage, day: str) -> pb.DailyUsage:
        return pb.DailyUsage(
            date=day,
            requests=usage.requests,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost=usage.cost,
            currency=self._currency,
            emissions_g=usage.emissions_g,
            audio_seconds=usage.audio_seconds,
        )


def user_message(user: User) -> pb.User:
    return pb.User(
        user_id=user.user_id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        disabled=user.disabled,
        created_at=timestamp(user.create_time),
        updated_at=timestamp(user.update_time),
    )


def api_key_message(key: ApiKey) -> pb.ApiKey:
    return pb.ApiKey(
        key_id=key.key_id,
        user_id=key.user_id,
        name=key.name,
        prefix=key.prefix,
        created_at=timestamp(key.create_time),
        last_used_at=timestamp(key.last_used_time),
        revoked=key.revoked,
        expires_at=timestamp(key.expire_time),
    )


def request_message(record: UsageRecord) -> pb.RequestRecord:
    return pb.RequestRecord(
        request_id=record.request_id,
        model=record.model,
        provider=record.provider,
        prompt_tokens=record.prompt_tokens,
        completion_tokens=record.completion_tokens,
        cost=record.cost,
        currency=record.currency,
        emissions_g=record.emissions_g or 0.0,
        latency_s=record.latency_s,
        created_at=timestamp(record.create_time),
    )
