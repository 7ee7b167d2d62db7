"""Helpers shared by the tests: names, credentials, and AIP-193 error details read off a
failed call."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status
from routeur.v1 import user_service_pb2, user_service_pb2_grpc

from routeur_grpc.server import RouteurServer, build_server
from routeur_grpc.settings import Settings

LOCAL_MODEL = "local/smollm2-135m-instruct"

# The API key of the admin every test server creates at its first start
# (ROUTEUR_BOOTSTRAP_ADMIN_KEY): tests call as this admin unless they say otherwise.
ADMIN_API_KEY = "rk_testadmn_" + "T3st-Only-Admin-Key-Never-Use-It-Anywhere-0"


@dataclass(frozen=True)
class RunningServer:
    address: str
    server: RouteurServer
    data_dir: Path


def server_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for a test server: any free port, a private data directory, short answers."""
    values: dict[str, object] = {
        "grpc_address": "127.0.0.1:0",
        "data_dir": data_dir,
        "log_format": "text",
        "local_model_max_tokens": 24,
        "shutdown_grace_s": 2.0,
        "bootstrap_admin_key": ADMIN_API_KEY,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def start_server(settings: Settings) -> RunningServer:
    server, port = await build_server(settings)
    await server.start()
    return RunningServer(f"127.0.0.1:{port}", server, settings.data_dir)


def open_channel(address: str, api_key: str | None = ADMIN_API_KEY) -> grpc.aio.Channel:
    """A client channel to a test server, carrying the test caller's credentials.

    Tests open their own channels through this (or use the `channel` fixture), so that
    credentials are added in one place. `api_key=None` sends no credential.
    """
    if api_key is None:
        return grpc.aio.insecure_channel(address)
    return grpc.aio.insecure_channel(address, interceptors=bearer_interceptors(api_key))


def auth_headers(api_key: str = ADMIN_API_KEY) -> dict[str, str]:
    """HTTP headers carrying the test caller's credentials, for REST calls through Envoy."""
    return {"Authorization": f"Bearer {api_key}"}


def auth_metadata(api_key: str = ADMIN_API_KEY) -> tuple[tuple[str, str], ...]:
    """gRPC metadata carrying a credential, for channels made without `open_channel`."""
    return (("authorization", f"Bearer {api_key}"),)


class _BearerCredential:
    """Adds `authorization: Bearer <credential>` to the calls of a channel. grpc.aio files
    an interceptor under one call kind only, so there is one subclass per kind below."""

    def __init__(self, credential: str) -> None:
        self._header = ("authorization", f"Bearer {credential}")

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        if "authorization" not in metadata:
            metadata.add(*self._header)
        return grpc.aio.ClientCallDetails(
            details.method, details.timeout, metadata, details.credentials,
            details.wait_for_ready,
        )


class _UnaryUnaryBearer(_BearerCredential, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _UnaryStreamBearer(_BearerCredential, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._details(details), request)


class _StreamUnaryBearer(_BearerCredential, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._details(details), requests)


class _StreamStreamBearer(_BearerCredential, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(
        self, continuation: Any, details: Any, requests: Any
    ) -> Any:
        return await continuation(self._details(details), requests)


def bearer_interceptors(credential: str) -> list[Any]:
    """Client interceptors sending `credential` on every call of a grpc.aio channel."""
    kinds = (_UnaryUnaryBearer, _UnaryStreamBearer, _StreamUnaryBearer, _StreamStreamBearer)
    return [kind(credential) for kind in kinds]


@dataclass(frozen=True)
class UserCredentials:
    """A user made for a test, with an API key of their own."""

    user_id: str
    username: str
    api_key: str
    key_id: str


async def create_user(
    address: str, *, role: str = "user", username: str = "", password: str = ""
) -> UserCredentials:
    """A new user (a plain `user` unless told) and an API key of theirs, made by the admin."""
    username = username or f"user-{uuid.uuid4().hex[:10]}"
    async with open_channel(address) as channel:
        users = user_service_pb2_grpc.UserServiceStub(channel)
        created = await users.CreateUser(
            user_service_pb2.CreateUserRequest(
                user=user_service_pb2.User(username=username, role=role), password=password
            )
        )
        key = await users.CreateApiKey(
            user_service_pb2.CreateApiKeyRequest(user_id=created.user.user_id, name="tests")
        )
    return UserCredentials(created.user.user_id, username, key.secret, key.api_key.key_id)


async def user_id_of(address: str, api_key: str = ADMIN_API_KEY) -> str:
    """The user id a credential authenticates as (the owner of what it stores)."""
    async with open_channel(address, api_key) as channel:
        users = user_service_pb2_grpc.UserServiceStub(channel)
        response = await users.GetUser(user_service_pb2.GetUserRequest(user_id="me"))
    return response.user.user_id


def with_auth(metadata: Sequence[tuple[str, str]] = ()) -> tuple[tuple[str, str], ...]:
    """`metadata` plus the admin's credential."""
    return (*metadata, *auth_metadata())


def error_info(error: grpc.aio.AioRpcError) -> error_details_pb2.ErrorInfo:
    """The ErrorInfo detail of a failed call (fails the test if there is none)."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "no grpc-status-details-bin trailer"
    return unpack_error_info(status)


def unpack_error_info(status: status_pb2.Status) -> error_details_pb2.ErrorInfo:
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError(f"no ErrorInfo in {status}")


def trailing(error: grpc.aio.AioRpcError, key: str) -> str | None:
    return dict(error.trailing_metadata() or ()).get(key)
