"""Time to first token and tokens/s of the embedded model: through Routeur's gRPC stream,
next to llama-cpp-python called directly on the same GGUF file with the same settings.

    .venv/bin/python bench/bench_local_model.py [--runs 10] [--max-tokens 64]

Greedy decoding (temperature 0) so both sides generate the same tokens. The server runs in
its own process, as in production, and is called two ways: `StreamChatCompletion` sends the
model the same messages as the direct call (the router's cost alone), `StreamCompletion`
runs the default agent, V2, whose system prompt makes a longer prompt to read before the
first token. Prints medians and ranges; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

import grpc
from bench_support import AUTH_METADATA, BENCH_ADMIN_KEY
from routeur.v1 import completion_service_pb2 as pb
from routeur.v1 import completion_service_pb2_grpc as pb_grpc
from routeur.v1 import openai_compat_service_pb2 as openai_pb
from routeur.v1 import openai_compat_service_pb2_grpc as openai_pb_grpc

from routeur_grpc.providers.local_llama import bundled_model_path
from routeur_grpc.settings import Settings

PROMPT = "Explain in a few sentences why the sky is blue."
MODEL = "local/smollm2-135m-instruct"


def direct(runs: int, max_tokens: int) -> list[tuple[float, float]]:
    from llama_cpp import Llama

    settings = Settings()
    threads = settings.local_model_threads or os.cpu_count() or 1
    llm = Llama(model_path=str(bundled_model_path()), n_ctx=settings.local_model_context,
                n_threads=threads, n_threads_batch=threads, verbose=False)
    results = []
    for _ in range(runs):
        started = time.perf_counter()
        first = None
        pieces = 0
        for chunk in llm.create_chat_completion(
            messages=[{"role": "user", "content": PROMPT}],
            max_tokens=max_tokens, temperature=0, stream=True,
        ):
            if chunk["choices"][0]["delta"].get("content"):
                pieces += 1
                first = first or time.perf_counter() - started
        total = time.perf_counter() - started
        results.append((first or total, pieces / (total - (first or 0)) if pieces > 1 else 0.0))
    llm.close()
    return results


def through_grpc(runs: int, max_tokens: int) -> dict[str, list[tuple[float, float]]]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "ROUTEUR_GRPC_ADDRESS": "127.0.0.1:0", "ROUTEUR_DATA_DIR": data_dir,
               "ROUTEUR_LOG_FORMAT": "json", "ROUTEUR_LOG_LEVEL": "INFO",
               "ROUTEUR_BOOTSTRAP_ADMIN_KEY": BENCH_ADMIN_KEY}
        server = subprocess.Popen([sys.executable, "-m", "routeur_grpc", "serve"], env=env,
                                  stderr=subprocess.PIPE, text=True)
        try:
            address = _wait_for_address(server)
            with grpc.insecure_channel(address) as channel:
                ways = {
                    "Routeur gRPC, no agent": _chat_stream(channel, max_tokens),
                    "Routeur gRPC, agent V2": _agent_stream(channel, max_tokens),
                }
                # One way at a time: llama.cpp keeps the last prompt's tokens, so the direct
                # call and each way read their (repeated) prompt once, not at every run.
                return {name: [_timed(call) for _ in range(runs)] for name, call in ways.items()}
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)


def _chat_stream(channel: grpc.Channel, max_tokens: int):  # noqa: ANN202
    stub = openai_pb_grpc.OpenAICompatServiceStub(channel)
    request = openai_pb.StreamChatCompletionRequest(
        model=MODEL, max_tokens=max_tokens, temperature=0,
        stream_options=openai_pb.OpenAIStreamOptions(include_usage=True),
    )
    request.messages.add(role="user").content.string_value = PROMPT

    def call() -> Iterator[tuple[str, int | None]]:
        for chunk in stub.StreamChatCompletion(request, metadata=AUTH_METADATA):
            text = "".join(choice.delta.content for choice in chunk.choices)
            yield text, (chunk.usage.completion_tokens if chunk.HasField("usage") else None)
    return call


def _agent_stream(channel: grpc.Channel, max_tokens: int):  # noqa: ANN202
    stub = pb_grpc.CompletionServiceStub(channel)
    request = pb.StreamCompletionRequest(
        message=PROMPT, model=MODEL, max_tokens=max_tokens, temperature=0
    )

    def call() -> Iterator[tuple[str, int | None]]:
        for chunk in stub.StreamCompletion(request, metadata=AUTH_METADATA):
            yield chunk.content, (chunk.metadata.usage.output_tokens if chunk.done else None)
    return call


def _timed(call) -> tuple[float, float]:  # noqa: ANN001
    """Time to first text, and tokens/s after it (the server's count of output tokens)."""
    started = time.perf_counter()
    first = None
    generated = 0
    for text, output_tokens in call():
        if text:
            first = first or time.perf_counter() - started
        if output_tokens is not None:
            generated = output_tokens
    total = time.perf_counter() - started
    return first or total, generated / (total - (first or 0)) if generated > 1 else 0.0


def _wait_for_address(server: subprocess.Popen) -> str:
    for line in server.stderr:
        entry = json.loads(line)
        if entry["msg"] == "gRPC server listening":
            return entry["address"]
    raise SystemExit("the server did not start")


def report(name: str, results: list[tuple[float, float]]) -> None:
    ttft = sorted(r[0] * 1000 for r in results)
    rate = sorted(r[1] for r in results)
    print(f"{name:<28} ttft median {statistics.median(ttft):7.1f} ms "
          f"(min {ttft[0]:.1f}, max {ttft[-1]:.1f})   "
          f"tokens/s median {statistics.median(rate):6.1f} (min {rate[0]:.1f}, max {rate[-1]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()
    print(f"SmolLM2-135M-Instruct Q4_1, {os.cpu_count()} cores, {args.runs} runs, "
          f"max_tokens={args.max_tokens}, temperature=0, prompt={PROMPT!r}")
    report("llama-cpp-python direct", direct(args.runs, args.max_tokens))
    for name, results in through_grpc(args.runs, args.max_tokens).items():
        report(name, results)


if __name__ == "__main__":
    main()
