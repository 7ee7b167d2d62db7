"""2,000 concurrent streamed completions, half of them cancelled at random points.

    .venv/bin/python bench/load_streams.py [--streams 2000] [--seed 1]

Routeur runs in its own process (`fake_stack.py`, admitting 4,096 calls at once) on a fresh
SQLite file, wired to a fake OpenAI upstream in a third process that streams `--tokens`
words, one every `--delay-s` (the client, the server and the upstream each get their own
interpreter). Streams start evenly over `--ramp-s` seconds; half, picked at random, are
cancelled after a random number of chunks.

What limits this on 2 cores is the rate of *new* calls, not the chunks: grpc.aio picks up
waiting calls one per method at a time on the server's event loop, so the busier the loop is with
running streams, the fewer it takes (measured with a probe of the server's loop: about 100
a second while idle, 2-60 a second with a mean loop lag of 10-150 ms under this load).
Calls arriving faster wait in gRPC core's queue, where Routeur's admission cannot see them.
With core's defaults, beyond 1,000 waiting (`grpc.server.max_pending_requests`) it refuses
calls at random, and it drops any still waiting after 30 s
(`grpc.server_max_unrequested_time_in_server`): the client gets CANCELLED with no details.
The server's options now size that queue from `max_concurrent_calls` and keep a call as long
as the default deadline, so every call reaches admission (UNAVAILABLE with RetryInfo beyond
capacity, counted apart from errors) or ends on its deadline. Measured on 2 busy cores,
`--streams 2000` with the defaults: before, 724 CANCELLED (4-36 s after the start, median
34 s: the 30 s limit) and 1,276 usage records; after, 0 errors, 2,000 upstream requests,
2,000 usage records, first chunk after p50 28 s, max 61 s (the queue is slow, not lossy),
at most 463 streams running at once. A stream counts as cancelled only when this client
cancelled it; any status the server or gRPC core sends is an error.

Channels are made with their own subchannel pool so that each is its own HTTP/2 connection
(100 streams each), as separate clients. Prints: errors (any status other than OK, apart
from admission's refusals), when they came, how long streams waited for their first chunk
and how many ran at once, the cancelled streams whose upstream HTTP connection was closed by Routeur, the
connections to the upstream still open once everything settled (idle keep-alive ones are
pooled, not leaked), and the usage records written (one per stream that used tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.rpc import status_pb2

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import BENCH_ADMIN_KEY, STACK, percentile
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import bearer_interceptors

SAMPLES: dict[str, str] = {}
STARTED = [0.0]
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


@dataclass
class Outcome:
    """What the streams saw, as the client counts it."""

    completed: int = 0
    cancelled: int = 0  # by this client, at its planned point
    refused: int = 0  # UNAVAILABLE with RetryInfo: Routeur's admission, beyond capacity
    errors: Counter[str] = field(default_factory=Counter)
    error_chunks: int = 0
    error_times_s: list[float] = field(default_factory=list)
    first_chunk_s: list[float] = field(default_factory=list)  # from the call's start
    running: int = 0
    peak_running: int = 0


def has_retry_info(error: grpc.aio.AioRpcError) -> bool:
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            details = status_pb2.Status.FromString(value).details
            return any(detail.type_url == RETRY_INFO for detail in details)
    return False


def established_to(port: int) -> int:
    """TCP connections established to `port` on this machine (the upstream's side)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=False,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


async def one_stream(
    stub: pb_grpc.CompletionServiceStub, cancel_after: int | None, outcome: Outcome,
    start_in_s: float = 0.0,
) -> None:
    await asyncio.sleep(start_in_s)
    call = stub.StreamCompletion(
        pb.StreamCompletionRequest(message="Tell a long story.", model="gpt-4o"), timeout=300
    )
    called_at = time.monotonic()
    received = 0
    try:
        async for chunk in call:
            received += 1
            if received == 1:
                outcome.first_chunk_s.append(time.monotonic() - called_at)
                outcome.running += 1
                outcome.peak_running = max(outcome.peak_running, outcome.running)
            if chunk.HasField("error"):
                outcome.error_chunks += 1
            if cancel_after is not None and received >= cancel_after:
                call.cancel()  # the only way a stream counts as cancelled
                outcome.cancelled += 1
                return
        outcome.completed += 1
    except grpc.aio.AioRpcError as error:
        # Any status here is the server's (or gRPC core's): this client cancels only above.
        if error.code() == grpc.StatusCode.UNAVAILABLE and has_retry_info(error):
            outcome.refused += 1
            return
        outcome.errors[error.code().name] += 1
        outcome.error_times_s.append(time.monotonic() - STARTED[0])
        SAMPLES.setdefault(error.code().name, f"{error.details()} after {received} chunks, {time.monotonic() - STARTED[0]:.1f} s after the start, trailers {error.trailing_metadata()}")
    finally:
        if received:
            outcome.running -= 1


async def run(
    streams: int, seed: int, cancel: bool, tokens: int, delay_s: float, ramp_s: float
) -> None:
    rng = random.Random(seed)
    upstream = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
        [sys.executable, str(STACK), "upstream", "openai", "--tokens", str(tokens),
         "--delay-s", str(delay_s)],
        stdout=subprocess.PIPE, text=True,
    )
    assert upstream.stdout is not None
    upstream_url = json.loads(upstream.stdout.readline())["url"]
    with tempfile.TemporaryDirectory(prefix="routeur-load-") as data_dir:
        routeur = subprocess.Popen(  # noqa: ASYNC220 - started once, before any load
            [sys.executable, str(STACK), "routeur", "--openai-url", upstream_url,
             "--data-dir", data_dir, "--max-concurrent-calls", "4096"],
            stdout=subprocess.PIPE, text=True,
        )
        try:
            assert routeur.stdout is not None
            address = json.loads(await asyncio.to_thread(routeur.stdout.readline))["address"]
            outcome = Outcome()
            plan = [rng.randint(0, tokens - 1) if i % 2 and cancel else None
                    for i in range(streams)]
            rng.shuffle(plan)
            started = STARTED[0] = time.monotonic()
            # One HTTP/2 connection per 100 streams, as a pool of clients would open. Channels
            # to one address with the same options share one connection (grpc's global
            # subchannel pool) unless each keeps a pool of its own.
            channels = [
                grpc.aio.insecure_channel(
                    address, options=[("grpc.use_local_subchannel_pool", 1)],
                    interceptors=bearer_interceptors(BENCH_ADMIN_KEY),
                )
                for _ in range(max(1, streams // 100))
            ]
            stubs = [pb_grpc.CompletionServiceStub(channel) for channel in channels]
            try:
                await asyncio.gather(*(
                    one_stream(stubs[i % len(stubs)], c, outcome, ramp_s * i / streams)
                    for i, c in enumerate(plan)
                ))
            finally:
                for channel in channels:
                    await channel.close()
            elapsed = time.monotonic() - started
            await asyncio.sleep(3)  # let cancellations and records settle
            upstream.send_signal(signal.SIGUSR1)
            upstream_figures = json.loads(await asyncio.to_thread(upstream.stdout.readline))
            still_open = established_to(int(upstream_url.rsplit(":", 1)[1]))
            routeur.terminate()
            routeur.wait(timeout=30)
            with sqlite3.connect(Path(data_dir) / "routeur.sqlite3") as database:
                records = database.execute("SELECT COUNT(*) FROM usage").fetchone()[0]
        finally:
            for process in (routeur, upstream):
                if process.poll() is None:
                    process.kill()
    mid_closes = upstream_figures["mid_response_closes"]
    planned_cancels = sum(1 for c in plan if c is not None)
    errors = sum(outcome.errors.values())
    print(f"streams: {streams} started over {ramp_s:.0f} s, all ended in {elapsed:.1f} s; "
          f"completed {outcome.completed}, cancelled by the client {outcome.cancelled} "
          f"(planned {planned_cancels}), refused by admission with a retry hint "
          f"{outcome.refused}")
    print(f"errors: {errors} {dict(outcome.errors)}, final chunks with an error: "
          f"{outcome.error_chunks}")
    if outcome.error_times_s:
        times = outcome.error_times_s
        print(f"  errors came {min(times):.1f}-{max(times):.1f} s after the start "
              f"(median {percentile(times, 50):.1f} s)")
    waits = outcome.first_chunk_s
    if waits:
        print(f"first chunk after: p50 {percentile(waits, 50):.2f} s, p99 "
              f"{percentile(waits, 99):.2f} s, max {max(waits):.2f} s; peak streams running "
              f"at once (first chunk received, not ended): {outcome.peak_running}")
    print(f"upstream: {upstream_figures['requests']} requests, {mid_closes} connections closed "
          f"by Routeur mid-answer (cancelled streams whose answer had not ended), "
          f"{still_open} still established after settling (idle keep-alive pool)")
    print(f"usage records: {records} for {upstream_figures['requests']} upstream requests")
    for code, sample in SAMPLES.items():
        print(f"  e.g. {code}: {sample[:200]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-cancel", action="store_true", help="run every stream to its end")
    parser.add_argument("--tokens", type=int, default=30, help="words in each upstream answer")
    parser.add_argument("--delay-s", type=float, default=0.5, help="upstream pause per chunk")
    parser.add_argument("--ramp-s", type=float, default=5.0,
                        help="streams start evenly over this time (0: all at once)")
    args = parser.parse_args()
    asyncio.run(run(args.streams, args.seed, not args.no_cancel, args.tokens, args.delay_s,
                    args.ramp_s))


if __name__ == "__main__":
    main()
