"""Print the upstream fault matrix: fault × face → what the client saw, per provider.

    PYTHONPATH=.:generated .venv/bin/python bench/fault_matrix.py [--provider openai] [--json]

Starts the same stack as tests/providers/test_fault_matrix.py (a Routeur server on port 0,
six fake upstreams, Envoy in front) and runs every case once. Each cell reads:
`<what the client saw>; <requests that reached the upstream>; <how the router accounted it>`,
where what the client saw is a gRPC code or HTTP status when the call failed before any
text, or `N pieces, then error X` when text came first (nothing is retried then).
Asserts nothing: the test file does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT), str(ROOT / "generated")]

from providers.fault_matrix import FACES, FAULTS, PROVIDERS, run_case, start_stack  # noqa: E402


async def main(only: str | None, as_json: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="fault-matrix-") as work:
        stack = await start_stack(Path(work))
        results: list[dict[str, str]] = []
        try:
            for provider in PROVIDERS:
                if only and provider.id != only:
                    continue
                rows = []
                for case in FAULTS:
                    cells = []
                    for face in FACES:
                        seen = await run_case(stack, provider, case, face)
                        cells.append(seen.describe())
                        results.append(
                            {"provider": provider.id, "fault": case.name, "face": face,
                             "seen": seen.describe()}
                        )
                    rows.append((case.name, cells))
                if not as_json:
                    _print_table(provider.id, rows)
        finally:
            await stack.aclose()
        if as_json:
            print(json.dumps(results, indent=2))


def _print_table(provider: str, rows: list[tuple[str, list[str]]]) -> None:
    widths = [max(len("fault"), *(len(name) for name, _ in rows))]
    for index, face in enumerate(FACES):
        widths.append(max(len(face), *(len(cells[index]) for _, cells in rows)))
    print(f"\n## {provider}")
    header = ["fault", *FACES]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for name, cells in rows:
        print(" | ".join(v.ljust(w) for v, w in zip([name, *cells], widths, strict=True)))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--provider", choices=[p.id for p in PROVIDERS])
    parser.add_argument("--json", action="store_true", help="one JSON list instead of tables")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.provider, arguments.json))
