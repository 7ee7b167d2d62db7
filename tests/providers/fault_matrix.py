"""The upstream fault matrix: every provider's fake misbehaving, seen from every face.

A real Routeur server (port 0) routes to six fake upstreams (OpenAI, OpenAI-compatible,
Mistral, Anthropic, Gemini, Ollama) through the real SDKs, with Envoy in front for the REST
faces. For each fault and provider, one streamed completion is asked over gRPC
(`StreamCompletion`), REST SSE (`POST /completion/stream`) and the OpenAI-compatible SSE
(`POST /v1/chat/completions`, `"stream": true`), and the case records what the client saw,
how many requests reached the upstream (retries) and how the router accounted the request.

Used by `test_fault_matrix.py` (assertions) and `bench/fault_matrix.py` (a printed table).
Timeouts are short here (1.5 s to the first token, 0.4 s between tokens) to keep it fast.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
from fakes import (
    FakeAnthropic,
    FakeGemini,
    FakeMistral,
    FakeOllama,
    FakeOpenAI,
    FakeUpstream,
    Fault,
)
from gateway.gateway_support import start_envoy
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import RunningServer, auth_headers, open_channel, server_settings, start_server

from routeur_grpc.gateway import EnvoyProcess

#: Frames sent before a mid-stream fault: at least one piece of text for every protocol.
MID_STREAM = 4
FIRST_TOKEN_TIMEOUT_S = 1.5  # room for a loaded machine; hang and slow-loris wait this long
BETWEEN_TOKENS_TIMEOUT_S = 0.4
ATTEMPTS = 2  # so that a retry shows as two upstream requests

GRPC_CODES = {code.value[0]: code.name for code in grpc.StatusCode}


@dataclass(frozen=True)
class ProviderUnderTest:
    id: str
    type: str
    model: str
    fake: Callable[[], FakeUpstream]
    base_url: Callable[[FakeUpstream], str]


PROVIDERS = [
    ProviderUnderTest("openai", "openai", "gpt-4o", FakeOpenAI, lambda f: f"{f.url}/v1"),
    ProviderUnderTest(
        "openai_compatible", "openai_compatible", "compat/fake-model", FakeOpenAI,
        lambda f: f"{f.url}/v1",
    ),
    ProviderUnderTest("mistral", "mistral", "mistral-large-latest", FakeMistral, lambda f: f.url),
    ProviderUnderTest("anthropic", "anthropic", "claude-haiku-4-5", FakeAnthropic, lambda f: f.url),
    ProviderUnderTest("gemini", "gemini", "gemini-2.5-flash", FakeGemini, lambda f: f.url),
    ProviderUnderTest("ollama", "ollama", "ollama/llama3:8b", FakeOllama, lambda f: f.url),
]


@dataclass(frozen=True)
class FaultCase:
    """A fault, and what the client must see: an error before any text (`before`), or text
    then a last chunk carrying the error (`after`)."""

    name: str
    fault: Fault
    phase: str  # "before" or "after"
    code: grpc.StatusCode

    @property
    def retried(self) -> bool:
        """Nothing is retried once text has reached the client."""
        return self.phase == "before"


FAULTS = [
    FaultCase("500", Fault("status", status=500), "before", grpc.StatusCode.UNAVAILABLE),
    FaultCase(
        "429 Retry-After",
        Fault("status", status=429, retry_after="0.05"),
        "before",
        grpc.StatusCode.RESOURCE_EXHAUSTED,
    ),
    FaultCase("429", Fault("status", status=429), "before", grpc.StatusCode.RESOURCE_EXHAUSTED),
    FaultCase("reset before text", Fault("reset"), "before", grpc.StatusCode.UNAVAILABLE),
    FaultCase(
        "reset after text",
        Fault("drop", after_frames=MID_STREAM),
        "after",
        grpc.StatusCode.UNAVAILABLE,
    ),
    FaultCase(
        "malformed JSON",
        Fault("malformed", after_frames=MID_STREAM),
        "after",
        grpc.StatusCode.UNAVAILABLE,
    ),
    FaultCase(
        "broken SSE frame",
        Fault("broken", after_frames=MID_STREAM),
        "after",
        grpc.StatusCode.UNAVAILABLE,
    ),
    FaultCase("empty answer", Fault("empty"), "before", grpc.StatusCode.UNAVAILABLE),
    FaultCase("wrong content type", Fault("content_type"), "before", grpc.StatusCode.UNAVAILABLE),
    FaultCase(
        "slow-loris", Fault("trickle", delay_s=0.05), "before", grpc.StatusCode.DEADLINE_EXCEEDED
    ),
    FaultCase("hang", Fault("hang"), "before", grpc.StatusCode.DEADLINE_EXCEEDED),
    FaultCase(
        "stall mid-stream",
        Fault("stall", after_frames=MID_STREAM, delay_s=1.2),
        "after",
        grpc.StatusCode.DEADLINE_EXCEEDED,
    ),
]

FACES = ["grpc", "rest_sse", "openai_sse"]

HTTP_STATUS = {
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}

CATALOG = """
[[models]]
name = "compat/fake-model"
provider = "openai_compatible"
upstream_model = "gpt-4o"
input_price_per_million = 1.0
output_price_per_million = 2.0
currency = "EUR"

[fallbacks]
"gpt-4o" = []
"gpt-4o-mini" = []
"claude-sonnet-4-5" = []
"gemini-2.5-flash" = []
"""


class AccountedRecords(logging.Handler):
    """Collects the outcome of every "completion accounted" log line of the router."""

    LOGGER = "routeur_grpc.routing.router"

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.outcomes: list[str] = []
        self._logger = logging.getLogger(self.LOGGER)
        self._level = self._logger.level

    def emit(self, record: logging.LogRecord) -> None:
        outcome = getattr(record, "outcome", None)
        if outcome is not None:
            self.outcomes.append(outcome)

    def __enter__(self) -> AccountedRecords:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._logger.removeHandler(self)
        self._logger.setLevel(self._level)


@dataclass
class Stack:
    fakes: dict[str, FakeUpstream]
    server: RunningServer
    envoy: EnvoyProcess
    channel: grpc.aio.Channel
    rest: httpx.AsyncClient
    records: AccountedRecords
    _closers: list[Any] = field(default_factory=list)

    async def aclose(self) -> None:
        await self.rest.aclose()
        await self.channel.close()
        await self.envoy.stop()
        await self.server.server.stop(0.5)
        for fake in self.fakes.values():
            await fake.stop()
        self.records.__exit__()


async def start_stack(work_dir: Path) -> Stack:
    fakes = {p.id: await p.fake().start() for p in PROVIDERS}
    catalog = work_dir / "catalog.toml"
    catalog.write_text(CATALOG, encoding="utf-8")
    settings = server_settings(
        work_dir / "data",
        local_model_enabled=False,
        catalog_file=catalog,
        providers=[
            {
                "name": p.id,
                "type": p.type,
                "base_url": p.base_url(fakes[p.id]),
                "api_key": "test-key",
                "timeout_s": 5.0,
                "connect_timeout_s": 1.0,
                "first_token_timeout_s": FIRST_TOKEN_TIMEOUT_S,
                "between_tokens_timeout_s": BETWEEN_TOKENS_TIMEOUT_S,
            }
            for p in PROVIDERS
        ],
        retry_max_attempts=ATTEMPTS,
        retry_initial_backoff_s=0.01,
        retry_max_backoff_s=0.02,
        retry_max_retry_after_s=1.0,
        breaker_failure_threshold=100_000,  # every case starts with a closed circuit
        default_deadline_s=10.0,
    )
    server = await start_server(settings)
    envoy = await start_envoy([server.address], work_dir / "envoy.log")
    records = AccountedRecords().__enter__()
    return Stack(
        fakes=fakes,
        server=server,
        envoy=envoy,
        channel=open_channel(server.address),
        rest=httpx.AsyncClient(base_url=envoy.rest_url, timeout=30.0, headers=auth_headers()),
        records=records,
    )


@dataclass
class Seen:
    """What one case produced."""

    status: str  # gRPC code name, or HTTP status, of the call itself
    pieces: int  # chunks with text before the end
    final_error: str  # the gRPC code of the last chunk's error ("" for none)
    upstream_requests: int
    outcome: str  # how the router accounted the request

    def describe(self) -> str:
        if self.pieces:
            seen = f"{self.pieces} pieces, then error {self.final_error or '-'}"
        else:
            seen = f"{self.status}"
        return f"{seen}; {self.upstream_requests} req; {self.outcome}"


async def run_case(stack: Stack, provider: ProviderUnderTest, case: FaultCase, face: str) -> Seen:
    fake = stack.fakes[provider.id]
    fake.reset()
    fake.always(case.fault)
    stack.records.outcomes.clear()
    try:
        if face == "grpc":
            seen = await _grpc(stack, provider)
        elif face == "rest_sse":
            seen = await _rest_sse(stack, provider)
        else:
            seen = await _openai_sse(stack, provider)
    finally:
        fake.always(None)
    deadline = time.monotonic() + 2.0
    while not stack.records.outcomes and time.monotonic() < deadline:
        await _sleep(0.01)
    seen.upstream_requests = len(fake.requests)
    seen.outcome = stack.records.outcomes[-1] if stack.records.outcomes else "none"
    return seen


async def _sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


async def _grpc(stack: Stack, provider: ProviderUnderTest) -> Seen:
    stub = pb_grpc.CompletionServiceStub(stack.channel)
    pieces = 0
    final_error = ""
    try:
        async for chunk in stub.StreamCompletion(
            pb.StreamCompletionRequest(message="Say hello.", model=provider.model), timeout=20
        ):
            if chunk.done:
                if chunk.HasField("error"):
                    final_error = GRPC_CODES[chunk.error.code]
            elif chunk.content:
                pieces += 1
    except grpc.aio.AioRpcError as error:
        return Seen(error.code().name, pieces, final_error, 0, "")
    return Seen("OK", pieces, final_error, 0, "")


def _events(body: bytes) -> list[Any]:
    events = []
    for block in body.split(b"\n\n"):
        lines = [line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:")]
        if lines and lines != [b"[DONE]"]:
            events.append(json.loads(b"\n".join(lines)))
    return events


async def _rest_sse(stack: Stack, provider: ProviderUnderTest) -> Seen:
    response = await stack.rest.post(
        "/completion/stream", json={"message": "Say hello.", "model": provider.model}
    )
    if response.status_code != 200:
        return Seen(str(response.status_code), 0, "", 0, "")
    events = _events(response.content)
    pieces = sum(1 for e in events if not e.get("done") and e.get("content"))
    last = events[-1] if events else {}
    error = last.get("error") if last.get("done") else None
    final = GRPC_CODES.get(error["code"], str(error["code"])) if error else ""
    return Seen("200", pieces, final, 0, "")


async def _openai_sse(stack: Stack, provider: ProviderUnderTest) -> Seen:
    response = await stack.rest.post(
        "/v1/chat/completions",
        json={
            "model": provider.model,
            "messages": [{"role": "user", "content": "Say hello."}],
            "stream": True,
        },
    )
    if response.status_code != 200:
        return Seen(str(response.status_code), 0, "", 0, "")
    events = _events(response.content)
    pieces = sum(
        1
        for e in events
        for choice in e.get("choices", [])
        if choice.get("delta", {}).get("content")
    )
    errors = [e["error"] for e in events if e.get("error")]
    final = errors[-1].get("code", "error") if errors else ""  # OpenAI's `code`: our reason
    return Seen("200", pieces, final, 0, "")


def expected_status(case: FaultCase, face: str) -> str:
    if face == "grpc":
        return case.code.name
    return str(HTTP_STATUS[case.code])
