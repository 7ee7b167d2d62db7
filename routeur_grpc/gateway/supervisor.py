"""Keeps the REST gateway running: Envoy is restarted, with backoff, whenever it exits.

Envoy is a separate process that can die on its own (a crash, an operator's
`/quitquitquit`, the OOM killer). Without a watcher REST would stay down while gRPC health
said SERVING. The supervisor logs each exit, reports the gateway's state to whoever asked
(`on_change`: gRPC health and the HealthService), and starts Envoy again on the same REST
port, waiting `initial_backoff_s`, doubled after each exit that came soon after a start,
up to `max_backoff_s`; a run that lasted `stable_after_s` resets the wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from routeur_grpc.gateway.config import GatewayError
from routeur_grpc.gateway.envoy_process import EnvoyProcess
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class GatewayState:
    """Whether REST is served, and in words why not."""

    up: bool
    message: str = ""
    restarts: int = 0


class GatewayDown(RuntimeError):
    """Raised by `GatewaySupervisor.check` while Envoy is not serving."""


StateListener = Callable[[GatewayState], Awaitable[None]]


class GatewaySupervisor:
    """One Envoy kept alive until `stop()`."""

    def __init__(
        self,
        envoy: EnvoyProcess,
        *,
        on_change: StateListener | None = None,
        start_timeout_s: float = 20.0,
        initial_backoff_s: float = 0.5,
        max_backoff_s: float = 30.0,
        stable_after_s: float = 60.0,
    ) -> None:
        self.envoy = envoy
        self._on_change = on_change
        self._start_timeout_s = start_timeout_s
        self._initial_backoff_s = initial_backoff_s
        self._max_backoff_s = max_backoff_s
        self._stable_after_s = stable_after_s
        self._state = GatewayState(up=False, message="The REST gateway has not started.")
        self._watcher: asyncio.Task[None] | None = None

    @property
    def state(self) -> GatewayState:
        return self._state

    @property
    def rest_url(self) -> str:
        return self.envoy.rest_url

    async def start(self, *, wait_for_upstream: bool = True) -> None:
        """Start Envoy (errors propagate: a gateway that never starts is a startup error)."""
        await self.envoy.start(timeout_s=self._start_timeout_s, wait_for_upstream=wait_for_upstream)
        await self._set(GatewayState(up=True))
        self._watcher = asyncio.create_task(self._watch(), name="envoy-supervisor")

    async def check(self) -> None:
        """A health check: returns while Envoy serves, raises `GatewayDown` otherwise."""
        if not self._state.up:
            raise GatewayDown(self._state.message)

    async def stop(self) -> None:
        """Stop watching, then stop Envoy."""
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        await self.envoy.stop()

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = self._initial_backoff_s
        restarts = 0
        started_at = loop.time()
        while True:
            status = await self.envoy.wait()
            if loop.time() - started_at >= self._stable_after_s:
                backoff = self._initial_backoff_s
            log.warning(
                "REST gateway (Envoy) exited; restarting",
                extra={"status": status, "restart_in_s": backoff, "log_tail": self.envoy.log_tail()},
            )
            await self._set(GatewayState(
                up=False,
                message=f"The REST gateway (Envoy) exited with status {status}; it is being "
                f"restarted. gRPC is not affected.",
                restarts=restarts,
            ))
            while True:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff_s)
                restarts += 1
                try:
                    await self.envoy.restart(timeout_s=self._start_timeout_s)
                except GatewayError as error:
                    log.error(
                        "REST gateway (Envoy) did not restart; trying again",
                        extra={"error": str(error)[:400], "restart_in_s": backoff},
                    )
                    continue
                break
            started_at = loop.time()
            log.info("REST gateway (Envoy) restarted", extra={"url": self.envoy.rest_url,
                                                              "restarts": restarts})
            await self._set(GatewayState(up=True, restarts=restarts))

    async def _set(self, state: GatewayState) -> None:
        self._state = state
        if self._on_change is not None:
            try:
                await self._on_change(state)
            except Exception as error:  # noqa: BLE001 - a listener's failure must not stop supervision
                log.error("gateway state listener failed", extra=describe_exception(error))
