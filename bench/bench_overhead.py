"""Latency Routeur adds to a unary completion: the same OpenAI SDK call made directly, and
made by Routeur behind a gRPC `Complete`, against the same fake OpenAI upstream.

    .venv/bin/python bench/bench_overhead.py [--requests 1000] [--warmup 50]

Three processes, as in production: the fake upstream, the Routeur server (`fake_stack.py`),
and this client. Concurrency 1; the two paths alternate in blocks of 100 so that drift on a
shared machine hits both. Routeur's side includes everything a request does there: catalog
and routing, the SDK call, pricing, EcoLogits, and the usage record written to SQLite in
the background. Prints p50/p99 of each and the difference; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import grpc
from bench_support import AUTH_METADATA, percentile, start_stack
from openai import AsyncOpenAI
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

MODEL = "gpt-4o"
MESSAGE = "Say hello."
BLOCK = 100


async def run(upstream_url: str, routeur_address: str, requests: int, warmup: int) -> None:
    client = AsyncOpenAI(api_key="sk-bench", base_url=f"{upstream_url}/v1", max_retries=0)
    channel = grpc.aio.insecure_channel(routeur_address)
    stub = pb_grpc.CompletionServiceStub(channel)

    async def direct() -> float:
        started = time.perf_counter()
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": MESSAGE}]
        )
        return time.perf_counter() - started

    async def through_routeur() -> float:
        started = time.perf_counter()
        await stub.Complete(
            pb.CompleteRequest(message=MESSAGE, model=MODEL), timeout=30, metadata=AUTH_METADATA
        )
        return time.perf_counter() - started

    for _ in range(warmup):
        await direct()
        await through_routeur()
    direct_s: list[float] = []
    routeur_s: list[float] = []
    while len(direct_s) < requests:
        n = min(BLOCK, requests - len(direct_s))
        direct_s += [await direct() for _ in range(n)]
        routeur_s += [await through_routeur() for _ in range(n)]
    await channel.close()
    await client.close()

    def ms(values: list[float], p: float) -> float:
        return percentile(values, p) * 1000

    print(f"{requests} unary completions each, concurrency 1, model {MODEL}, {os.cpu_count()} cores")
    print(f"{'direct OpenAI SDK':<22} p50 {ms(direct_s, 50):7.2f} ms   p99 {ms(direct_s, 99):7.2f} ms"
          f"   mean {statistics.mean(direct_s) * 1000:7.2f} ms")
    print(f"{'through Routeur gRPC':<22} p50 {ms(routeur_s, 50):7.2f} ms   p99 {ms(routeur_s, 99):7.2f} ms"
          f"   mean {statistics.mean(routeur_s) * 1000:7.2f} ms")
    print(f"{'added by Routeur':<22} p50 {ms(routeur_s, 50) - ms(direct_s, 50):7.2f} ms   "
          f"p99 {ms(routeur_s, 99) - ms(direct_s, 99):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    upstream, upstream_info = start_stack("upstream", "openai")
    routeur = None
    try:
        routeur, routeur_info = start_stack("routeur", "--openai-url", upstream_info["url"])
        asyncio.run(run(upstream_info["url"], routeur_info["address"], args.requests, args.warmup))
    finally:
        for process in (routeur, upstream):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
