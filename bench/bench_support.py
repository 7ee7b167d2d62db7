"""What the provider and gateway benchmarks share: starting `fake_stack.py` processes,
reading a process's CPU time and memory from /proc, and percentiles."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

STACK = Path(__file__).with_name("fake_stack.py")

# The admin key of the Routeur that fake_stack.py starts, sent by every benchmark client.
BENCH_ADMIN_KEY = "rk_benchadm_" + "Bench-Only-Admin-Key-Never-Use-It-Anywhere0"
AUTH_METADATA = (("authorization", f"Bearer {BENCH_ADMIN_KEY}"),)


def start_stack(
    *args: str, tree: Path | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A fake_stack.py process, and the JSON line it prints once listening. With `tree`, the
    fake_stack.py of that checkout of Routeur, its code first on the path."""
    script, env = STACK, None
    if tree is not None:
        script = tree / "bench" / "fake_stack.py"
        env = dict(os.environ, PYTHONPATH=f"{tree}:{tree / 'generated'}")
    process = subprocess.Popen(
        [sys.executable, str(script), *args], stdout=subprocess.PIPE, text=True, env=env
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        raise SystemExit(f"fake_stack.py {' '.join(args)} did not start")
    return process, json.loads(line)


def percentile(values: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def proc_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(child) for child in text]
    return found


class OpenAtOnce:
    """How many streams have had their first piece and not yet their last, at most."""

    def __init__(self) -> None:
        self.now = self.most = 0

    def opened(self) -> None:
        self.now += 1
        self.most = max(self.most, self.now)

    def closed(self) -> None:
        self.now -= 1
