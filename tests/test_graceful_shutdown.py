"""SIGTERM lets in-flight streams finish, then the server exits cleanly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import grpc

from routeur.v1 import completion_service_pb2 as pb, completion_service_pb2_grpc as pb_grpc

LOCAL_MODEL = "local/smollm2-135m-instruct"


def start_server(tmp_path) -> tuple[subprocess.Popen, str]:
    env = {
        **os.environ,
        "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0",
        "ROUTEUR_DATA_DIR": str(tmp_path),
        "ROUTEUR_LOG_FORMAT": "json",
        "ROUTEUR_SHUTDOWN_GRACE_S": "30",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "routeur_grpc", "serve"],
        env=env, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        entry = json.loads(line)
        if entry["msg"] == "gRPC server listening":
            return process, entry["address"]
    process.kill()
    raise AssertionError("the server did not start")


def test_sigterm_drains_an_in_flight_stream(tmp_path):
    process, address = start_server(tmp_path)
    try:
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            stream = stub.StreamCompletion(
                pb.StreamCompletionRequest(message="Tell a story.", model=LOCAL_MODEL, max_tokens=40),
                timeout=120,
            )
            first = next(stream)
            process.send_signal(signal.SIGTERM)
            rest = list(stream)
        assert first.content is not None
        assert rest and rest[-1].done and not rest[-1].HasField("error")
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.stderr.close()
