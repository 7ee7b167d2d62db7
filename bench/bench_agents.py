"""Time an agent graph adds over a plain model call, against a fake OpenAI upstream.

    .venv/bin/python bench/bench_agents.py [--requests 300] [--warmup 30]

The fake upstream runs in its own process (`fake_stack.py`); the router and the agents run
in this one, so the difference measured is the graph's alone (LangGraph's scheduling, the
prompt preparation, V2's deterministic self-check, the accounting sum), not gRPC's. Each
request is a streamed completion read to its last chunk: the router's `stream()` alone, then
through V1, then through V2, alternating in blocks of 50 so that drift on a shared machine
hits all three. Prints p50/p99 of each and what V1 and V2 add at p50; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from contextlib import aclosing
from pathlib import Path

from bench_support import percentile, start_stack

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "generated")]

from routeur_grpc.domain.caller import Caller  # noqa: E402
from routeur_grpc.domain.completion import CompletionRequest  # noqa: E402
from routeur_grpc.providers.openai_chat import OpenAIChatProvider  # noqa: E402
from routeur_grpc.providers.token_count import TokenCounter  # noqa: E402
from routeur_grpc.routing.router import ModelRouter  # noqa: E402
from routeur_grpc.services.agents.catalog import AGENTS  # noqa: E402
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry  # noqa: E402
from routeur_grpc.services.agents.runner import AgentRunner  # noqa: E402

MODEL = "gpt-4o"
MESSAGE = "Say hello."
BLOCK = 50


async def run(upstream_url: str, requests: int, warmup: int) -> None:
    counter = TokenCounter()
    provider = OpenAIChatProvider(
        "openai", api_key="sk-bench", base_url=f"{upstream_url}/v1", timeout_s=30,
        token_counter=counter,
    )
    router = ModelRouter([provider], {"openai": "openai"}, token_counter=counter)
    await router.start()
    runner = AgentRunner(AgentRegistry(AGENTS, AgentEnvironment()), router.stream, currency="EUR")
    caller = Caller(owner_id="bench", request_id="bench")

    async def plain() -> float:
        started = time.perf_counter()
        async with aclosing(router.stream(CompletionRequest(MESSAGE, MODEL))) as chunks:
            async for _ in chunks:
                pass
        return time.perf_counter() - started

    def through(agent: str):  # noqa: ANN202
        async def timed() -> float:
            started = time.perf_counter()
            request = CompletionRequest(MESSAGE, MODEL, agent=agent)
            async with aclosing(runner.stream(request, caller)) as chunks:
                async for _ in chunks:
                    pass
            return time.perf_counter() - started

        return timed

    paths = {"router alone": plain, "agent V1": through("V1"), "agent V2": through("V2")}
    for _ in range(warmup):
        for path in paths.values():
            await path()
    samples: dict[str, list[float]] = {name: [] for name in paths}
    while len(samples["router alone"]) < requests:
        n = min(BLOCK, requests - len(samples["router alone"]))
        for name, path in paths.items():
            samples[name] += [await path() for _ in range(n)]
    await router.aclose()

    def ms(name: str, p: float) -> float:
        return percentile(samples[name], p) * 1000

    print(f"{requests} streamed completions each, concurrency 1, model {MODEL} (fake upstream), "
          f"{os.cpu_count()} cores")
    for name in paths:
        print(f"{name:<14} p50 {ms(name, 50):7.2f} ms   p99 {ms(name, 99):7.2f} ms")
    for name in ("agent V1", "agent V2"):
        print(f"added by {name[-2:]:<5} p50 {ms(name, 50) - ms('router alone', 50):7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args()
    upstream, info = start_stack("upstream", "openai")
    try:
        asyncio.run(run(info["url"], args.requests, args.warmup))
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)


if __name__ == "__main__":
    main()
