"""2,000 concurrent streamed completions, half of them cancelled at random points.

    .venv/bin/python bench/load_streams.py [--streams 2000] [--seed 1]

Routeur runs in its own process (`fake_stack.py`, admitting 4,096 calls at once) on a fresh
SQLite file, wired to a fake OpenAI upstream running here that streams 200 tokens slowly.
All streams start together; half, picked at random, are cancelled after a random number of
chunks (0 to 150). Prints: errors (any status other than OK for the streams run to their
end), the cancelled streams whose upstream HTTP connection was closed by Routeur, the
connections to the upstream still open once everything settled (idle keep-alive ones are
pooled, not leaked), and the usage records written (one per stream that used tokens).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import STACK  # noqa: E402
from fakes import FakeOpenAI  # noqa: E402
from routeur.v1 import completion_service_pb2 as pb  # noqa: E402
from routeur.v1 import completion_service_pb2_grpc as pb_grpc  # noqa: E402
from support import open_channel  # noqa: E402

TOKENS = 200


def established_to(port: int) -> int:
    """TCP connections established to `port` on this machine (the upstream's side)."""
    out = subprocess.run(
        ["ss", "-Htn", "state", "established", f"( sport = :{port} )"],
        capture_output=True, text=True, check=False,
    ).stdout
    return len([line for line in out.splitlines() if line.strip()])


async def one_stream(
    stub: pb_grpc.CompletionServiceStub, cancel_after: int | None, outcome: dict[str, int]
) -> None:
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


async def run(streams: int, seed: int) -> None:
    rng = random.Random(seed)
    async with FakeOpenAI() as fake:
        fake.reply_text = " ".join(["token"] * TOKENS)
        fake.stream_delay_s = 0.02
        with tempfile.TemporaryDirectory(prefix="routeur-load-") as data_dir:
            routeur = subprocess.Popen(
                [sys.executable, str(STACK), "routeur", "--openai-url", fake.url,
                 "--data-dir", data_dir, "--max-concurrent-calls", "4096"],
                stdout=subprocess.PIPE, text=True,
            )
            try:
                assert routeur.stdout is not None
                import json

                address = json.loads(await asyncio.to_thread(routeur.stdout.readline))["address"]
                outcome = {"completed": 0, "cancelled": 0, "errors": 0, "error_chunks": 0}
                plan = [rng.randint(0, 150) if i % 2 else None for i in range(streams)]
                rng.shuffle(plan)
                started = time.monotonic()
                async with open_channel(address) as channel:
                    stub = pb_grpc.CompletionServiceStub(channel)
                    await asyncio.gather(*(one_stream(stub, c, outcome) for c in plan))
                elapsed = time.monotonic() - started
                await asyncio.sleep(3)  # let cancellations and records settle
                mid_closes = sum(1 for c in fake.client_closes if c.mid_response)
                still_open = established_to(int(fake.url.rsplit(":", 1)[1]))
                routeur.terminate()
                routeur.wait(timeout=30)
                with sqlite3.connect(Path(data_dir) / "routeur.sqlite3") as database:
                    records = database.execute("SELECT COUNT(*) FROM usage").fetchone()[0]
            finally:
                if routeur.poll() is None:
                    routeur.kill()
    planned_cancels = sum(1 for c in plan if c is not None)
    print(f"streams: {streams} in {elapsed:.1f} s; completed {outcome['completed']}, "
          f"cancelled {outcome['cancelled']} (planned {planned_cancels})")
    print(f"errors: {outcome['errors']} "
          f"{ {k: v for k, v in outcome.items() if k.startswith('error ')} }, "
          f"final chunks with an error: {outcome['error_chunks']}")
    print(f"upstream: {mid_closes} connections closed by Routeur mid-answer "
          f"(streams cancelled after their first upstream bytes), "
          f"{still_open} still established after settling")
    print(f"usage records: {records} for {streams} streams")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run(args.streams, args.seed))


if __name__ == "__main__":
    main()
