"""Before/after of a change: two revisions of Routeur measured alternately, on one machine.

    .venv/bin/python bench/compare_revisions.py BEFORE [AFTER] [--rounds 4]

Each revision (AFTER defaults to the working tree) is checked out into a temporary git
worktree and run from it with this checkout's virtualenv, through its own
`bench/fake_stack.py`, against the same fake OpenAI upstreams. In each round each revision
is measured in turn, the first one in odd rounds and the other in even ones, so that a
machine that slows down or speeds up (a shared or throttled CPU) affects both alike; use an
even number of rounds:

- gRPC `Complete` at concurrency 1 (400 calls): p50 latency and the server's CPU per call;
- throughput at saturation (`h2load`, 4 connections × 8 streams, 6 s) and CPU per call;
- five 2,000-token bursts streamed: tokens/s at the client and server CPU per 1,000 tokens.

Prints one line per revision and round, then the medians. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench_gateway import relay_cost
from bench_support import percentile, proc_cpu_s, start_stack
from gateway_clients import GrpcPath, h2load

ROOT = Path(__file__).resolve().parents[1]


def measure(tree: Path, upstream_url: str, burst_url: str) -> dict[str, float]:
    routeur, info = start_stack("routeur", "--openai-url", f"{upstream_url}/v1", tree=tree)
    try:
        path = GrpcPath(info["address"])
        for _ in range(100):
            path.unary()
        before = proc_cpu_s(routeur.pid)
        latencies = sorted(path.unary() for _ in range(400))
        cpu_c1 = (proc_cpu_s(routeur.pid) - before) / 400
        before = proc_cpu_s(routeur.pid)
        saturation = h2load(info["address"], 6, 4, 8)
        cpu_saturated = (proc_cpu_s(routeur.pid) - before) / (saturation["rps"] * 6)
    finally:
        routeur.terminate()
        routeur.wait()
    routeur, info = start_stack("routeur", "--openai-url", f"{burst_url}/v1", tree=tree)
    try:
        burst = GrpcPath(info["address"])
        relay_cost(burst, [routeur.pid])  # warm up
        relay = relay_cost(burst, [routeur.pid])
    finally:
        routeur.terminate()
        routeur.wait()
    return {
        "p50 ms (c=1)": round(percentile(latencies, 50) * 1000, 2),
        "CPU ms/call (c=1)": round(cpu_c1 * 1000, 2),
        "calls/s": saturation["rps"],
        "CPU ms/call (saturated)": round(cpu_saturated * 1000, 2),
        "relay tokens/s": relay["tokens_per_s"],
        "CPU ms/1,000 tokens": relay["cpu_ms_per_1000_tokens"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("before", help="a git revision")
    parser.add_argument("after", nargs="?", default=None, help="a git revision (default: the working tree)")
    parser.add_argument("--rounds", type=int, default=4)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="routeur-compare-"))
    trees: dict[str, Path] = {}
    for label, revision in (("before", args.before), ("after", args.after)):
        if revision is None:
            trees[f"{label} (working tree)"] = ROOT
            continue
        tree = work / label
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree),
                        revision], check=True)
        trees[f"{label} ({revision})"] = tree
    upstream, up = start_stack("upstream", "openai")
    burst, bu = start_stack("upstream", "openai", "--tokens", "2000")
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    try:
        for round_ in range(args.rounds):
            # Which goes first alternates: on a machine that speeds up during a run, the
            # revision always measured second would always have the advantage.
            order = list(trees.items())
            for name, tree in order if round_ % 2 == 0 else reversed(order):
                row = measure(tree, up["url"], bu["url"])
                rows[name].append(row)
                print(f"round {round_ + 1}, {name}: {row}", flush=True)
    finally:
        upstream.terminate()
        burst.terminate()
        for tree in trees.values():
            if tree != ROOT:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force",
                                str(tree)], check=False)
    print("\nmedians:")
    for name, measured in rows.items():
        medians = {key: statistics.median(r[key] for r in measured) for key in measured[0]}
        print(f"  {name}: {medians}")


if __name__ == "__main__":
    main()
