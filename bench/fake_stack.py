"""Processes for the provider benchmarks: a fake upstream, and Routeur wired to fakes.

    .venv/bin/python bench/fake_stack.py upstream openai|mistral|otlp [--tokens N] [--delay-s S]
    .venv/bin/python bench/fake_stack.py routeur --openai-url URL [--mistral-url URL]
        [--data-dir DIR] [--max-concurrent-calls N] [--rest]
        [--auth enabled|disabled] [--auth-cache-ttl SECONDS] [--local-stt] [--workers N]

Each prints one JSON line on stdout once listening ({"url": ...} or {"address": ...}, plus
"rest_url" with `--rest`) and serves until SIGTERM. The Routeur process is the real server
(`build_server`) configured with one remote provider per fake URL, without the embedded
model; with `--rest`, Envoy runs beside it as `serve` starts it. Its admin's API key is
`bench_support.BENCH_ADMIN_KEY`. On SIGUSR1 the Routeur process prints one more JSON line:
its resident memory, open file descriptors, threads and asyncio tasks (for the soak
benchmark). With `--workers N` above 1, the server runs as `serve` runs it with
`ROUTEUR_WORKERS=N` (a redis-server from Debian holds the shared counters), and the JSON
line adds the workers' "pids".
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import gc
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import BENCH_ADMIN_KEY
from fakes import FakeMistral, FakeOpenAI, FakeOtlpCollector

from routeur_grpc import event_loop
from routeur_grpc.garbage_collection import freeze_startup_objects
from routeur_grpc.gateway import start_gateway
from routeur_grpc.server import build_server
from routeur_grpc.settings import Settings
from routeur_grpc.structured_logging import configure_logging

#: `otlp` is not a provider: an OpenTelemetry collector taking spans over OTLP/HTTP.
FAKES = {"openai": FakeOpenAI, "mistral": FakeMistral, "otlp": FakeOtlpCollector}


async def _until_terminated() -> None:
    await _termination().wait()


def _termination() -> asyncio.Event:
    """Set on SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def serve_upstream(kind: str, tokens: int = 0, delay_s: float = 0.0) -> None:
    """A fake upstream; on SIGUSR1 it prints the requests it received and the connections
    clients closed before the end of an answer."""
    async with FAKES[kind]() as fake:
        if tokens:
            fake.reply_text = " ".join(["token"] * tokens)
        fake.stream_delay_s = delay_s
        print(json.dumps({"url": fake.url}), flush=True)
        asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, lambda: print(json.dumps({
            "requests": len(fake.requests),
            "mid_response_closes": sum(1 for c in fake.client_closes if c.mid_response),
        }), flush=True))
        await _until_terminated()


def process_figures() -> dict[str, int]:
    """This process's resident memory (KB), open descriptors, threads and asyncio tasks."""
    gc.collect()
    status = Path("/proc/self/status").read_text().splitlines()
    rss_kb = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
    descriptors = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            descriptors.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            pass  # the descriptor listdir itself used, closed since
    return {
        "rss_kb": rss_kb,
        "fds": len(descriptors),
        "socket_fds": sum(1 for target in descriptors if target.startswith("socket:")),
        "threads": threading.active_count(),
        "os_threads": len(os.listdir("/proc/self/task")),
        "asyncio_tasks": len(asyncio.all_tasks()),
    }


def task_kinds(top: int = 5) -> dict[str, int]:
    """The most frequent coroutines among this process's asyncio tasks."""
    kinds = collections.Counter(
        getattr(task.get_coro(), "__qualname__", "?") for task in asyncio.all_tasks()
    )
    return dict(kinds.most_common(top))


async def serve_routeur(
    openai_url: str | None,
    mistral_url: str | None,
    data_dir: str | None = None,
    max_concurrent_calls: int | None = None,
    auth: str = "enabled",
    auth_cache_ttl_s: float = 5.0,
    rest: bool = False,
    local_stt: bool = False,
    workers: int = 1,
) -> None:
    providers = []
    if openai_url:
        providers.append(
            {"name": "openai", "type": "openai", "base_url": f"{openai_url}/v1", "api_key": "sk-bench"}
        )
    if mistral_url:
        providers.append(
            {"name": "mistral", "type": "mistral", "base_url": mistral_url, "api_key": "bench"}
        )
    with tempfile.TemporaryDirectory() as temporary:
        extra = {} if max_concurrent_calls is None else {"max_concurrent_calls": max_concurrent_calls}
        settings = Settings(
            grpc_address="127.0.0.1:0",
            data_dir=Path(data_dir or temporary),
            local_model_enabled=False,
            # The local speech-to-text model (~300 MB of weights, loaded at start) plays no
            # part in the completion benchmarks; without it the memory is the router's.
            transcription_local_enabled=local_stt,
            providers=providers,
            log_level=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
            auth=auth,  # type: ignore[arg-type]
            auth_cache_ttl_s=auth_cache_ttl_s,
            bootstrap_admin_key=BENCH_ADMIN_KEY,  # type: ignore[arg-type]
            rest_port=0,
            gateway_admin_port=0,
            **extra,  # type: ignore[arg-type]
        )
        configure_logging(settings.log_level, settings.log_format)
        if workers > 1:
            await _serve_workers(settings, workers, rest)
            return
        routeur, port = await build_server(settings)
        await routeur.start()
        freeze_startup_objects()
        info = {"address": f"127.0.0.1:{port}"}
        gateway = None
        if rest:
            gateway = await start_gateway(settings, grpc_port=port)
            info["rest_url"] = gateway.rest_url
        print(json.dumps(info), flush=True)
        asyncio.get_running_loop().add_signal_handler(
            signal.SIGUSR1,
            lambda: print(json.dumps({**process_figures(), "task_kinds": task_kinds()}), flush=True),
        )
        await _until_terminated()
        await routeur.stop(1)
        if gateway is not None:
            await gateway.stop()


async def _serve_workers(settings: Settings, count: int, rest: bool) -> None:
    from redis_server import running_redis

    from routeur_grpc.workers import WorkerPool

    with tempfile.TemporaryDirectory() as redis_dir, running_redis(Path(redis_dir)) as redis_url:
        pool = WorkerPool(
            settings.model_copy(update={"redis_url": redis_url, "gateway_enabled": rest}), count
        )
        stop = _termination()
        try:
            await pool.start()
            info = {"address": pool.address, "pids": pool.pids}
            if pool.rest_url:
                info["rest_url"] = pool.rest_url
            print(json.dumps(info), flush=True)
            await pool.supervise(stop)
        finally:
            await pool.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    upstream = sub.add_parser("upstream")
    upstream.add_argument("kind", choices=sorted(FAKES))
    upstream.add_argument("--tokens", type=int, default=0, help="words in each answer")
    upstream.add_argument("--delay-s", type=float, default=0.0, help="pause between chunks")
    routeur = sub.add_parser("routeur")
    routeur.add_argument("--openai-url")
    routeur.add_argument("--mistral-url")
    routeur.add_argument("--data-dir")
    routeur.add_argument("--max-concurrent-calls", type=int)
    routeur.add_argument("--auth", choices=["enabled", "disabled"], default="enabled")
    routeur.add_argument("--auth-cache-ttl", type=float, default=5.0)
    routeur.add_argument("--rest", action="store_true", help="start Envoy beside the server")
    routeur.add_argument("--local-stt", action="store_true",
                         help="load the local speech-to-text model (off: ~300 MB less)")
    routeur.add_argument("--workers", type=int, default=1, help="server processes")
    args = parser.parse_args()
    if args.command == "upstream":
        asyncio.run(serve_upstream(args.kind, args.tokens, args.delay_s))
    else:
        # The server's default loop (uvloop), as `routeur-grpc serve` runs it.
        event_loop.run(serve_routeur(
            args.openai_url, args.mistral_url, args.data_dir, args.max_concurrent_calls,
            args.auth, args.auth_cache_ttl, args.rest, args.local_stt, args.workers,
        ), os.environ.get("ROUTEUR_EVENT_LOOP", "uvloop"))


if __name__ == "__main__":
    main()
