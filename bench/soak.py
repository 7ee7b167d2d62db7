"""Soak: Routeur at half of its measured saturation for a while, streams mixed in; its
memory, descriptors, threads and asyncio tasks at the start and at the end.

    .venv/bin/python bench/soak.py [--duration-s 600] [--stream-share 0.2]

Routeur runs in its own process (`fake_stack.py`) wired to a fake OpenAI upstream running
here. First the saturation is measured: unary completions from 8, 32 and 128 concurrent
clients for a few seconds each, keeping the best rate. Then requests are sent at half that
rate for `--duration-s` seconds, a `--stream-share` of them streamed (a fifth of those
cancelled midway). Figures are read from the server (SIGUSR1) after a warm-up and again at
the end, once the server's queued work has drained (at most two minutes); printed with
their change in percent. Every 30 s it prints the calls in flight on this side beside the
server's tasks: tasks that grow with calls in flight (and `UsageRecorder._record`, usage
writes waiting for the one SQLite writer) mean the offered rate is above what the server
sustains, and drain once the load stops; tasks that grow while calls in flight stay flat
would be a leak. `--rate` sets the rate instead of half the measured saturation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import BENCH_ADMIN_KEY, STACK
from fakes import FakeOpenAI
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from support import open_channel

SATURATION_PROBE_S = 4.0
PROGRESS_EVERY_S = 30.0
SETTLE_MAX_S = 120.0
#: Idle upstream connections stay in the SDK's pool (up to 100) until a request finds them
#: expired (httpx: 5 s idle): figures are read past that, after one request.
KEEP_ALIVE_EXPIRY_S = 6.0


class Routeur:
    """The server process, and its figures on demand."""

    def __init__(self, upstream_url: str, data_dir: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(STACK), "routeur", "--openai-url", upstream_url,
             "--data-dir", data_dir],
            stdout=subprocess.PIPE, text=True,
        )
        assert self.process.stdout is not None
        self.address = json.loads(self.process.stdout.readline())["address"]

    async def figures(self) -> dict[str, int]:
        self.process.send_signal(signal.SIGUSR1)
        assert self.process.stdout is not None
        line = await asyncio.to_thread(self.process.stdout.readline)
        if not line:
            status = await asyncio.to_thread(self.process.wait)
            raise SystemExit(f"the Routeur process ended (exit status {status})")
        return json.loads(line)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


FAILURES: dict[str, int] = {}


def failed(error: grpc.aio.AioRpcError) -> bool:
    key = f"{error.code().name}: {(error.details() or '')[:80]}"
    FAILURES[key] = FAILURES.get(key, 0) + 1
    return False


async def complete(stub: pb_grpc.CompletionServiceStub) -> bool:
    try:
        await stub.Complete(pb.CompleteRequest(message="Hello", model="gpt-4o"), timeout=30)
        return True
    except grpc.aio.AioRpcError as error:
        return failed(error)


async def stream(stub: pb_grpc.CompletionServiceStub, cancel: bool) -> bool:
    call = stub.StreamCompletion(pb.StreamCompletionRequest(message="Hi", model="gpt-4o"), timeout=30)
    try:
        received = 0
        async for _ in call:
            received += 1
            if cancel and received == 3:
                call.cancel()
                return True
        return True
    except grpc.aio.AioRpcError as error:
        # This client's cancel returns above: any status here (CANCELLED included, which is
        # how gRPC core drops a call) came from the server's side.
        return failed(error)


async def saturation(stub: pb_grpc.CompletionServiceStub) -> float:
    best = 0.0
    for clients in (8, 32, 128):
        done = 0
        deadline = time.monotonic() + SATURATION_PROBE_S

        async def client(deadline: float = deadline) -> None:
            nonlocal done
            while time.monotonic() < deadline:
                if await complete(stub):
                    done += 1

        await asyncio.gather(*(client() for _ in range(clients)))
        rate = done / SATURATION_PROBE_S
        print(f"  {clients:4d} clients: {rate:7.1f} completions/s")
        best = max(best, rate)
    return best


async def soak(stub: pb_grpc.CompletionServiceStub, rate: float, duration_s: float,
               stream_share: float, routeur: Routeur | None = None) -> tuple[int, int]:
    """Requests at `rate` for `duration_s`; with `routeur`, its figures every
    `PROGRESS_EVERY_S` beside the calls still in flight on this side."""
    rng = random.Random(7)
    sent = failed = 0
    pending: set[asyncio.Task[bool]] = set()
    started = time.monotonic()
    next_progress = PROGRESS_EVERY_S
    while (elapsed := time.monotonic() - started) < duration_s:
        if routeur is not None and elapsed >= next_progress:
            next_progress += PROGRESS_EVERY_S
            figures = await routeur.figures()
            print(f"  {elapsed:5.0f} s: {len(pending):5d} calls in flight, server tasks "
                  f"{figures['asyncio_tasks']}, rss {figures['rss_kb']} KB, "
                  f"kinds {figures['task_kinds']}", flush=True)
        due = int(elapsed * rate)
        while sent < due:
            if rng.random() < stream_share:
                work = stream(stub, cancel=rng.random() < 0.2)
            else:
                work = complete(stub)
            task = asyncio.create_task(work)
            pending.add(task)
            sent += 1
        done = {t for t in pending if t.done()}
        failed += sum(1 for t in done if not t.result())
        pending -= done
        await asyncio.sleep(0.01)
    results = await asyncio.gather(*pending)
    failed += sum(1 for ok in results if not ok)
    return sent, failed


def change(start: int, end: int) -> str:
    return f"{(end - start) / start * 100:+.1f} %" if start else "n/a"


async def quiet_figures(routeur: Routeur, stub: pb_grpc.CompletionServiceStub) -> dict:
    """The server's figures once idle: its pooled upstream connections expired and closed
    by one request, as they would be on a quiet server (the pool's size follows the recent
    concurrency; it is not a leak)."""
    await asyncio.sleep(KEEP_ALIVE_EXPIRY_S)
    await stub.Complete(pb.CompleteRequest(message="Hello", model="gpt-4o"), timeout=30)
    await asyncio.sleep(1)
    return await routeur.figures()


async def run(duration_s: float, stream_share: float, rate_override: float | None) -> None:
    async with FakeOpenAI() as fake:
        with tempfile.TemporaryDirectory(prefix="routeur-soak-") as data_dir:
            routeur = await asyncio.to_thread(Routeur, fake.url, data_dir)
            try:
                async with open_channel(routeur.address, api_key=BENCH_ADMIN_KEY) as channel:
                    stub = pb_grpc.CompletionServiceStub(channel)
                    print("saturation:")
                    best = await saturation(stub)
                    rate = rate_override or best / 2
                    await soak(stub, rate, min(20.0, duration_s / 10), stream_share)  # warm-up
                    FAILURES.clear()
                    start = await quiet_figures(routeur, stub)
                    print(f"soak: {rate:.1f} requests/s for {duration_s:g} s, "
                          f"{stream_share:.0%} streamed")
                    sent, failed = await soak(stub, rate, duration_s, stream_share, routeur)
                    end = await quiet_figures(routeur, stub)
                    # Work still queued in the server (e.g. usage writes) drains, a leak stays.
                    settle_started = time.monotonic()
                    while (end["asyncio_tasks"] > start["asyncio_tasks"] * 1.05
                           and time.monotonic() - settle_started < SETTLE_MAX_S):
                        await asyncio.sleep(5)
                        end = await routeur.figures()
                    settled_s = time.monotonic() - settle_started
            finally:
                routeur.stop()
    print(f"requests: {sent} sent, {failed} failed {FAILURES}")
    print(f"  end figures read {settled_s + KEEP_ALIVE_EXPIRY_S + 1:.0f} s after the load "
          "stopped (start and end: idle, after one request past the keep-alive expiry)")
    print(f"  most frequent tasks at the end: {end.pop('task_kinds')}")
    start.pop("task_kinds")
    for key in start:
        print(f"  {key:>13}: start {start[key]:8d}  end {end[key]:8d}  ({change(start[key], end[key])})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration-s", type=float, default=600.0)
    parser.add_argument("--stream-share", type=float, default=0.2)
    parser.add_argument("--rate", type=float, help="requests/s (default: half the saturation)")
    args = parser.parse_args()
    asyncio.run(run(args.duration_s, args.stream_share, args.rate))


if __name__ == "__main__":
    main()
