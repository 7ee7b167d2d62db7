"""The clients of the gateway benchmarks: one path each (the upstream or LiteLLM over HTTP,
Routeur over REST or gRPC), timed one call at a time, and the load generators (`wrk` and
`h2load` from Debian) that saturate them.

Each path has a `name`, `unary()` (seconds for one whole answer) and `first_token()`
(seconds to the first piece of text of a streamed answer).
"""

from __future__ import annotations

import http.client
import json
import re
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import grpc
from bench_support import AUTH_METADATA, BENCH_ADMIN_KEY
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import openai_compat_service_pb2 as openai_pb
from routeur.v1 import openai_compat_service_pb2_grpc as openai_pb_grpc

MODEL = "gpt-4o"
MESSAGE = "Say hello."
CHAT_BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": MESSAGE}]}
).encode()
STREAM_BODY = json.dumps(
    {"model": MODEL, "messages": [{"role": "user", "content": MESSAGE}], "stream": True}
).encode()


class HttpPath:
    """An OpenAI-compatible `/v1/chat/completions` on one keep-alive HTTP/1.1 connection."""

    def __init__(self, name: str, url: str, key: str = BENCH_ADMIN_KEY) -> None:
        self.name = name
        self.url = url.rstrip("/")
        self.key = key
        host, port = self.url.removeprefix("http://").split(":")
        self._connection = http.client.HTTPConnection(host, int(port), timeout=60)

    def unary(self) -> float:
        started = time.perf_counter()
        self._connection.request(
            "POST", "/v1/chat/completions", CHAT_BODY,
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        response = self._connection.getresponse()
        body = response.read()
        elapsed = time.perf_counter() - started
        if response.status != 200:
            raise RuntimeError(f"{self.name}: HTTP {response.status} {body[:200]!r}")
        return elapsed

    def first_token(self) -> float:
        started = time.perf_counter()
        self._connection.request(
            "POST", "/v1/chat/completions", STREAM_BODY,
            {"Content-Type": "application/json", "Authorization": f"Bearer {self.key}"},
        )
        response = self._connection.getresponse()
        first = None
        while True:
            line = response.readline()
            if not line:
                break
            if first is None and line.startswith(b"data:") and b'"content"' in line:
                first = time.perf_counter() - started
        if response.status != 200 or first is None:
            raise RuntimeError(f"{self.name}: stream failed ({response.status})")
        return first


def time_to_first_text(stream: Iterable[Any], has_text: Callable[[Any], bool]) -> float:
    """Seconds until the first message of `stream` with text; the stream is read to its end."""
    started = time.perf_counter()
    first = None
    for message in stream:
        if first is None and has_text(message):
            first = time.perf_counter() - started
    assert first is not None
    return first


class GrpcPath:
    name = "Routeur gRPC Complete"

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.CompletionServiceStub(self._channel)

    def unary(self) -> float:
        started = time.perf_counter()
        self._stub.Complete(pb.CompleteRequest(message=MESSAGE, model=MODEL), timeout=60,
                           metadata=AUTH_METADATA)
        return time.perf_counter() - started

    def first_token(self) -> float:
        return time_to_first_text(self._stub.StreamCompletion(
            pb.StreamCompletionRequest(message=MESSAGE, model=MODEL), timeout=60,
            metadata=AUTH_METADATA,
        ), lambda chunk: bool(chunk.content))


class GrpcChatPath:
    """OpenAICompatService over gRPC: the model alone, no agent."""

    name = "Routeur gRPC CreateChatCompletion"

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)
        self._stub = openai_pb_grpc.OpenAICompatServiceStub(self._channel)

    def unary(self) -> float:
        started = time.perf_counter()
        self._stub.CreateChatCompletion(chat_request(openai_pb.CreateChatCompletionRequest),
                                        timeout=60, metadata=AUTH_METADATA)
        return time.perf_counter() - started

    def first_token(self) -> float:
        return time_to_first_text(self._stub.StreamChatCompletion(
            chat_request(openai_pb.StreamChatCompletionRequest), timeout=60,
            metadata=AUTH_METADATA,
        ), lambda chunk: any(choice.delta.content for choice in chunk.choices))


def chat_request(kind: Any) -> Any:
    """A CreateChatCompletionRequest or StreamChatCompletionRequest asking MESSAGE of MODEL."""
    request = kind(model=MODEL)
    request.messages.add(role="user").content.string_value = MESSAGE
    return request


# --- load generators ----------------------------------------------------------------------------


def wrk(
    url: str, duration_s: int, connections: int, key: str = BENCH_ADMIN_KEY
) -> dict[str, float]:
    script = Path(tempfile.mkdtemp()) / "post.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(CHAT_BODY.decode())}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
        f'wrk.headers["Authorization"] = "Bearer {key}"\n'
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "-s", str(script),
         f"{url}/v1/chat/completions"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses:\s+(\d+)", out))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return {"rps": rps, "errors": errors, "connections": connections}


GRPC_METHODS = {
    "Complete": ("routeur.v1.CompletionService/Complete",
                 lambda: pb.CompleteRequest(message=MESSAGE, model=MODEL)),
    "CreateChatCompletion": ("routeur.v1.OpenAICompatService/CreateChatCompletion",
                             lambda: chat_request(openai_pb.CreateChatCompletionRequest)),
}


def h2load(
    address: str, duration_s: int, clients: int, streams: int, method: str = "Complete"
) -> dict[str, float]:
    path, request = GRPC_METHODS[method]
    message = request().SerializeToString()
    data = Path(tempfile.mkdtemp()) / "request.bin"
    data.write_bytes(struct.pack(">?I", False, len(message)) + message)
    out = subprocess.run(
        ["h2load", "-D", str(duration_s), "-c", str(clients), "-m", str(streams), "-t", "1",
         "-d", str(data), "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"authorization: Bearer {BENCH_ADMIN_KEY}",
         f"http://{address}/{path}"],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out).group(1))
    failed = re.search(r"requests: .* (\d+) failed, (\d+) errored", out)
    errors = int(failed.group(1)) + int(failed.group(2)) if failed else 0
    return {"rps": rps, "errors": errors, "connections": clients, "streams_per_connection": streams}
