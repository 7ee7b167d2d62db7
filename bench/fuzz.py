"""The long fuzz run: every routeur.v1 RPC over gRPC (typed messages, raw bytes) and over
REST through Envoy, with the verdict of the test suite's short profile.

    .venv/bin/python bench/fuzz.py [--typed 120] [--raw 60] [--rest 30] [--seed N]

Starts a fake OpenAI upstream (`fake_stack.py`) and `routeur-grpc serve` (gRPC and Envoy)
wired to it, in processes of their own, with the bench admin key (`bench_support`) as its
bootstrap admin; then sends, as that admin, `--typed` + `--raw` cases per RPC over
gRPC and `--rest` per REST mapping (about 11,000 cases with the defaults), checks the server
is still healthy, and prints the case count, the answers seen, and every failure. Exits 1
when anything failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import grpc
import httpx

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "reliability")]

from bench_support import BENCH_ADMIN_KEY, start_stack
from fuzzing import Verdict, fuzz_grpc, fuzz_rest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_process import ServerProcess
from support import auth_headers, open_channel


def healthy(server: ServerProcess) -> bool:
    with grpc.insecure_channel(server.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    rest = httpx.get(f"{server.rest_url}/health", headers=auth_headers(BENCH_ADMIN_KEY), timeout=10)
    return reply.status == health_pb2.HealthCheckResponse.SERVING and rest.status_code == 200


def authenticated(server: ServerProcess) -> None:
    """Stop at once when the admin key is refused: every case would only test the refusal."""
    reply = httpx.get(f"{server.rest_url}/models", headers=auth_headers(BENCH_ADMIN_KEY), timeout=10)
    if reply.status_code != 200:
        raise SystemExit(f"the bench admin key is refused ({reply.status_code}): {reply.text[:200]}")


def as_admin(address: str) -> grpc.aio.Channel:
    """A channel carrying the bench admin's key, as every case is sent."""
    return open_channel(address, BENCH_ADMIN_KEY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--typed", type=int, default=120, help="typed gRPC cases per RPC")
    parser.add_argument("--raw", type=int, default=60, help="raw-bytes gRPC cases per RPC")
    parser.add_argument("--rest", type=int, default=30, help="REST cases per REST mapping")
    parser.add_argument("--seed", type=int, default=None, help="for a reproducible run")
    args = parser.parse_args()

    upstream, info = start_stack("upstream", "openai")
    with tempfile.TemporaryDirectory(prefix="routeur-fuzz-") as data_dir:
        server = ServerProcess(Path(data_dir), {
            "ROUTEUR_LOCAL_MODEL_ENABLED": "false",
            "ROUTEUR_BOOTSTRAP_ADMIN_KEY": BENCH_ADMIN_KEY,
            "ROUTEUR_PROVIDERS": json.dumps([{"name": "openai", "type": "openai",
                                              "base_url": f"{info['url']}/v1", "api_key": "sk-fuzz"}]),
        })
        try:
            server.start()
            authenticated(server)
            started = time.monotonic()
            runs: dict[str, Verdict] = {
                "gRPC typed": fuzz_grpc(server.address, args.typed, raw=False,
                                        open_channel=as_admin, seed=args.seed),
                "gRPC raw": fuzz_grpc(server.address, args.raw, raw=True,
                                      open_channel=as_admin, seed=args.seed),
                "REST": fuzz_rest(server.rest_url, args.rest, auth=auth_headers(BENCH_ADMIN_KEY),
                                  seed=args.seed),
            }
            elapsed = time.monotonic() - started
            still_healthy = healthy(server)
        finally:
            server.stop()
            upstream.terminate()
            upstream.wait()

    total = sum(v.cases for v in runs.values())
    failures = [f for v in runs.values() for f in v.failures]
    for name, verdict in runs.items():
        answers = ", ".join(f"{k} {n}" for k, n in sorted(verdict.codes.items()))
        print(f"{name:>10}: {verdict.cases:6d} cases, {len(verdict.failures)} failures ({answers})")
    print(f"     total: {total} cases in {elapsed:.0f} s, {len(failures)} failures, "
          f"server healthy afterwards: {still_healthy}")
    for name, verdict in runs.items():
        for label, sample in sorted(verdict.samples.items()):
            print(f"  {name} {label}, e.g. {sample}")
    for failure in failures[:50]:
        print(f"  FAIL {failure}")
    sys.exit(1 if failures or not still_healthy else 0)


if __name__ == "__main__":
    main()
