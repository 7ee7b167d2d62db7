"""What the OpenAI SDK's HTTP transport costs Routeur: httpx2's own (the SDK's default) and
the SDK's aiohttp transport (`DefaultAioHttpClient`), which the OpenAI and Anthropic
providers use.

    .venv/bin/python bench/bench_sdk_transport.py [--requests 2000] [--rounds 2]

Calls the fake OpenAI upstream the way the provider does: `post(..., cast_to=object)`, so the
SDK sends the request, decodes SSE and raises its typed errors, but builds no pydantic
model. Prints this process's CPU time per request (concurrency 1 and 16), the requests/s,
and the CPU per 1,000 streamed events of a 2,000-token answer, for each transport, in
interleaved rounds. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx2
import uvloop
from bench_support import start_stack
from openai import AsyncOpenAI, AsyncStream, DefaultAioHttpClient

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}
TRANSPORTS = {"httpx2 (SDK default)": httpx2.AsyncClient, "aiohttp (DefaultAioHttpClient)": DefaultAioHttpClient}


def sdk(url: str, transport: str) -> AsyncOpenAI:
    return AsyncOpenAI(api_key="sk-bench", base_url=f"{url}/v1", max_retries=0,
                       http_client=TRANSPORTS[transport](timeout=30))


async def unary(url: str, transport: str, concurrency: int, requests: int) -> tuple[float, float]:
    client = sdk(url, transport)
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with slots:
            await client.post("/chat/completions", body=BODY, cast_to=object)

    await asyncio.gather(*(one() for _ in range(100)))  # connections, caches
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.close()
    return 1000 * cpu / requests, requests / wall


async def streamed(url: str, transport: str, answers: int = 5) -> float:
    client = sdk(url, transport)
    events = 0
    cpu = time.process_time()
    for _ in range(answers):
        stream = await client.post("/chat/completions", body={**BODY, "stream": True},
                                   cast_to=object, stream=True, stream_cls=AsyncStream[object])
        async for _event in stream:
            events += 1
    cpu = time.process_time() - cpu
    await client.close()
    return 1000 * cpu / events * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    short, short_info = start_stack("upstream", "openai")
    burst, burst_info = start_stack("upstream", "openai", "--tokens", "2000")
    try:
        print("| round | transport | CPU ms / request, c=1 | req/s, c=1 | CPU ms / request, c=16 "
              "| req/s, c=16 | CPU ms / 1,000 streamed events |")
        print("|---|---|---|---|---|---|---|")
        for round_ in range(1, args.rounds + 1):
            for transport in TRANSPORTS:
                cpu1, rps1 = uvloop.run(unary(short_info["url"], transport, 1, args.requests))
                cpu16, rps16 = uvloop.run(unary(short_info["url"], transport, 16, args.requests))
                events = uvloop.run(streamed(burst_info["url"], transport))
                print(f"| {round_} | {transport} | {cpu1:.3f} | {rps1:,.0f} | {cpu16:.3f} | "
                      f"{rps16:,.0f} | {events:.1f} |", flush=True)
    finally:
        for process in (short, burst):
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
