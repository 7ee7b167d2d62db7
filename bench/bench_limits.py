"""Latency rate limiting and budgets add to a request, with counters in process and in Redis.

    .venv/bin/python bench/bench_limits.py [--requests 1000] [--warmup 50]

Two measurements:

1. The limiter alone, in this process: what a completion pays before and after its model
   call — counting the prompt's tokens, reserving one request, tokens and the estimated cost
   (requests and tokens per minute, a budget), and settling when the answer ends — against
   `InProcessCounters` and against `RedisCounters` on a real redis-server on 127.0.0.1.
2. End to end: unary `Complete` calls to three real servers (`fake_stack.py`) in front of one
   fake OpenAI upstream — limits off, limits in process, limits in Redis — alternating in
   blocks of 100 so that drift on a shared machine hits all three.

Concurrency 1. Prints p50/p99 and the difference with limits off; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
from bench_support import percentile, start_stack
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from redis_server import running_redis  # noqa: E402

from routeur_grpc.domain.caller import Caller  # noqa: E402
from routeur_grpc.domain.completion import (  # noqa: E402
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo, ModelPrice  # noqa: E402
from routeur_grpc.limits.counters import CounterStore  # noqa: E402
from routeur_grpc.limits.memory import InProcessCounters  # noqa: E402
from routeur_grpc.limits.policy import LimitDefaults  # noqa: E402
from routeur_grpc.limits.redis_store import RedisCounters  # noqa: E402
from routeur_grpc.providers.token_count import TokenCounter  # noqa: E402
from routeur_grpc.services.quota import CompletionQuota, QuotaConfig  # noqa: E402

MODEL = "gpt-4o"
MESSAGE = "Say hello."
BLOCK = 100
LIMITS = {
    "ROUTEUR_RATE_LIMIT_RPM": "1000000",
    "ROUTEUR_RATE_LIMIT_TPM": "1000000000",
    "ROUTEUR_BUDGET_AMOUNT": "1000000",
}


class _Models:
    async def get_model(self, name: str) -> ModelInfo:
        return ModelInfo(name=name, provider="openai", price=ModelPrice("EUR", 2.15, 8.6))


async def _answer() -> AsyncIterator[CompletionChunk]:
    yield CompletionChunk(content="Hello!")
    yield CompletionChunk(
        done=True, metadata=CompletionMetadata(model=MODEL, usage=TokenUsage(11, 3))
    )


async def limiter_alone(counters: CounterStore, requests: int, warmup: int) -> list[float]:
    quota = CompletionQuota(
        counters,
        QuotaConfig(LimitDefaults(requests_per_minute=10**9, tokens_per_minute=10**12, budget=1e9)),
        _Models(),
        TokenCounter(),
    )
    request = CompletionRequest(message=MESSAGE, model=MODEL, max_tokens=100)
    timings: list[float] = []
    for i in range(warmup + requests):
        caller = Caller(owner_id="bench", request_id=str(i))
        started = time.perf_counter()
        hold = await quota.open(request, caller)
        async for _ in hold.guard(_answer()):
            pass
        if i >= warmup:
            timings.append(time.perf_counter() - started)
    await counters.aclose()
    return timings


async def end_to_end(
    addresses: dict[str, str], requests: int, warmup: int
) -> dict[str, list[float]]:
    channels = {name: grpc.aio.insecure_channel(address) for name, address in addresses.items()}
    stubs = {name: pb_grpc.CompletionServiceStub(channel) for name, channel in channels.items()}

    async def once(name: str) -> float:
        started = time.perf_counter()
        await stubs[name].Complete(pb.CompleteRequest(message=MESSAGE, model=MODEL), timeout=30)
        return time.perf_counter() - started

    for name in stubs:
        for _ in range(warmup):
            await once(name)
    timings: dict[str, list[float]] = {name: [] for name in stubs}
    done = 0
    while done < requests:
        n = min(BLOCK, requests - done)
        for name in stubs:
            timings[name] += [await once(name) for _ in range(n)]
        done += n
    for channel in channels.values():
        await channel.close()
    return timings


def _line(label: str, values: list[float], base: list[float] | None = None) -> str:
    p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
    text = f"{label:<34} p50 {p50:7.3f} ms   p99 {p99:7.3f} ms"
    if base is not None:
        text += (
            f"   added: p50 {p50 - percentile(base, 50) * 1000:+7.3f} ms"
            f"   p99 {p99 - percentile(base, 99) * 1000:+7.3f} ms"
        )
    return text


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, running_redis(Path(directory)) as redis_url:
        alone_memory = asyncio.run(limiter_alone(InProcessCounters(), args.requests, args.warmup))
        alone_redis = asyncio.run(
            limiter_alone(RedisCounters(redis_url), args.requests, args.warmup)
        )
        print(f"{args.requests} requests each, concurrency 1, {os.cpu_count()} cores")
        print("The limiter alone (open + settle: rpm, tpm and budget counters):")
        print(_line("  in process", alone_memory))
        print(_line("  Redis (127.0.0.1)", alone_redis))

        processes = []
        try:
            upstream, upstream_info = start_stack("upstream", "openai")
            processes.append(upstream)
            addresses = {}
            for name, extra in (
                ("off", {}),
                ("in process", LIMITS),
                ("Redis", {**LIMITS, "ROUTEUR_REDIS_URL": redis_url}),
            ):
                saved = dict(os.environ)
                os.environ.update(extra)
                try:
                    process, info = start_stack("routeur", "--openai-url", upstream_info["url"])
                finally:
                    os.environ.clear()
                    os.environ.update(saved)
                processes.append(process)
                addresses[name] = info["address"]
            timings = asyncio.run(end_to_end(addresses, args.requests, args.warmup))
        finally:
            for process in reversed(processes):
                process.terminate()
                process.wait(timeout=30)
        print("End to end, unary Complete through a real server (fake OpenAI upstream):")
        print(_line("  limits off", timings["off"]))
        print(_line("  limits in process", timings["in process"], timings["off"]))
        print(_line("  limits in Redis", timings["Redis"], timings["off"]))


if __name__ == "__main__":
    main()
