"""The REST gateway: Envoy in front of the gRPC server, started as a child process.

    gateway = await start_gateway(settings, grpc_port=port)   # beside the gRPC server
    ...
    await gateway.stop()

    await run_gateway(settings)   # Envoy only, until SIGTERM/SIGINT (server runs elsewhere)

See envoy.yaml at the top of the repository for what Envoy does, and
`routeur_grpc.gateway.config` for the values it is rendered with.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from routeur_grpc.gateway.config import (
    GatewayConfig,
    GatewayConfigError,
    GatewayError,
    local_upstream,
)
from routeur_grpc.gateway.envoy_process import EnvoyProcess
from routeur_grpc.settings import Settings

__all__ = [
    "EnvoyProcess",
    "GatewayConfig",
    "GatewayConfigError",
    "GatewayError",
    "envoy_process_for",
    "run_gateway",
    "start_gateway",
]

log = logging.getLogger(__name__)


def envoy_process_for(
    settings: Settings, *, grpc_port: int | None = None, websocket_port: int | None = None
) -> EnvoyProcess:
    """An Envoy (not started) configured from the settings.

    `grpc_port` is the port the local gRPC server actually bound, when `grpc_address` asked
    for port 0; it is ignored when `gateway_upstreams` names the servers. `websocket_port`
    is the same for the realtime WebSocket endpoint (`gateway_websocket_upstreams`).
    """
    overrides: dict[str, Any] = {}
    if grpc_port is not None and not settings.gateway_upstreams:
        host = settings.grpc_address.rpartition(":")[0]
        overrides["upstreams"] = (local_upstream(f"{host}:{grpc_port}"),)
    if websocket_port is not None and not settings.gateway_websocket_upstreams:
        host = settings.realtime_websocket_address.rpartition(":")[0]
        overrides["websocket_upstreams"] = (local_upstream(f"{host}:{websocket_port}"),)
    return EnvoyProcess(
        GatewayConfig.from_settings(settings, **overrides),
        log_level=settings.gateway_log_level,
        concurrency=settings.gateway_concurrency,
        log_path=settings.data_dir / "envoy.log",
    )


async def start_gateway(
    settings: Settings,
    *,
    grpc_port: int | None = None,
    websocket_port: int | None = None,
    wait_for_upstream: bool = True,
) -> EnvoyProcess:
    """Start Envoy and return once it serves REST (and an upstream server is healthy)."""
    envoy = envoy_process_for(settings, grpc_port=grpc_port, websocket_port=websocket_port)
    await envoy.start(
        timeout_s=settings.gateway_start_timeout_s,
        wait_for_upstream=wait_for_upstream,
    )
    return envoy


async def run_gateway(settings: Settings) -> int:
    """Run Envoy alone until SIGTERM/SIGINT or until it exits; its exit status.

    For deployments where the gRPC servers run elsewhere (`gateway_upstreams`): Envoy does
    not wait for them, it health-checks them and routes to those that answer.
    """
    envoy = await start_gateway(settings, wait_for_upstream=False)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    log.info("REST gateway running", extra={"url": envoy.rest_url})
    exited = asyncio.create_task(envoy.wait())
    stop = asyncio.create_task(stopping.wait())
    await asyncio.wait({exited, stop}, return_when=asyncio.FIRST_COMPLETED)
    if exited.done():
        stop.cancel()
        status = exited.result()
        log.error("Envoy exited by itself", extra={"status": status})
        await envoy.stop()
        return status or 1
    exited.cancel()
    await envoy.stop()
    return 0
