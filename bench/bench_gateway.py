"""Routeur against the upstream alone and against LiteLLM's proxy, side by side, in one run.

    .venv/bin/python bench/bench_gateway.py [--quick] [--no-litellm] [--streams 100,1000]
        [--workers 2] [--rounds 3] [--stream-seconds 60]

Processes, each on 127.0.0.1: the fake OpenAI upstream (the floor), Routeur wired to it with
Envoy beside it (`fake_stack.py routeur --rest`), once as one process and once with
`--workers` processes (`ROUTEUR_WORKERS`), and LiteLLM's proxy (installed from PyPI into its
own virtual environment under ~/.cache/routeur/bench, pointed at the same upstream, no
database, no spend logs). Routeur is called over gRPC through `Complete` (which runs the
default agent, V2) and `CreateChatCompletion` (the model alone, as LiteLLM does), and over
REST through `/v1/chat/completions`. Measured, paths interleaved in blocks so that drift on
a shared machine hits every path alike:

- unary latency at concurrency 1 (`--requests`, default 2,000 per path): p50/p99 and the
  latency added over the upstream alone;
- stream time to first token at concurrency 1;
- throughput at saturation: `wrk` (HTTP paths) and `h2load` (gRPC, pre-encoded requests
  on 16 connections, which the kernel spreads over the workers), from Debian; the upstream
  alone is measured first to show the load generator is not the bottleneck. `--rounds`
  runs of every path, interleaved (default 3): the median is reported, every run is kept,
  with the CPU Routeur's servers and its Envoy spent per call during each run (/proc);
- concurrent slow streams (one token a second for `--stream-seconds`, default 60): errors,
  time to first token p99, how many were open at once at most, and the peak RSS of the
  largest server process, for each level of `--streams`;
- per-token relay cost: five 2,000-token bursts, tokens/s seen by the client and the CPU time
  the server (and Envoy) spent per 1,000 tokens, from /proc.

Writes bench/results/gateway-<date>.json and a PNG chart beside it (matplotlib, when
installed); prints a Markdown table. Asserts nothing. The paths and load generators are in
`gateway_clients.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from bench_support import (
    AUTH_METADATA,
    BENCH_ADMIN_KEY,
    OpenAtOnce,
    children,
    percentile,
    proc_cpu_s,
    proc_peak_rss_mb,
    start_stack,
)
from gateway_clients import (
    GRPC_METHODS,
    MESSAGE,
    MODEL,
    GrpcChatPath,
    GrpcPath,
    HttpPath,
    h2load,
    wrk,
)
from gateway_report import Report, write
from litellm_proxy import LITELLM_MASTER_KEY, start_litellm
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

BLOCK = 100

# --- measurements -------------------------------------------------------------------------------


def interleaved(paths: list[Any], method: str, requests: int, warmup: int) -> dict[str, list[float]]:
    for path in paths:
        for _ in range(warmup):
            getattr(path, method)()
    samples: dict[str, list[float]] = {path.name: [] for path in paths}
    while len(samples[paths[0].name]) < requests:
        n = min(BLOCK, requests - len(samples[paths[0].name]))
        for path in paths:
            call = getattr(path, method)
            samples[path.name] += [call() for _ in range(n)]
    return samples


def summarise(samples: dict[str, list[float]], floor: str) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    base50 = percentile(samples[floor], 50) * 1000 if floor in samples else 0.0
    base99 = percentile(samples[floor], 99) * 1000 if floor in samples else 0.0
    for name, values in samples.items():
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        out[name] = {"p50": round(p50, 3), "p99": round(p99, 3),
                     "added_p50": round(p50 - base50, 3), "added_p99": round(p99 - base99, 3),
                     "n": len(values)}
    return out


async def concurrent_streams(
    address: str, count: int, pids: list[int], seconds: int, channels: int = 8
) -> dict[str, Any]:
    """`count` streams at once against an upstream sending one token a second for about
    `seconds`, spread over `channels` connections (the kernel spreads connections, not
    calls, over workers): the errors by status, the time to first token, how many streams
    were open at once at most (first token received, last not yet), and the peak RSS of the
    largest of `pids`."""
    opened = [grpc.aio.insecure_channel(address, options=[
        ("grpc.max_concurrent_streams", 0), ("grpc.use_local_subchannel_pool", 1),
    ]) for _ in range(channels)]
    stubs = [pb_grpc.CompletionServiceStub(channel) for channel in opened]
    ttft: list[float] = []
    errors: dict[str, int] = {}
    open_at_once = OpenAtOnce()

    async def one(stub: pb_grpc.CompletionServiceStub) -> None:
        started = time.perf_counter()
        first = True
        try:
            async for chunk in stub.StreamCompletion(
                pb.StreamCompletionRequest(message=MESSAGE, model=MODEL, max_tokens=seconds),
                timeout=seconds + 180, metadata=AUTH_METADATA,
            ):
                if first and chunk.content:
                    ttft.append(time.perf_counter() - started)
                    first = False
                    open_at_once.opened()
                if chunk.HasField("error"):
                    errors[chunk.error.reason or "error"] = errors.get(chunk.error.reason, 0) + 1
        except grpc.aio.AioRpcError as error:
            errors[error.code().name] = errors.get(error.code().name, 0) + 1
        finally:
            if not first:
                open_at_once.closed()

    await asyncio.gather(*(one(stubs[i % channels]) for i in range(count)))
    for channel in opened:
        await channel.close()
    return {"streams": count, "errors": sum(errors.values()), "errors_by_status": errors,
            "ttft_p99_ms": round(percentile(ttft, 99) * 1000, 1) if ttft else -1,
            "max_open": open_at_once.most,
            "peak_rss_mb": round(max(proc_peak_rss_mb(pid) for pid in pids), 1)}


@dataclass(frozen=True)
class ServerProcesses:
    """A Routeur stack's server processes (one, or its workers) and its Envoy."""

    servers: list[int]
    envoy: list[int]

    @classmethod
    def of(cls, pid: int, info: dict[str, Any]) -> ServerProcesses:
        envoy = [child for child in children(pid)
                 if Path(f"/proc/{child}/comm").read_text().strip() == "envoy"]
        return cls(info.get("pids") or [pid], envoy)

    def measure(self, run: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
        """`run(*args)`'s figures, plus the CPU the servers and Envoy spent per call
        meanwhile."""
        servers = sum(proc_cpu_s(pid) for pid in self.servers)
        envoy = sum(proc_cpu_s(pid) for pid in self.envoy)
        started = time.perf_counter()
        result = run(*args)
        calls = result["rps"] * (time.perf_counter() - started)
        if not calls:
            return result
        servers = sum(proc_cpu_s(pid) for pid in self.servers) - servers
        envoy = sum(proc_cpu_s(pid) for pid in self.envoy) - envoy
        return {**result, "server_cpu_ms_per_call": round(servers * 1000 / calls, 2),
                "envoy_cpu_ms_per_call": round(envoy * 1000 / calls, 2)}


def median_run(rounds: list[dict[str, float]]) -> dict[str, Any]:
    """The run with the median requests/s, every run's requests/s beside it, and the errors
    of all runs."""
    ordered = sorted(rounds, key=lambda run: run["rps"])
    return {**ordered[(len(ordered) - 1) // 2],
            "rps_runs": [run["rps"] for run in rounds],
            "errors": sum(int(run["errors"]) for run in rounds)}


def relay_cost(path: Any, pids: list[int], bursts: int = 5) -> dict[str, float]:
    """`bursts` burst streams one after the other: tokens/s at the client, CPU ms per 1,000
    tokens in `pids` (/proc counts CPU in 10 ms ticks: several bursts make them few)."""
    before = sum(proc_cpu_s(pid) for pid in pids)
    started = time.perf_counter()
    tokens = sum(_one_burst(path) for _ in range(bursts))
    elapsed = time.perf_counter() - started
    cpu = sum(proc_cpu_s(pid) for pid in pids) - before
    return {"tokens": tokens, "tokens_per_s": round(tokens / elapsed) if elapsed else 0,
            "cpu_ms_per_1000_tokens": round(cpu * 1000 / tokens * 1000, 1) if tokens else -1}


def _one_burst(path: Any) -> int:
    """One burst stream read to its end; the output tokens its usage reports."""
    tokens = 0
    if isinstance(path, GrpcPath):
        for chunk in path._stub.StreamCompletion(
            pb.StreamCompletionRequest(message=MESSAGE, model=MODEL), timeout=120,
            metadata=AUTH_METADATA,
        ):
            if chunk.done:
                tokens = chunk.metadata.usage.output_tokens or tokens
    else:
        path._connection.request(
            "POST", "/v1/chat/completions",
            json.dumps({"model": MODEL, "messages": [{"role": "user", "content": MESSAGE}],
                        "stream": True, "stream_options": {"include_usage": True}}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Bearer {BENCH_ADMIN_KEY}"},
        )
        response = path._connection.getresponse()
        for line in response:
            if line.startswith(b"data:") and b'"usage"' in line and b"completion_tokens" in line:
                match = re.search(rb'"completion_tokens":\s*(\d+)', line)
                if match:
                    tokens = int(match.group(1))
    return tokens


# --- main ---------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--duration", type=int, default=10, help="seconds per throughput run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs of each path, "
                        "interleaved; the median is reported, with every run's figure")
    parser.add_argument("--streams", default="100,1000", help="concurrent stream levels")
    parser.add_argument("--stream-seconds", type=int, default=60, help="how long each slow "
                        "stream lasts (one token a second): long enough for every stream of a "
                        "level to be open at once")
    parser.add_argument("--workers", type=int, default=2, help="server processes of the "
                        "second Routeur (ROUTEUR_WORKERS; 1: no second Routeur)")
    parser.add_argument("--no-litellm", action="store_true")
    parser.add_argument("--quick", action="store_true", help="300 requests, 5 s runs")
    args = parser.parse_args()
    if args.quick:
        args.requests, args.warmup, args.duration, args.streams = 300, 30, 5, "100"
        args.rounds, args.stream_seconds = 1, 5
    report = Report()
    stack: list[subprocess.Popen[Any]] = []
    try:
        upstream, info = start_stack("upstream", "openai")
        stack.append(upstream)
        upstream_url = info["url"]
        routeur, rinfo = start_stack("routeur", "--openai-url", upstream_url, "--rest")
        stack.append(routeur)
        litellm = None if args.no_litellm else start_litellm(upstream_url)
        if litellm is not None:
            stack.append(litellm[0])

        http_paths = [HttpPath("upstream", upstream_url),
                      HttpPath("Routeur REST", rinfo["rest_url"])]
        if litellm is not None:
            http_paths.append(HttpPath("LiteLLM", litellm[1], LITELLM_MASTER_KEY))
        paths: list[Any] = [http_paths[0], GrpcPath(rinfo["address"]),
                            GrpcChatPath(rinfo["address"]), *http_paths[1:]]

        print("unary latency, concurrency 1 …", flush=True)
        report.latency_ms = summarise(
            interleaved(paths, "unary", args.requests, args.warmup), "upstream")
        print("stream time to first token, concurrency 1 …", flush=True)
        report.ttft_ms = summarise(
            interleaved(paths, "first_token", max(200, args.requests // 10), 10), "upstream")

        print("throughput at saturation …", flush=True)
        stacks = [("", rinfo, ServerProcesses.of(routeur.pid, rinfo))]
        if args.workers > 1:
            multi, minfo = start_stack("routeur", "--openai-url", upstream_url, "--rest",
                                       "--workers", str(args.workers))
            stack.append(multi)
            stacks.append((f", {args.workers} workers", minfo,
                           ServerProcesses.of(multi.pid, minfo)))
        runs: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.rounds):
            # Every path once per round: a slow spell of the machine hits each alike.
            runs.setdefault("upstream", []).append(
                wrk(upstream_url, args.duration, args.connections))
            for suffix, served, processes in stacks:
                for method in GRPC_METHODS:
                    runs.setdefault(f"Routeur gRPC {method}{suffix}", []).append(
                        processes.measure(h2load, served["address"], args.duration, 16,
                                          max(1, args.connections // 16), method))
                runs.setdefault(f"Routeur REST{suffix}", []).append(processes.measure(
                    wrk, served["rest_url"], args.duration, args.connections))
            if litellm is not None:
                runs.setdefault("LiteLLM", []).append(
                    wrk(litellm[1], args.duration, args.connections, LITELLM_MASTER_KEY))
        report.throughput_rps = {name: median_run(rounds) for name, rounds in runs.items()}
        if args.workers > 1:
            stack.remove(multi)
            multi.terminate()
            multi.wait(timeout=60)

        print("per-token relay cost …", flush=True)
        for process in stack[:1]:
            process.terminate()
            process.wait(timeout=30)
        burst, binfo = start_stack("upstream", "openai", "--tokens", "2000")
        stack[0] = burst
        burst_routeur, brinfo = start_stack("routeur", "--openai-url", binfo["url"], "--rest")
        stack.append(burst_routeur)
        benvoy = children(burst_routeur.pid)
        relays = {
            "upstream": (HttpPath("upstream", binfo["url"]), []),
            "Routeur gRPC Complete": (GrpcPath(brinfo["address"]), [burst_routeur.pid]),
            "Routeur REST": (HttpPath("REST", brinfo["rest_url"]), [burst_routeur.pid, *benvoy]),
        }
        for name, (path, pids) in relays.items():
            relay_cost(path, pids)  # warm up: a server's first answer builds its caches
            report.relay[name] = relay_cost(path, pids)

        print("concurrent slow streams …", flush=True)
        slow, sinfo = start_stack("upstream", "openai", "--tokens", str(args.stream_seconds),
                                  "--delay-s", "1.0")
        stack.append(slow)
        for workers in sorted({1, args.workers}):
            slow_routeur, srinfo = start_stack("routeur", "--openai-url", sinfo["url"],
                                               "--workers", str(workers))
            pids = srinfo.get("pids") or [slow_routeur.pid]
            label = "" if workers == 1 else f", {workers} workers"
            for level in [int(n) for n in args.streams.split(",") if n]:
                report.streams[f"{level}{label}"] = asyncio.run(
                    concurrent_streams(srinfo["address"], level, pids, args.stream_seconds))
            slow_routeur.terminate()
            slow_routeur.wait(timeout=60)
    finally:
        for process in reversed(stack):
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    write(report)


if __name__ == "__main__":
    main()
