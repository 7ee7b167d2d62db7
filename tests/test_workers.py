"""`ROUTEUR_WORKERS`: several server processes behind one gRPC port and one gateway, their
metrics added up, a dead worker started again, SIGTERM draining them all."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import pytest
from redis_server import running_redis
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import ADMIN_API_KEY, auth_headers, auth_metadata

from routeur_grpc.gateway.envoy_process import healthy_upstreams
from routeur_grpc.settings import Settings
from routeur_grpc.workers import WorkersError, worker_count

LOCAL_MODEL = "local/smollm2-135m-instruct"


def test_more_than_one_worker_needs_shared_counters() -> None:
    with pytest.raises(WorkersError, match="ROUTEUR_REDIS_URL"):
        worker_count(Settings(workers=2))
    assert worker_count(Settings(workers=2, redis_url="redis://127.0.0.1:6379/0")) == 2


def test_by_default_one_worker_per_core_when_counters_are_shared() -> None:
    assert worker_count(Settings()) == 1
    cores = len(os.sched_getaffinity(0))
    assert worker_count(Settings(redis_url="redis://127.0.0.1:6379/0")) == cores


def test_serve_refuses_two_workers_without_redis(tmp_path: Path) -> None:
    env = {**os.environ, "ROUTEUR_WORKERS": "2", "ROUTEUR_DATA_DIR": str(tmp_path)}
    env.pop("ROUTEUR_REDIS_URL", None)
    done = subprocess.run([sys.executable, "-m", "routeur_grpc", "serve"], check=False, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "ROUTEUR_WORKERS=2 needs ROUTEUR_REDIS_URL" in done.stderr
    assert "Traceback" not in done.stderr


@dataclass
class Served:
    process: subprocess.Popen
    address: str = ""
    rest_url: str = ""
    admin_url: str = ""
    metrics_url: str = ""
    log: list[dict] = field(default_factory=list)

    def messages(self) -> list[str]:
        return [entry.get("msg", "") for entry in list(self.log)]


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[Served]:
    with running_redis(tmp_path) as redis_url:
        env = {
            **os.environ,
            "ROUTEUR_WORKERS": "2",
            "ROUTEUR_REDIS_URL": redis_url,
            "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
            "ROUTEUR_DATA_DIR": str(tmp_path / "data"),
            "ROUTEUR_LOG_FORMAT": "json",
            "ROUTEUR_REST_PORT": "0",
            "ROUTEUR_GATEWAY_ADMIN_PORT": "0",
            "ROUTEUR_METRICS_PORT": "0",
            "ROUTEUR_BOOTSTRAP_ADMIN_KEY": ADMIN_API_KEY,
        }
        process = subprocess.Popen([sys.executable, "-m", "routeur_grpc", "serve"],
                                   env=env, stderr=subprocess.PIPE, text=True)
        served = Served(process)
        try:
            _read_until_listening(served)
            threading.Thread(target=_keep_reading, args=(served,), daemon=True).start()
            yield served
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _read_until_listening(served: Served) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        entry = _next_entry(served)
        if entry is None:
            break
        message = entry.get("msg", "")
        if message == "gRPC server listening":
            served.address = entry["address"]
        elif message == "metrics listening":
            served.metrics_url = entry["url"]
        elif admin := re.search(r"\(admin (http://[^)]+)\)", message):
            served.admin_url = admin.group(1)
        elif message == "REST gateway listening":
            served.rest_url = entry["url"]
            return
    raise AssertionError(f"the server did not start: {served.messages()}")


def _next_entry(served: Served) -> dict | None:
    while line := served.process.stderr.readline():
        if line.startswith("{"):  # native libraries write plain lines of their own
            entry = json.loads(line)
            served.log.append(entry)
            return entry
    return None


def _keep_reading(served: Served) -> None:
    while _next_entry(served) is not None:
        pass


def _workers_of(pid: int) -> set[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return {int(child) for child in children
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()}


def _requests_by_upstream(admin_url: str) -> dict[str, int]:
    clusters = httpx.get(f"{admin_url}/clusters", timeout=10).text
    return {host: int(count) for host, count
            in re.findall(r"^routeur_grpc::([\d.:]+)::rq_total::(\d+)$", clusters, re.MULTILINE)}


def _until(predicate, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


async def _healthy_upstreams(admin_url: str) -> int:
    async with httpx.AsyncClient(timeout=5) as admin:
        return await healthy_upstreams(admin, admin_url)


@pytest.mark.slow
def test_the_gateway_balances_over_both_workers_and_serves_their_metrics_together(
    two_workers: Served,
) -> None:
    assert len(_workers_of(two_workers.process.pid)) == 2
    with httpx.Client(base_url=two_workers.rest_url, headers=auth_headers(), timeout=30) as rest:
        for _ in range(40):
            assert rest.get("/v1/models").status_code == 200
    served_by = _requests_by_upstream(two_workers.admin_url)
    assert len(served_by) == 2 and all(count > 0 for count in served_by.values())

    metrics = httpx.get(two_workers.metrics_url, timeout=10).text
    listed = re.search(r'^routeur_rpc_requests_total\{[^}]*rpc_method="ListOpenAIModels"[^}]*\} '
                       r"([\d.]+)$", metrics, re.MULTILINE)
    assert listed and float(listed.group(1)) == 40.0
    # Each worker publishes its breakers; the embedded model's circuit is closed in both.
    closed = re.compile(r'^routeur_circuit_state\{[^}]*gen_ai_provider_name="local"[^}]*\} 0\.0$',
                        re.MULTILINE)
    _until(lambda: closed.search(httpx.get(two_workers.metrics_url, timeout=10).text),
           timeout_s=10)


@pytest.mark.slow
def test_a_worker_that_dies_is_started_again_on_the_same_port(two_workers: Served) -> None:
    before = _workers_of(two_workers.process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    _until(lambda: len(_workers_of(two_workers.process.pid) - {victim}) == 2)
    _until(lambda: "worker started again" in two_workers.messages())
    assert "worker exited; starting it again" in two_workers.messages()
    assert {entry["worker"] for entry in list(two_workers.log) if "worker" in entry} == {0, 1}
    # Envoy's upstreams are fixed at start: if the new worker listened elsewhere, one of
    # them would stay unhealthy and get no call.
    _until(lambda: asyncio.run(_healthy_upstreams(two_workers.admin_url)) == 2)
    before_calls = _requests_by_upstream(two_workers.admin_url)
    with httpx.Client(base_url=two_workers.rest_url, headers=auth_headers(), timeout=30) as rest:
        for _ in range(40):
            assert rest.get("/v1/models").status_code == 200
    after_calls = _requests_by_upstream(two_workers.admin_url)
    assert all(after_calls[host] > before_calls[host] for host in before_calls), after_calls


@pytest.mark.slow
def test_sigterm_drains_an_in_flight_stream_and_stops_every_worker(two_workers: Served) -> None:
    workers = _workers_of(two_workers.process.pid)
    with grpc.insecure_channel(two_workers.address) as channel:
        stub = pb_grpc.CompletionServiceStub(channel)
        stream = stub.StreamCompletion(
            pb.StreamCompletionRequest(message="Tell a story.", model=LOCAL_MODEL, max_tokens=40),
            timeout=120, metadata=auth_metadata(),
        )
        first = next(stream)
        two_workers.process.send_signal(signal.SIGTERM)
        rest = list(stream)
    assert first.content is not None
    assert rest and rest[-1].done and not rest[-1].HasField("error")
    assert two_workers.process.wait(timeout=60) == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{two_workers.rest_url}/health", timeout=5)


@pytest.mark.slow
def test_a_worker_that_cannot_start_stops_serve_with_its_reason(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "ROUTEUR_WORKERS": "2",
        "ROUTEUR_REDIS_URL": "redis://127.0.0.1:9/0",  # never reached: the start fails first
        "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
        "ROUTEUR_DATA_DIR": str(tmp_path),
        "ROUTEUR_REST_PORT": "0",
        "ROUTEUR_LOCAL_MODEL_ENABLED": "false",
        "ROUTEUR_TRANSCRIPTION_LOCAL_ENABLED": "false",  # and no other engine
    }
    done = subprocess.run([sys.executable, "-m", "routeur_grpc", "serve"], check=False, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "did not start: transcription_engine 'local' is not a configured engine" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_settings_refused_while_preparing_the_data_stop_serve_with_their_message(
    tmp_path: Path,
) -> None:
    env = {
        **os.environ,
        "ROUTEUR_WORKERS": "2",
        "ROUTEUR_REDIS_URL": "redis://127.0.0.1:9/0",
        "ROUTEUR_ENVIRONMENT": "production",  # which needs a JWT secret of its own
        "ROUTEUR_DATA_DIR": str(tmp_path),
    }
    for name in ("ROUTEUR_JWT_SECRET", "ROUTEUR_JWT_PRIVATE_KEY_FILE"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "routeur_grpc", "serve"], check=False,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "ROUTEUR_JWT_SECRET" in done.stderr
    assert "Traceback" not in done.stderr
