"""Time from a gRPC client's cancel to the upstream HTTP connection being closed.

    .venv/bin/python bench/bench_cancel.py [--tries 50]

The Routeur server runs in its own process (`fake_stack.py`), wired to a fake OpenAI
upstream that runs here, in the client's process, so that the cancel and the close are
timed on the same clock. The upstream streams a long answer slowly; after a few chunks the
client cancels, and the fake notes when Routeur's SDK connection goes away. Prints the
median and max over the tries; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import AUTH_METADATA
from fakes import FakeOpenAI
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc

STACK = Path(__file__).with_name("fake_stack.py")
CHUNKS_BEFORE_CANCEL = 3


async def run(tries: int) -> None:
    async with FakeOpenAI() as fake:
        fake.reply_text = " ".join(["token"] * 2000)
        fake.stream_delay_s = 0.01
        routeur = subprocess.Popen(
            [sys.executable, str(STACK), "routeur", "--openai-url", fake.url],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert routeur.stdout is not None
            line = await asyncio.to_thread(routeur.stdout.readline)
            address = json.loads(line)["address"]
            delays: list[float] = []
            async with grpc.aio.insecure_channel(address) as channel:
                stub = pb_grpc.CompletionServiceStub(channel)
                for _ in range(tries):
                    fake.client_closes.clear()
                    call = stub.StreamCompletion(
                        pb.StreamCompletionRequest(message="Tell a long story.", model="gpt-4o"),
                        timeout=60,
                        metadata=AUTH_METADATA,
                    )
                    received = 0
                    async for _chunk in call:
                        received += 1
                        if received == CHUNKS_BEFORE_CANCEL:
                            break
                    cancelled_at = time.monotonic()
                    call.cancel()
                    close = await fake.wait_client_close(timeout=10)
                    delays.append(close.at - cancelled_at)
        finally:
            routeur.terminate()
            await asyncio.to_thread(routeur.wait, 30)
    ms = sorted(d * 1000 for d in delays)
    print(f"client cancel -> upstream connection closed, {tries} tries "
          f"(fake OpenAI streaming one token every {fake.stream_delay_s * 1000:.0f} ms)")
    print(f"median {statistics.median(ms):.2f} ms   max {ms[-1]:.2f} ms   min {ms[0]:.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tries", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(run(args.tries))


if __name__ == "__main__":
    main()
