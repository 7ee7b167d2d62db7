"""The gateway benchmark's report: its figures, written as JSON, a Markdown table and a PNG
chart (matplotlib, when installed)."""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

RESULTS = Path(__file__).with_name("results")


@dataclass
class Report:
    date: str = field(default_factory=lambda: datetime.date.today().isoformat())
    cores: int = field(default_factory=lambda: os.cpu_count() or 0)
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    ttft_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    throughput_rps: dict[str, dict[str, float]] = field(default_factory=dict)
    streams: dict[str, dict[str, float]] = field(default_factory=dict)
    relay: dict[str, dict[str, float]] = field(default_factory=dict)


def write(report: Report) -> None:
    RESULTS.mkdir(exist_ok=True)
    target = RESULTS / f"gateway-{report.date}.json"
    target.write_text(json.dumps(report.__dict__, indent=2) + "\n")
    print(markdown(report))
    print(f"\nresults: {target}")
    try:
        chart(report, target.with_suffix(".png"))
        print(f"chart:   {target.with_suffix('.png')}")
    except ImportError:
        print("chart skipped: pip install matplotlib")


def markdown(report: Report) -> str:
    lines = [f"Measured {report.date} on {report.cores} cores "
             "(`.venv/bin/python bench/bench_gateway.py`):", "",
             "| path | p50 / p99 ms | added p50 / p99 ms | TTFT p50 ms | requests/s (errors) "
             "| relay tokens/s | CPU ms / 1,000 tokens |",
             "|---|---|---|---|---|---|---|"]
    for name, lat in report.latency_ms.items():
        ttft = report.ttft_ms.get(name, {})
        tput = report.throughput_rps.get(name, {})
        relay = report.relay.get(name, {})
        lines.append(
            f"| {name} | {lat['p50']:.2f} / {lat['p99']:.2f} | {lat['added_p50']:+.2f} / "
            f"{lat['added_p99']:+.2f} | {ttft.get('p50', float('nan')):.2f} | "
            f"{tput.get('rps', float('nan')):,.0f} ({tput.get('errors', '-')}) | "
            f"{relay.get('tokens_per_s', '-')} | {relay.get('cpu_ms_per_1000_tokens', '-')} |"
        )
    if report.throughput_rps:
        lines += ["", "| requests/s at saturation | median requests/s | each run | errors "
                  "| CPU ms per call: servers / Envoy |", "|---|---|---|---|---|"]
        for name, row in report.throughput_rps.items():
            runs = ", ".join(f"{rps:,.0f}" for rps in row.get("rps_runs", [row["rps"]]))
            cpu = (f"{row['server_cpu_ms_per_call']:.2f} / {row['envoy_cpu_ms_per_call']:.2f}"
                   if "server_cpu_ms_per_call" in row else "-")
            lines.append(f"| {name} | {row['rps']:,.0f} | {runs} | {row['errors']} | {cpu} |")
    if report.streams:
        lines += ["", "| concurrent slow streams (gRPC) | errors | TTFT p99 ms | open at once, "
                  "at most | peak RSS MB |", "|---|---|---|---|---|"]
        for level, row in report.streams.items():
            lines.append(f"| {level} | {row['errors']} | {row['ttft_p99_ms']} | "
                         f"{row.get('max_open', '-')} | {row['peak_rss_mb']} |")
    return "\n".join(lines)


def chart(report: Report, target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 5))
    names = [n for n in report.latency_ms if n != "upstream"]
    axes[0].barh(names, [report.latency_ms[n]["added_p99"] for n in names], alpha=0.4,
                 label="p99")
    axes[0].barh(names, [report.latency_ms[n]["added_p50"] for n in names], label="p50")
    axes[0].set_xlabel("latency added over the upstream, ms (concurrency 1)")
    axes[0].legend()
    # The upstream alone (the floor) is in the table: its bar would flatten the others.
    rps_names = [n for n in report.throughput_rps if n != "upstream"]
    rates = [report.throughput_rps[n]["rps"] for n in rps_names]
    axes[1].barh(rps_names, rates)
    for row, rate in enumerate(rates):
        axes[1].annotate(f"{rate:,.0f}", (rate, row), xytext=(3, 0),
                         textcoords="offset points", va="center")
    axes[1].set_xlabel("completions/s at saturation")
    fig.suptitle(f"Routeur vs LiteLLM, fake OpenAI upstream, {report.cores} cores, "
                 f"{report.date}")
    fig.tight_layout()
    fig.savefig(target, dpi=110)
