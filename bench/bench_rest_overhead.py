"""Latency the REST face adds to a unary completion: `POST /completion` through Envoy versus
the same `Complete` called directly over gRPC, on the same Routeur server, against the fake
OpenAI upstream.

    .venv/bin/python bench/bench_rest_overhead.py [--requests 500] [--warmup 50]

Four processes, as in production: the fake upstream and Routeur wired to it (both from
`fake_stack.py`), Envoy rendered from envoy.yaml, and this client. Concurrency 1; the two
paths alternate in blocks of 100 so that drift on a shared machine hits both. The REST side
includes everything a REST caller pays: JSON encoding, HTTP/1.1 (keep-alive, httpx), Envoy's
filters (CORS, gRPC-Web, Lua, transcoding) and its HTTP/2 hop. Prints p50/p99 of each and the
difference; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time

import grpc
import httpx
from bench_support import AUTH_METADATA, BENCH_ADMIN_KEY, percentile, start_stack
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

from routeur_grpc.gateway import EnvoyProcess, GatewayConfig

MODEL = "gpt-4o"
MESSAGE = "Say hello."
BLOCK = 100


async def run(routeur_address: str, requests: int, warmup: int) -> None:
    # fake_stack's Routeur is the real server: Envoy waits for its grpc.health.v1 check.
    envoy = EnvoyProcess(
        GatewayConfig(upstreams=(routeur_address,), rest_port=0, admin_port=0),
        concurrency=1,
    )
    await envoy.start()
    channel = grpc.aio.insecure_channel(routeur_address)
    stub = pb_grpc.CompletionServiceStub(channel)
    rest = httpx.AsyncClient(
        base_url=envoy.rest_url,
        timeout=30,
        headers={"Authorization": f"Bearer {BENCH_ADMIN_KEY}"},
    )
    body = {"message": MESSAGE, "model": MODEL, "stream": False}

    async def direct() -> float:
        started = time.perf_counter()
        await stub.Complete(
            pb.CompleteRequest(message=MESSAGE, model=MODEL), timeout=30, metadata=AUTH_METADATA
        )
        return time.perf_counter() - started

    async def through_envoy() -> float:
        started = time.perf_counter()
        response = await rest.post("/completion", json=body)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"REST call failed: {response.status_code} {response.text}")
        return elapsed

    try:
        for _ in range(warmup):
            await direct()
            await through_envoy()
        direct_s: list[float] = []
        rest_s: list[float] = []
        while len(direct_s) < requests:
            n = min(BLOCK, requests - len(direct_s))
            direct_s += [await direct() for _ in range(n)]
            rest_s += [await through_envoy() for _ in range(n)]
    finally:
        await rest.aclose()
        await channel.close()
        await envoy.stop()

    def ms(values: list[float], p: float) -> float:
        return percentile(values, p) * 1000

    print(
        f"{requests} unary completions each, concurrency 1, model {MODEL} on the fake OpenAI "
        f"upstream, {os.cpu_count()} cores"
    )
    for label, values in (("direct gRPC Complete", direct_s), ("REST through Envoy", rest_s)):
        print(
            f"{label:<22} p50 {ms(values, 50):7.2f} ms   p99 {ms(values, 99):7.2f} ms"
            f"   mean {statistics.mean(values) * 1000:7.2f} ms"
        )
    print(
        f"{'added by REST+Envoy':<22} p50 {ms(rest_s, 50) - ms(direct_s, 50):7.2f} ms   "
        f"p99 {ms(rest_s, 99) - ms(direct_s, 99):7.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    args = parser.parse_args()
    upstream, upstream_info = start_stack("upstream", "openai")
    routeur = None
    try:
        routeur, routeur_info = start_stack("routeur", "--openai-url", upstream_info["url"])
        asyncio.run(run(routeur_info["address"], args.requests, args.warmup))
    finally:
        for process in (routeur, upstream):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)


if __name__ == "__main__":
    main()
