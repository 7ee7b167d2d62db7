"""Helpers shared by the tests: names, and AIP-193 error details read off a failed call."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from routeur_grpc.server import RouteurServer, build_server
from routeur_grpc.settings import Settings

LOCAL_MODEL = "local/smollm2-135m-instruct"


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
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


async def start_server(settings: Settings) -> RunningServer:
    server, port = await build_server(settings)
    await server.start()
    return RunningServer(f"127.0.0.1:{port}", server, settings.data_dir)


def open_channel(address: str) -> grpc.aio.Channel:
    """A client channel to a test server, carrying the test caller's credentials.

    Tests open their own channels through this (or use the `channel` fixture), so that
    credentials are added in one place.
    """
    return grpc.aio.insecure_channel(address)


def auth_headers() -> dict[str, str]:
    """HTTP headers carrying the test caller's credentials, for REST calls through Envoy."""
    return {}


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
