"""`serve` starts gRPC and the REST gateway; SIGTERM lets in-flight streams finish, then
both exit cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import grpc
import httpx
import pytest
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import ADMIN_API_KEY, auth_metadata

pytestmark = pytest.mark.slow  # `serve` in another process, with Envoy

LOCAL_MODEL = "local/smollm2-135m-instruct"


def start_server(tmp_path) -> tuple[subprocess.Popen, str, str]:
    """`routeur-grpc serve` in a child process; its gRPC address and REST URL."""
    env = {
        **os.environ,
        "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
        "ROUTEUR_DATA_DIR": str(tmp_path),
        "ROUTEUR_LOG_FORMAT": "json",
        "ROUTEUR_SHUTDOWN_GRACE_S": "30",
        "ROUTEUR_REST_PORT": "0",
        "ROUTEUR_GATEWAY_ADMIN_PORT": "0",
        "ROUTEUR_BOOTSTRAP_ADMIN_KEY": ADMIN_API_KEY,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "routeur_grpc", "serve"],
        env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        address, rest_url = _wait_until_listening(process)
    except BaseException:
        process.kill()  # a failed start must not leave a server (and its Envoy) behind
        process.wait()
        raise
    # Keep reading its log, so that a full pipe never blocks the server.
    threading.Thread(target=process.stderr.read, daemon=True).start()
    return process, address, rest_url


def _wait_until_listening(process: subprocess.Popen) -> tuple[str, str]:
    address = None
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        if not line.startswith("{"):
            continue  # native libraries (gRPC core, llama.cpp) write plain lines of their own
        entry = json.loads(line)
        if entry["msg"] == "gRPC server listening":
            address = entry["address"]
        if entry["msg"] == "REST gateway listening":
            return address, entry["url"]
    raise AssertionError("the server did not start")


def test_serve_answers_over_grpc_and_rest_and_sigterm_drains_an_in_flight_stream(tmp_path):
    process, address, rest_url = start_server(tmp_path)
    try:
        health = httpx.get(f"{rest_url}/health", timeout=30)
        assert health.status_code == 200 and health.json()["status"] == "healthy"
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            stream = stub.StreamCompletion(
                pb.StreamCompletionRequest(message="Tell a story.", model=LOCAL_MODEL, max_tokens=40),
                timeout=120,
                metadata=auth_metadata(),
            )
            first = next(stream)
            process.send_signal(signal.SIGTERM)
            rest = list(stream)
        assert first.content is not None
        assert rest and rest[-1].done and not rest[-1].HasField("error")
        assert process.wait(timeout=60) == 0
        with pytest.raises(httpx.ConnectError):  # Envoy has gone with it
            httpx.get(f"{rest_url}/health", timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
