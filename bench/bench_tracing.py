"""What tracing costs the server: the same calls with tracing off and on, alternated.

    .venv/bin/python bench/bench_tracing.py [--rounds 4] [--duration 6]

Starts the fake OpenAI upstream and a fake OTLP/HTTP collector (`fake_stack.py`), then, in
each round, Routeur without tracing and Routeur with `ROUTEUR_OTLP_ENDPOINT` set to the
collector (the off one first in odd rounds, the on one first in even rounds, so that a
machine that speeds up or slows down affects both alike). For each, over gRPC
`CreateChatCompletion` (a server span, an attempt's `chat` span and the SDK's HTTP span per
call, exported in batches):

- concurrency 1 (400 calls): p50 latency and the server's CPU per call;
- saturation (`h2load`, 4 connections x 8 streams): calls/s and the server's CPU per call.

Prints one line per run, then the medians; writes them to
`bench/results/tracing-<date>.json`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
from pathlib import Path

from bench_support import percentile, proc_cpu_s, start_stack
from gateway_clients import GrpcChatPath, h2load

METHOD = "CreateChatCompletion"
RESULTS = Path(__file__).resolve().parent / "results"


def measure(upstream_url: str, collector_url: str | None, duration_s: int) -> dict[str, float]:
    environment = dict(os.environ)
    os.environ.pop("ROUTEUR_OTLP_ENDPOINT", None)
    if collector_url:
        os.environ["ROUTEUR_OTLP_ENDPOINT"] = collector_url
    try:
        routeur, info = start_stack("routeur", "--openai-url", upstream_url)
    finally:
        os.environ.clear()
        os.environ.update(environment)
    try:
        path = GrpcChatPath(info["address"])
        for _ in range(100):
            path.unary()
        before = proc_cpu_s(routeur.pid)
        latencies = sorted(path.unary() for _ in range(400))
        cpu_c1 = (proc_cpu_s(routeur.pid) - before) / 400
        h2load(info["address"], 2, 4, 8, METHOD)  # warm up
        before = proc_cpu_s(routeur.pid)
        saturation = h2load(info["address"], duration_s, 4, 8, METHOD)
        cpu_saturated = (proc_cpu_s(routeur.pid) - before) / (saturation["rps"] * duration_s)
    finally:
        routeur.terminate()
        routeur.wait()
    return {
        "p50 ms (c=1)": round(percentile(latencies, 50) * 1000, 3),
        "CPU ms/call (c=1)": round(cpu_c1 * 1000, 3),
        "calls/s": saturation["rps"],
        "CPU ms/call (saturated)": round(cpu_saturated * 1000, 3),
        "errors": saturation["errors"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--duration", type=int, default=6, help="seconds at saturation")
    args = parser.parse_args()
    upstream, up = start_stack("upstream", "openai")
    collector, otlp = start_stack("upstream", "otlp")
    runs: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    try:
        for round_number in range(1, args.rounds + 1):
            order = ("off", "on") if round_number % 2 else ("on", "off")
            for mode in order:
                result = measure(
                    up["url"], otlp["url"] if mode == "on" else None, args.duration
                )
                runs[mode].append(result)
                print(f"round {round_number} tracing {mode}: {result}", flush=True)
    finally:
        for process in (upstream, collector):
            process.terminate()
            process.wait()
    medians = {
        mode: {key: round(statistics.median(r[key] for r in results), 3) for key in results[0]}
        for mode, results in runs.items()
    }
    for mode, values in medians.items():
        print(f"median, tracing {mode}: {values}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"tracing-{datetime.date.today().isoformat()}.json"
    out.write_text(json.dumps({"method": METHOD, "runs": runs, "medians": medians}, indent=2))
    print(f"written to {out.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
