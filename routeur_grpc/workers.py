"""Several server processes behind one port (`ROUTEUR_WORKERS`).

One Python process uses one core. With `workers` above 1, the process started by
`routeur-grpc serve` serves no call itself. It:

- prepares the data once (migrations, generated secrets, first administrator), so that
  the workers do not race for it;
- reserves the ports: the public gRPC port, which every worker binds (`SO_REUSEPORT`: the
  kernel spreads incoming connections over them), and one private gRPC port and one
  realtime WebSocket port per worker, on 127.0.0.1, which the gateway balances over
  (Envoy keeps few connections open, so spreading connections would not spread its load);
- starts the workers as new interpreters (`spawn`: nothing of this process, threads or
  gRPC state, is copied into them) and restarts one that dies, on the same ports;
- runs Envoy and the Prometheus endpoint once, the latter adding up every worker's figures
  (prometheus-client's multiprocess mode);
- on SIGTERM or SIGINT, lets every worker drain its calls, then stops Envoy.

Each worker is a whole server: its own connections to the store and the providers, its own
response cache and circuit breakers, and its own copy of the local models. The embedded
model's weights are a memory-mapped file, so the page cache holds them once for every
worker; the speech-to-text model is loaded by each worker. Rate-limit counters must be
shared, hence `redis_url`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import TYPE_CHECKING

from routeur_grpc.settings import Settings

if TYPE_CHECKING:
    from routeur_grpc.gateway.supervisor import GatewaySupervisor
    from routeur_grpc.observability.metrics_server import MetricsServer

log = logging.getLogger(__name__)

PRIVATE_HOST = "127.0.0.1"
READY = "ready"
RESTART_BACKOFF_S = (0.5, 30.0)  # first delay before a dead worker is started again, and cap
STABLE_AFTER_S = 60.0  # a worker that ran this long starts again after the first delay
_PR_SET_PDEATHSIG = 1


class WorkersError(Exception):
    """The workers cannot start; the message says why and what to change."""


def worker_count(settings: Settings) -> int:
    """How many server processes to run: `workers`, or one per usable core (0) when the
    rate-limit counters are shared, else one."""
    if settings.workers:
        if settings.workers > 1 and not settings.redis_url:
            raise WorkersError(
                f"ROUTEUR_WORKERS={settings.workers} needs ROUTEUR_REDIS_URL: rate limits and "
                "budgets are counted in each process otherwise, and every worker would allow "
                "the whole limit. Set ROUTEUR_REDIS_URL, or ROUTEUR_WORKERS=1."
            )
        return settings.workers
    return len(os.sched_getaffinity(0)) if settings.redis_url else 1


@dataclass
class _Worker:
    index: int
    grpc_port: int  # private, for the gateway
    websocket_port: int
    process: BaseProcess | None = None
    restarts: int = 0  # since it last ran for STABLE_AFTER_S
    started_at: float = 0.0


def reserve_port(host: str, port: int = 0) -> socket.socket:
    """A bound, not listening, `SO_REUSEPORT` socket: the port stays ours (no other program
    can take it) while the workers bind it too. Close it once they no longer need it."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    reservation = socket.socket(family, socket.SOCK_STREAM)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    reservation.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        reservation.bind((host.strip("[]"), port))
    except OSError:
        reservation.close()
        raise
    return reservation


async def serve_workers(settings: Settings, count: int) -> None:
    """Run `count` workers until SIGTERM/SIGINT (see the module's description)."""
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    pool = WorkerPool(settings, count)
    try:
        await pool.start()
        await pool.supervise(stopping)
    finally:
        await pool.stop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)


class WorkerPool:
    """`count` workers behind one gRPC port, the gateway and the metrics endpoint."""

    def __init__(self, settings: Settings, count: int) -> None:
        self.settings = settings
        self.count = count
        self.address = ""
        self.rest_url: str | None = None
        self.metrics_url: str | None = None
        self._workers: list[_Worker] = []
        self._reservations: list[socket.socket] = []
        self._metrics_dir: Path | None = None
        self._gateway: GatewaySupervisor | None = None
        self._metrics_server: MetricsServer | None = None
        self._shared: Settings | None = None

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process is not None and w.process.pid]

    async def start(self) -> None:
        """Prepare the data, start the workers, then the metrics endpoint and the gateway;
        return once all serve. StartupError or WorkersError when one cannot."""
        from routeur_grpc.application import AuthSetupError, prepare_data
        from routeur_grpc.gateway import GatewayError, envoy_process_for
        from routeur_grpc.gateway.config import local_upstream
        from routeur_grpc.gateway.supervisor import GatewaySupervisor
        from routeur_grpc.observability.metrics_server import start_multiprocess_metrics_server
        from routeur_grpc.server import StartupError
        from routeur_grpc.settings import SettingsError

        settings = self.settings
        try:
            await prepare_data(settings)
        except (AuthSetupError, SettingsError) as error:  # as `build_server` reports them
            raise StartupError(str(error)) from None
        host, _, port = settings.grpc_address.rpartition(":")
        self._metrics_dir = Path(tempfile.mkdtemp(prefix="routeur-metrics-"))
        # Read by prometheus-client when a worker imports it: its figures go to files there.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(self._metrics_dir)
        try:
            public = reserve_port(host, int(port))
        except OSError as error:
            raise StartupError(
                f"Cannot listen on {settings.grpc_address} (ROUTEUR_GRPC_ADDRESS): "
                f"{error.strerror or error}. Is another process using that port?"
            ) from None
        self._reservations.append(public)
        self.address = f"{host}:{public.getsockname()[1]}"
        self._shared = settings.model_copy(update={
            "grpc_address": self.address,
            "gateway_enabled": False,
            "metrics_port": None,
            "workers": 1,
        })
        for index in range(self.count):
            grpc_reservation = reserve_port(PRIVATE_HOST)
            websocket_reservation = reserve_port(PRIVATE_HOST)
            self._reservations += [grpc_reservation, websocket_reservation]
            self._workers.append(_Worker(index, grpc_reservation.getsockname()[1],
                                         websocket_reservation.getsockname()[1]))
        await asyncio.gather(*(_start(worker, self._shared) for worker in self._workers))
        log.info("gRPC server listening", extra={"address": self.address, "workers": self.count})
        if settings.metrics_port is not None:
            self._metrics_server = start_multiprocess_metrics_server(
                self._metrics_dir, settings.metrics_host, settings.metrics_port
            )
            self.metrics_url = f"http://{settings.metrics_host}:{self._metrics_server.port}/metrics"
        if settings.gateway_enabled:
            workers = self._workers
            gateway_settings = settings.model_copy(update={
                "gateway_upstreams": settings.gateway_upstreams or [
                    local_upstream(f"{PRIVATE_HOST}:{w.grpc_port}") for w in workers],
                "gateway_websocket_upstreams": settings.gateway_websocket_upstreams or [
                    f"{PRIVATE_HOST}:{w.websocket_port}" for w in workers],
            })
            self._gateway = GatewaySupervisor(
                envoy_process_for(gateway_settings),
                start_timeout_s=settings.gateway_start_timeout_s,
                initial_backoff_s=settings.gateway_restart_backoff_s,
            )
            try:
                await self._gateway.start()
            except GatewayError as error:
                raise StartupError(
                    f"The REST gateway did not start: {error} "
                    "(ROUTEUR_GATEWAY_ENABLED=false runs gRPC alone)."
                ) from None
            self.rest_url = self._gateway.rest_url
            log.info("REST gateway listening", extra={"url": self.rest_url})

    async def supervise(self, stopping: asyncio.Event) -> None:
        """Until `stopping` is set: start again, on the same ports, a worker that died."""
        from prometheus_client import multiprocess

        assert self._shared is not None
        stop = asyncio.create_task(stopping.wait())
        try:
            while True:
                exits = {asyncio.create_task(_exited(w)): w for w in self._workers}
                done, _ = await asyncio.wait({stop, *exits}, return_when=asyncio.FIRST_COMPLETED)
                for task in exits:
                    task.cancel()
                if stop in done:
                    return
                for task in done:
                    worker = exits[task]
                    process = worker.process
                    assert process is not None
                    multiprocess.mark_process_dead(process.pid, str(self._metrics_dir))
                    if asyncio.get_running_loop().time() - worker.started_at >= STABLE_AFTER_S:
                        worker.restarts = 0
                    delay = min(RESTART_BACKOFF_S[0] * 2 ** worker.restarts, RESTART_BACKOFF_S[1])
                    log.error("worker exited; starting it again", extra={
                        "worker": worker.index, "pid": process.pid, "status": process.exitcode,
                        "restart_in_s": delay,
                    })
                    worker.restarts += 1
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(asyncio.shield(stop), delay)
                    if stop.done():
                        return
                    try:
                        await _start(worker, self._shared)
                    except WorkersError as error:
                        log.error("worker did not start", extra={"worker": worker.index,
                                                                "error": str(error)[:400]})
                    else:
                        log.info("worker started again", extra={"worker": worker.index,
                                                                "restarts": worker.restarts})
        finally:
            stop.cancel()

    async def stop(self) -> None:
        """Let every worker drain its calls, then stop the gateway and release the rest."""
        log.info("shutting down", extra={"grace_s": self.settings.shutdown_grace_s})
        await _stop_all(self._workers, self.settings.shutdown_grace_s)
        if self._gateway is not None:
            await self._gateway.stop()
        if self._metrics_server is not None:
            self._metrics_server.stop()
        for reservation in self._reservations:
            reservation.close()
        if self._metrics_dir is not None:
            if os.environ.get("PROMETHEUS_MULTIPROC_DIR") == str(self._metrics_dir):
                del os.environ["PROMETHEUS_MULTIPROC_DIR"]
            shutil.rmtree(self._metrics_dir, ignore_errors=True)
        log.info("stopped")


async def _exited(worker: _Worker) -> None:
    assert worker.process is not None
    sentinel = worker.process.sentinel
    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    loop.add_reader(sentinel, lambda: ended.done() or ended.set_result(None))
    try:
        await ended
    finally:
        loop.remove_reader(sentinel)
    worker.process.join()


async def _start(worker: _Worker, shared: Settings) -> None:
    """Start one worker and return once it serves; WorkersError when it cannot."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    settings = shared.model_copy(update={
        "realtime_websocket_address": f"{PRIVATE_HOST}:{worker.websocket_port}",
    })
    process = context.Process(
        target=run_worker,
        args=(settings, worker.index, f"{PRIVATE_HOST}:{worker.grpc_port}", sender, os.getpid()),
        name=f"routeur-worker-{worker.index}",
    )
    process.start()
    sender.close()
    worker.process = process
    loop = asyncio.get_running_loop()
    worker.started_at = loop.time()
    try:
        message = await loop.run_in_executor(None, _receive, receiver)
    finally:
        receiver.close()
    if message != READY:  # the process is on its way out; the caller waits for it
        raise WorkersError(f"worker {worker.index} did not start: {message}")


def _receive(receiver: Connection) -> str:
    try:
        return str(receiver.recv())
    except EOFError:
        return "it exited while starting (its log says why)"


async def _stop_all(workers: list[_Worker], grace_s: float) -> None:
    """SIGTERM to every worker; SIGKILL to those still running after the grace period."""
    running = [w.process for w in workers if w.process is not None and w.process.is_alive()]
    for process in running:
        process.terminate()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace_s + 10.0
    for process in running:
        await loop.run_in_executor(None, process.join, max(0.0, deadline - loop.time()))
        if process.is_alive():
            log.error("worker did not stop in time; killing it", extra={"pid": process.pid})
            process.kill()
            await loop.run_in_executor(None, process.join)


def run_worker(
    settings: Settings, index: int, private_address: str, ready: Connection, parent_pid: int
) -> None:
    """A worker process's body: one whole server, until SIGTERM/SIGINT."""
    _die_with_parent(parent_pid)
    from routeur_grpc import event_loop
    from routeur_grpc.server import StartupError
    from routeur_grpc.structured_logging import configure_logging, describe_exception

    configure_logging(settings.log_level, settings.log_format, worker=index)
    try:
        event_loop.run(_serve_worker(settings, private_address, ready), settings.event_loop)
    except StartupError as error:  # its message says what to change: the main process shows it
        with contextlib.suppress(OSError):
            ready.send(str(error)[:1000])
        raise SystemExit(1) from None
    except Exception as error:  # noqa: BLE001 - an unforeseen failure: where, not what (secrets)
        log.error("worker stopped on an unexpected error", extra=describe_exception(error))
        with contextlib.suppress(OSError):
            ready.send("it failed while starting (its log says where)")
        raise SystemExit(1) from None


async def _serve_worker(settings: Settings, private_address: str, ready: Connection) -> None:
    from routeur_grpc.garbage_collection import freeze_startup_objects
    from routeur_grpc.server import build_server

    routeur, _ = await build_server(settings, more_addresses=(private_address,))
    await routeur.start(reuse_port=True)
    freeze_startup_objects()
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    ready.send(READY)
    ready.close()
    await stopping.wait()
    await routeur.stop(settings.shutdown_grace_s)


def _die_with_parent(parent_pid: int) -> None:
    """A worker whose main process is killed (even by SIGKILL) gets SIGTERM: no worker
    outlives it holding the port."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent_pid:  # it died before prctl
        os.kill(os.getpid(), signal.SIGTERM)
