"""What the provider and gateway benchmarks share: starting `fake_stack.py` processes, and
percentiles."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

STACK = Path(__file__).with_name("fake_stack.py")

# The admin key of the Routeur that fake_stack.py starts, sent by every benchmark client.
BENCH_ADMIN_KEY = "rk_benchadm_" + "Bench-Only-Admin-Key-Never-Use-It-Anywhere0"
AUTH_METADATA = (("authorization", f"Bearer {BENCH_ADMIN_KEY}"),)


def start_stack(*args: str) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """A fake_stack.py process, and the JSON line it prints once listening."""
    process = subprocess.Popen(
        [sys.executable, str(STACK), *args], stdout=subprocess.PIPE, text=True
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
