"""Where the server's CPU goes under load: py-spy samples, grouped by the code they are in.

    .venv/bin/python bench/profile_server.py [--duration 10] [--raw out.txt]
        [--method Complete|CreateChatCompletion]

Starts the fake OpenAI upstream and Routeur wired to it (`fake_stack.py`), drives gRPC
`Complete` (or `--method`) with `h2load` (Debian's nghttp2-client) and samples the server's event-loop
thread with py-spy (the `bench` extra). Each sample is charged to the innermost frame that
is not the standard library (asyncio, typing, contextlib…: they run on behalf of their
caller), grouped by package (`routeur_grpc/<sub-package>`, `openai`, `httpx2`, `pregel`
for LangGraph…). Prints the share of each, and the server's CPU time per request from
/proc. Profile before optimising; compare the shares before and after a change.
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from bench_support import proc_cpu_s, start_stack
from gateway_clients import GRPC_METHODS, h2load

STANDARD_LIBRARY = re.compile(
    r"\((asyncio/|typing\.py|contextlib\.py|dataclasses\.py|<frozen|uuid\.py|copy\.py|"
    r"inspect\.py|selectors\.py|<string>|functools\.py|enum\.py|threading\.py|weakref|"
    r"_weakrefset|socket\.py|ssl\.py|json/|collections/|abc\.py|re/|logging/)"
)
PY_SPY = Path(sys.executable).with_name("py-spy")


#: py-spy names files by their shortest path: these are LangGraph's and the HTTP stack's.
GROUPS = {
    **dict.fromkeys(("pregel", "_internal", "runtime.py", "channels", "base", "graph",
                     "managed", "langchain_core", "uuid_utils"), "LangGraph (and langchain-core)"),
    **dict.fromkeys(("httpx2", "httpcore2", "h11", "anyio", "sniffio"),
                    "HTTP client (httpx2, httpcore2, h11, anyio)"),
    "openai": "openai SDK",
    "event_loop.py": "event loop (asyncio machinery)",
}


def component(frame: str) -> str:
    found = re.search(r"\(([^:]+):", frame)
    parts = (found.group(1) if found else frame).split("/")
    if parts[0] == "routeur_grpc":
        name = "/".join(parts[:2])
        return GROUPS.get(parts[1], name)
    return GROUPS.get(parts[0], parts[0])


def shares(raw: Path) -> list[tuple[str, float]]:
    """Share of the event loop thread's samples per component, largest first."""
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not any("Runner.run" in frame for frame in frames):
            continue  # another thread (gRPC's pollers, aiosqlite's, idle executors)
        owner = next(
            (f for f in reversed(frames) if not STANDARD_LIBRARY.search(f)), "standard library"
        )
        counts[component(owner)] += int(count)
    total = sum(counts.values()) or 1
    return [(name, 100 * n / total) for name, n in counts.most_common()]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10, help="seconds of load")
    parser.add_argument("--raw", type=Path, default=None, help="keep py-spy's raw samples")
    parser.add_argument("--method", choices=sorted(GRPC_METHODS), default="Complete",
                        help="the gRPC method called: Complete runs the default agent, "
                        "CreateChatCompletion the model alone")
    args = parser.parse_args()
    upstream, up = start_stack("upstream", "openai")
    routeur, info = start_stack("routeur", "--openai-url", up["url"])
    raw = args.raw or Path(tempfile.mkdtemp()) / "samples.txt"
    try:
        address = info["address"]
        h2load(address, 3, 4, 8, args.method)  # warm up: the first calls build caches
        result: dict[str, float] = {}
        load = threading.Thread(
            target=lambda: result.update(h2load(address, args.duration + 2, 4, 8, args.method))
        )
        before = proc_cpu_s(routeur.pid)
        load.start()
        subprocess.run(
            [str(PY_SPY), "record", "-p", str(routeur.pid), "-d", str(args.duration),
             "-r", "250", "-f", "raw", "-o", str(raw)],
            check=True, capture_output=True,
        )
        load.join()
        cpu_s = proc_cpu_s(routeur.pid) - before
    finally:
        for process in (routeur, upstream):
            process.terminate()
            process.wait(timeout=30)
    requests = result["rps"] * (args.duration + 2)
    print(f"{result['rps']:.0f} requests/s, {result['errors']:.0f} errors; "
          f"server CPU {1000 * cpu_s / requests:.2f} ms a request (py-spy's sampling included)")
    for name, share in shares(raw):
        if share >= 0.5:
            print(f"{share:5.1f} %  {name}")


if __name__ == "__main__":
    main()
