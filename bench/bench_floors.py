"""What the parts Routeur stands on cost by themselves, before any code of Routeur runs.

    .venv/bin/python bench/bench_floors.py [--streams 2500] [--stream-seconds 20] [--calls 600]
        [--unary-seconds 8]

Five floors, each measured on this machine, so that the gateway benchmark's figures can be
read against them:

- time to first message of a bare grpc.aio server-streaming call (uvloop, one message
  sent at once, in its own process) from the synchronous Python client, at concurrency 1:
  the part of a stream's time to first token that any grpc.aio server pays;
- memory per stream held by a bare grpc.aio server: `--streams` calls at once, each sending
  a message a second for `--stream-seconds` (peak RSS over the server at rest, per stream
  open at the same time);
- memory per stream held by the OpenAI SDK on its aiohttp transport, as the providers call
  it: `--streams` streamed completions at once against the fake upstream sending one token a
  second for `--stream-seconds`;
- CPU per unary call of a bare grpc.aio server (uvloop, in its own process, answering at
  once) at saturation, driven by `h2load` for `--unary-seconds`, read from /proc: what any
  grpc.aio server spends per call;
- CPU per non-streamed completion of the OpenAI SDK on its aiohttp transport, called as the
  provider calls it (`post(..., cast_to=object)`), 16 at a time, against the fake upstream:
  what a call through the SDK costs its caller.

Streams last long enough for all of them to be open together; each floor also reports how
many were open at once at most (first message received, last not yet).

Writes bench/results/floors-<date>.json; prints a Markdown table. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import grpc
from bench_sdk_transport import unary as sdk_unary
from bench_support import OpenAtOnce, percentile, proc_cpu_s, proc_rss_mb, start_stack
from gateway_clients import h2load
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

RESULTS = Path(__file__).with_name("results")


# --- the bare server, in its own process --------------------------------------------------------


class _Bare(pb_grpc.CompletionServiceServicer):
    def __init__(self, delay_s: float, messages: int) -> None:
        self._delay_s = delay_s
        self._messages = messages

    async def StreamCompletion(self, request: Any, context: Any) -> Any:
        for _ in range(self._messages):
            if self._delay_s:
                await asyncio.sleep(self._delay_s)
            yield pb.StreamCompletionResponse(content="token ")
        yield pb.StreamCompletionResponse(done=True)

    async def Complete(self, request: Any, context: Any) -> Any:
        return pb.CompleteResponse(content="Hello! How can I help you today?")


async def _serve_bare(delay_s: float, messages: int) -> None:
    limit = 1_000_000  # every call reaches the handler: the floor, not an admission policy
    server = grpc.aio.server(options=[("grpc.server.max_pending_requests", limit),
                                      ("grpc.server.max_pending_requests_hard_limit", limit)])
    pb_grpc.add_CompletionServiceServicer_to_server(_Bare(delay_s, messages), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(json.dumps({"address": f"127.0.0.1:{port}"}), flush=True)
    await server.wait_for_termination()


def _bare_server(delay_s: float, messages: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve-bare", str(delay_s),
                                "--bare-messages", str(messages)],
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())["address"]


# --- the floors ---------------------------------------------------------------------------------


def stream_ttft(calls: int) -> dict[str, float]:
    process, address = _bare_server(0.0, 1)
    try:
        with grpc.insecure_channel(address) as channel:
            stub = pb_grpc.CompletionServiceStub(channel)
            times = []
            for _ in range(calls + 100):  # the first 100 warm up
                started = time.perf_counter()
                for _chunk in stub.StreamCompletion(pb.StreamCompletionRequest(message="x")):
                    times.append(time.perf_counter() - started)
                    break
    finally:
        process.terminate()
        process.wait(timeout=30)
    times = times[100:]
    return {"p50_ms": round(statistics.median(times) * 1000, 3),
            "p99_ms": round(percentile(times, 99) * 1000, 3), "calls": len(times)}


def grpc_unary_cpu(seconds: int) -> dict[str, float]:
    process, address = _bare_server(0.0, 1)
    try:
        h2load(address, 2, 4, 8)  # warm up
        cpu = proc_cpu_s(process.pid)
        load = h2load(address, seconds, 4, 8)
        cpu = proc_cpu_s(process.pid) - cpu
    finally:
        process.terminate()
        process.wait(timeout=30)
    calls = load["rps"] * seconds
    return {"calls_per_s": round(load["rps"]), "errors": load["errors"],
            "cpu_ms_per_call": round(1000 * cpu / max(1.0, calls), 3)}


def sdk_unary_cpu(requests: int) -> dict[str, float]:
    import uvloop

    upstream, info = start_stack("upstream", "openai")
    try:
        cpu_ms, per_s = uvloop.run(
            sdk_unary(info["url"], "aiohttp (DefaultAioHttpClient)", 16, requests)
        )
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    return {"requests": requests, "cpu_ms_per_call": round(cpu_ms, 3),
            "calls_per_s": round(per_s)}


async def _read(pieces: Any, open_at_once: OpenAtOnce) -> None:
    opened = False
    try:
        async for _piece in pieces:
            if not opened:
                opened = True
                open_at_once.opened()
    finally:
        if opened:
            open_at_once.closed()


async def _hold_grpc_streams(address: str, count: int, pid: int) -> tuple[float, int]:
    channels = [grpc.aio.insecure_channel(address, options=[
        ("grpc.max_concurrent_streams", 0), ("grpc.use_local_subchannel_pool", 1),
    ]) for _ in range(8)]
    peak = 0.0
    open_at_once = OpenAtOnce()

    async def one(channel: grpc.aio.Channel) -> None:
        stub = pb_grpc.CompletionServiceStub(channel)
        await _read(stub.StreamCompletion(pb.StreamCompletionRequest(message="x")), open_at_once)

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, proc_rss_mb(pid))
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(one(channels[i % len(channels)]) for i in range(count)))
    watcher.cancel()
    for channel in channels:
        await channel.close()
    return peak, open_at_once.most


def _held(count: int, at_rest: float, peak: float, most_open: int) -> dict[str, float]:
    return {"streams": count, "open_at_once": most_open, "rest_mb": round(at_rest, 1),
            "peak_mb": round(peak, 1),
            "kb_per_stream": round((peak - at_rest) * 1024 / max(1, most_open), 1)}


def grpc_stream_memory(count: int, seconds: int) -> dict[str, float]:
    process, address = _bare_server(1.0, seconds)
    try:
        time.sleep(0.5)
        at_rest = proc_rss_mb(process.pid)
        peak, most_open = asyncio.run(_hold_grpc_streams(address, count, process.pid))
    finally:
        process.terminate()
        process.wait(timeout=30)
    return _held(count, at_rest, peak, most_open)


async def _hold_sdk_streams(upstream_url: str, count: int) -> tuple[float, float, int]:
    import httpx2
    from openai import AsyncOpenAI, DefaultAioHttpClient

    from routeur_grpc.providers.http_clients import aiohttp_client

    http = aiohttp_client(DefaultAioHttpClient, httpx2.Timeout(120))  # as the provider builds it
    client = AsyncOpenAI(api_key="sk-bench", base_url=f"{upstream_url}/v1", http_client=http,
                         max_retries=0)

    open_at_once = OpenAtOnce()

    async def one() -> None:
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], stream=True,
            stream_options={"include_usage": True},
        )
        await _read(stream, open_at_once)

    await one()  # the client's lazy parts are built before the baseline
    open_at_once.most = 0
    at_rest = _own_rss_mb()
    peak = at_rest

    async def watch() -> None:
        nonlocal peak
        while True:
            peak = max(peak, _own_rss_mb())
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    await asyncio.gather(*(one() for _ in range(count)))
    watcher.cancel()
    await client.close()
    return at_rest, peak, open_at_once.most


def _own_rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def sdk_stream_memory(count: int, seconds: int) -> dict[str, float]:
    import uvloop

    upstream, info = start_stack("upstream", "openai", "--tokens", str(seconds),
                                 "--delay-s", "1.0")
    try:
        at_rest, peak, most_open = uvloop.run(_hold_sdk_streams(info["url"], count))
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    return _held(count, at_rest, peak, most_open)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=2500, help="streams held at once")
    parser.add_argument("--stream-seconds", type=int, default=20,
                        help="how long each held stream lasts (a message a second)")
    parser.add_argument("--calls", type=int, default=600, help="calls timed for the TTFT")
    parser.add_argument("--unary-seconds", type=int, default=8,
                        help="seconds of load for the unary CPU floors")
    parser.add_argument("--serve-bare", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--bare-messages", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare is not None:
        import uvloop

        uvloop.run(_serve_bare(args.serve_bare, args.bare_messages))
        return
    results = {
        "date": datetime.date.today().isoformat(),
        "grpc_stream_ttft": stream_ttft(args.calls),
        "grpc_stream_memory": grpc_stream_memory(args.streams, args.stream_seconds),
        "sdk_stream_memory": sdk_stream_memory(args.streams, args.stream_seconds),
        "grpc_unary_cpu": grpc_unary_cpu(args.unary_seconds),
        "sdk_unary_cpu": sdk_unary_cpu(2000),
    }
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"floors-{results['date']}.json"
    target.write_text(json.dumps(results, indent=2) + "\n")
    ttft, grpc_memory, sdk_memory = (results["grpc_stream_ttft"],
                                     results["grpc_stream_memory"],
                                     results["sdk_stream_memory"])
    print("| floor | measured |\n|---|---|")
    print(f"| bare grpc.aio stream, time to first message | p50 {ttft['p50_ms']} ms, "
          f"p99 {ttft['p99_ms']} ms |")
    print(f"| bare grpc.aio server, {grpc_memory['open_at_once']:,} streams open at once | "
          f"{grpc_memory['kb_per_stream']} KB per stream ({grpc_memory['rest_mb']} MB at rest) |")
    print(f"| OpenAI SDK on aiohttp, {sdk_memory['open_at_once']:,} streams open at once | "
          f"{sdk_memory['kb_per_stream']} KB per stream |")
    grpc_unary, sdk_call = results["grpc_unary_cpu"], results["sdk_unary_cpu"]
    print(f"| bare grpc.aio server, unary calls at saturation | {grpc_unary['cpu_ms_per_call']} ms "
          f"of CPU per call ({grpc_unary['calls_per_s']:,} calls/s) |")
    print(f"| OpenAI SDK on aiohttp, non-streamed completions, 16 at a time | "
          f"{sdk_call['cpu_ms_per_call']} ms of CPU per call |")
    print(f"\nresults: {target}")


if __name__ == "__main__":
    main()
