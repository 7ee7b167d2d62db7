"""2,000 concurrent streamed completions, half of them cancelled at random points.

    .venv/bin/python bench/load_streams.py [--streams 2000] [--seed 1]

Routeur runs in its own process (`fake_stack.py`, admitting 4,096 calls at once) on a fresh
SQLite file, wired to a fake OpenAI upstream in a third process that streams `--tokens`
words, one every `--delay-s` (the client, the server and the upstream each get their own
interpreter). Streams start evenly over `--ramp-s` seconds; half, picked at random, are
cancelled after a random number of chunks.

What limits this on 2 cores is the rate of *new* calls, not the chunks: one grpc.aio
server accepts roughly 100-150 new calls/s here (each start runs authentication, routing
and the provider SDK's request building on the one event loop). Calls arriving faster wait
in gRPC core's queue of calls not yet picked up, where Routeur's code cannot see them:
beyond `grpc.server.max_pending_requests` (1,000) core refuses some at random, and any
still waiting after `grpc.server_max_unrequested_time_in_server` (30 s) is dropped; both
reach the client as CANCELLED with no details and no trailers. Halving the chunk rate
changes nothing, and spreading the starts only helps in part: the busier the loop is with
running streams, the slower it picks up new calls (measured: 290 of 2,000 at once, 85 over
20 s, 234 over 40 s with 60 s streams). Channels are made with their own subchannel
pool so that each is its own HTTP/2 connection (100 streams each), as separate clients.
Prints: errors (any status other than OK for the streams run to their
end), the cancelled streams whose upstream HTTP connection was closed by Routeur, the
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
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import BENCH_ADMIN_KEY, STACK
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import bearer_interceptors

SAMPLES: dict[str, str] = {}
STARTED = [0.0]


def established_to(port: int) -> int:
    """TCP connections established to `port` on this machine (the upstream's side)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=False,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


async def one_stream(
    stub: pb_grpc.CompletionServiceStub, cancel_after: int | None, outcome: dict[str, int],
    start_in_s: float = 0.0,
) -> None:
    await asyncio.sleep(start_in_s)
    call = stub.StreamCompletion(
        pb.StreamCompletionRequest(message="Tell a long story.", model="gpt-4o"), timeout=300
    )
    received = 0
    try:
        async for chunk in call:
            received += 1
            if chunk.HasField("error"):
                outcome["error_chunks"] += 1
            if cancel_after is not None and received >= cancel_after:
                call.cancel()
                outcome["cancelled"] += 1
                return
        outcome["completed"] += 1
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.CANCELLED and cancel_after is not None:
            outcome["cancelled"] += 1
        else:
            outcome["errors"] += 1
            outcome.setdefault(f"error {error.code().name}", 0)
            outcome[f"error {error.code().name}"] += 1
            SAMPLES.setdefault(error.code().name, f"{error.details()} after {received} chunks, {time.monotonic() - STARTED[0]:.1f} s after the start, trailers {error.trailing_metadata()}")


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
            outcome = {"completed": 0, "cancelled": 0, "errors": 0, "error_chunks": 0}
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
    print(f"streams: {streams} in {elapsed:.1f} s; completed {outcome['completed']}, "
          f"cancelled {outcome['cancelled']} (planned {planned_cancels})")
    print(f"errors: {outcome['errors']} "
          f"{ {k: v for k, v in outcome.items() if k.startswith('error ')} }, "
          f"final chunks with an error: {outcome['error_chunks']}")
    print(f"upstream: {upstream_figures['requests']} requests, {mid_closes} connections closed "
          f"by Routeur mid-answer (cancelled streams whose answer had not ended), "
          f"{still_open} still established after settling (idle keep-alive pool)")
    print(f"usage records: {records} for {streams} streams")
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
