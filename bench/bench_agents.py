"""Time an agent graph adds over a plain model call, against a fake OpenAI upstream.

    .venv/bin/python bench/bench_agents.py [--requests 300] [--warmup 30]

The fake upstream runs in its own process (`fake_stack.py`); the router and the agents run
in this one, so the difference measured is the graph's alone (LangGraph's scheduling, the
prompt preparation, V2's deterministic self-check, the run's accounting), not gRPC's. Each
request is a streamed completion read to its last chunk: the router's `stream()` alone, then
through V1, then through V2, alternating in blocks of 50 so that drift on a shared machine
hits all three. Prints p50/p99 of each and what V1 and V2 add at p50; asserts nothing.

With `--embedded N`, it also runs V2 on the embedded model (SmolLM2-135M) for N everyday
prompts, French and English, and prints how often its self-check failed and cost a second
model call (the price of V2 being the default).
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
from routeur_grpc.providers.local_llama import (  # noqa: E402
    LocalLlamaProvider,
    LocalModelConfig,
    bundled_model_path,
)
from routeur_grpc.providers.openai_chat import OpenAIChatProvider  # noqa: E402
from routeur_grpc.providers.token_count import TokenCounter  # noqa: E402
from routeur_grpc.routing.router import ModelRouter  # noqa: E402
from routeur_grpc.services.agents.catalog import AGENTS  # noqa: E402
from routeur_grpc.services.agents.registry import AgentEnvironment, AgentRegistry  # noqa: E402
from routeur_grpc.services.agents.runner import AgentRunner  # noqa: E402

MODEL = "gpt-4o"
MESSAGE = "Say hello."
BLOCK = 50
LOCAL_MODEL = "local/smollm2-135m-instruct"


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


PROMPTS = [
    "Quelle est la capitale de la France ?",
    "Explique-moi la photosynthèse en une phrase.",
    "Donne-moi trois conseils pour bien dormir.",
    "Pourquoi le ciel est-il bleu ?",
    "Comment faire une boucle en Python ?",
    "What is the capital of Italy?",
    "Give me two tips to learn a language.",
    "Why do leaves change colour in autumn?",
    "Say hello.",
    "Write a haiku about the sea.",
]


async def revision_rate(count: int) -> None:
    local = LocalLlamaProvider(
        LocalModelConfig(name=LOCAL_MODEL, path=bundled_model_path(),
                         context_window=2048, threads=2, instances=1, default_max_tokens=64)
    )
    await local.start()
    router = ModelRouter([local], {local.name: "local"})
    await router.start()
    runner = AgentRunner(AgentRegistry(AGENTS, AgentEnvironment()), router.stream, currency="EUR")
    caller = Caller(owner_id="bench", request_id="bench")
    revised: dict[str, int] = {}
    runs = 0
    for prompt in (PROMPTS * (count // len(PROMPTS) + 1))[:count]:
        request = CompletionRequest(prompt, LOCAL_MODEL, agent="V2", max_tokens=64, temperature=0)
        async with aclosing(runner.stream(request, caller, whole=True)) as chunks:
            async for chunk in chunks:
                if chunk.done and chunk.metadata is not None:
                    check = next(s for s in chunk.metadata.steps if s.name == "check")
                    if check.detail != "passed":
                        reason = check.detail.split(" (")[0]
                        revised[reason] = revised.get(reason, 0) + 1
        runs += 1
    await router.aclose()
    total = sum(revised.values())
    print(f"V2 on the embedded model: {total}/{runs} answers revised ({total / runs:.0%}); "
          f"by reason: {revised or 'none'}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--embedded", type=int, default=0,
                        help="also measure V2's revision rate on the embedded model, N prompts")
    args = parser.parse_args()
    upstream, info = start_stack("upstream", "openai")
    try:
        asyncio.run(run(info["url"], args.requests, args.warmup))
    finally:
        upstream.terminate()
        upstream.wait(timeout=30)
    if args.embedded:
        asyncio.run(revision_rate(args.embedded))


if __name__ == "__main__":
    main()
