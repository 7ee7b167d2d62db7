"""Starting a real Envoy for a test: free ports, bounded wait, its log kept for failures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig

ENVOY_START_TIMEOUT_S = 30.0
HEALTH_CHECK_INTERVAL_S = 0.3


async def start_envoy(upstreams: Sequence[str], log_path: Path, **config: object) -> EnvoyProcess:
    """Envoy on a free port in front of `upstreams`, once one of them passes its health check."""
    envoy = EnvoyProcess(
        GatewayConfig(
            upstreams=tuple(upstreams),
            rest_port=0,
            admin_port=0,
            health_check_interval_s=HEALTH_CHECK_INTERVAL_S,
            **config,  # type: ignore[arg-type]
        ),
        concurrency=1,
        log_path=log_path,
    )
    await envoy.start(timeout_s=ENVOY_START_TIMEOUT_S)
    return envoy
