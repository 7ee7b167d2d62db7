"""Latency authentication adds to a call: a cheap RPC (`ListModels`) with an API key, with a
JWT, and on a server with authentication disabled.

    .venv/bin/python bench/bench_auth.py [--requests 2000] [--warmup 100]

Three Routeur processes (`fake_stack.py`, no embedded model): authentication disabled;
enabled with its store cache (`ROUTEUR_AUTH_CACHE_TTL_S=5`, the default); enabled with no
cache (every call reads the user and the key from SQLite). Concurrency 1; the variants
alternate in blocks of 100 so that drift on a shared machine hits all of them. Prints p50
and p99 of each, and the difference with authentication disabled; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable

import grpc
from bench_support import BENCH_ADMIN_KEY, percentile, start_stack
from routeur.v1 import auth_service_pb2, auth_service_pb2_grpc
from routeur.v1 import model_service_pb2 as pb
from routeur.v1 import model_service_pb2_grpc as pb_grpc

BLOCK = 100


def bearer(credential: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {credential}"),)


async def timed_calls(address: str, metadata: tuple[tuple[str, str], ...]) -> Callable[[], Awaitable[float]]:
    channel = grpc.aio.insecure_channel(address)
    stub = pb_grpc.ModelServiceStub(channel)
    request = pb.ListModelsRequest(page_size=1)

    async def call() -> float:
        started = time.perf_counter()
        await stub.ListModels(request, metadata=metadata, timeout=10)
        return time.perf_counter() - started

    return call


async def token_for(address: str) -> str:
    async with grpc.aio.insecure_channel(address) as channel:
        response = await auth_service_pb2_grpc.AuthServiceStub(channel).IssueToken(
            auth_service_pb2.IssueTokenRequest(api_key=BENCH_ADMIN_KEY)
        )
    return response.access_token


async def run(addresses: dict[str, str], requests: int, warmup: int) -> None:
    variants = {
        "auth disabled": await timed_calls(addresses["disabled"], ()),
        "API key (cached)": await timed_calls(addresses["cached"], bearer(BENCH_ADMIN_KEY)),
        "JWT (cached)": await timed_calls(
            addresses["cached"], bearer(await token_for(addresses["cached"]))
        ),
        "API key (no cache)": await timed_calls(addresses["uncached"], bearer(BENCH_ADMIN_KEY)),
        "JWT (no cache)": await timed_calls(
            addresses["uncached"], bearer(await token_for(addresses["uncached"]))
        ),
    }
    for call in variants.values():
        for _ in range(warmup):
            await call()
    samples: dict[str, list[float]] = {name: [] for name in variants}
    done = 0
    while done < requests:
        n = min(BLOCK, requests - done)
        for name, call in variants.items():
            samples[name] += [await call() for _ in range(n)]
        done += n
    base50 = percentile(samples["auth disabled"], 50)
    base99 = percentile(samples["auth disabled"], 99)
    print(f"ListModels, {requests} calls per variant, concurrency 1 (milliseconds)")
    print(f"{'variant':22} {'p50':>8} {'p99':>8} {'+p50':>8} {'+p99':>8}")
    for name, values in samples.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        print(f"{name:22} {p50 * 1000:8.3f} {p99 * 1000:8.3f} "
              f"{(p50 - base50) * 1000:+8.3f} {(p99 - base99) * 1000:+8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    processes = []
    try:
        addresses = {}
        for name, flags in (
            ("disabled", ["--auth", "disabled"]),
            ("cached", ["--auth", "enabled"]),
            ("uncached", ["--auth", "enabled", "--auth-cache-ttl", "0"]),
        ):
            process, started = start_stack("routeur", *flags)
            processes.append(process)
            addresses[name] = started["address"]
        asyncio.run(run(addresses, args.requests, args.warmup))
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
