"""Processes for the provider benchmarks: a fake upstream, and Routeur wired to fakes.

    .venv/bin/python bench/fake_stack.py upstream openai [--reply-words N] [--stream-delay S]
    .venv/bin/python bench/fake_stack.py routeur --openai-url URL [--mistral-url URL] [--rest]
        [--auth enabled|disabled] [--auth-cache-ttl SECONDS]

Each prints one JSON line on stdout once listening ({"url": ...} or {"address": ...}, plus
"rest_url" with `--rest`) and serves until SIGTERM. The Routeur process is the real server
(`build_server`) configured with one remote provider per fake URL, without the embedded
model; with `--rest`, Envoy runs beside it as `serve` starts it. Its admin's API key is
`bench_support.BENCH_ADMIN_KEY`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bench_support import BENCH_ADMIN_KEY
from fakes import FakeMistral, FakeOpenAI

from routeur_grpc.gateway import start_gateway
from routeur_grpc.server import build_server
from routeur_grpc.settings import Settings
from routeur_grpc.structured_logging import configure_logging

FAKES = {"openai": FakeOpenAI, "mistral": FakeMistral}


async def _until_terminated() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_upstream(kind: str, reply_words: int, stream_delay_s: float) -> None:
    async with FAKES[kind]() as fake:
        if reply_words:
            fake.reply_text = " ".join(f"w{i}" for i in range(reply_words))
        fake.stream_delay_s = stream_delay_s
        print(json.dumps({"url": fake.url}), flush=True)
        await _until_terminated()


async def serve_routeur(
    openai_url: str | None,
    mistral_url: str | None,
    auth: str = "enabled",
    auth_cache_ttl_s: float = 5.0,
    rest: bool = False,
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
    with tempfile.TemporaryDirectory() as data_dir:
        settings = Settings(
            grpc_address="127.0.0.1:0",
            data_dir=Path(data_dir),
            local_model_enabled=False,
            providers=providers,
            log_level="WARNING",
            auth=auth,  # type: ignore[arg-type]
            auth_cache_ttl_s=auth_cache_ttl_s,
            bootstrap_admin_key=BENCH_ADMIN_KEY,  # type: ignore[arg-type]
            rest_port=0,
            gateway_admin_port=0,
        )
        configure_logging(settings.log_level, settings.log_format)
        routeur, port = await build_server(settings)
        await routeur.start()
        info = {"address": f"127.0.0.1:{port}"}
        gateway = None
        if rest:
            gateway = await start_gateway(settings, grpc_port=port)
            info["rest_url"] = gateway.rest_url
        print(json.dumps(info), flush=True)
        await _until_terminated()
        await routeur.stop(1)
        if gateway is not None:
            await gateway.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    upstream = sub.add_parser("upstream")
    upstream.add_argument("kind", choices=sorted(FAKES))
    upstream.add_argument("--reply-words", type=int, default=0, help="words per answer")
    upstream.add_argument("--stream-delay", type=float, default=0.0, help="seconds per frame")
    routeur = sub.add_parser("routeur")
    routeur.add_argument("--openai-url")
    routeur.add_argument("--mistral-url")
    routeur.add_argument("--auth", choices=["enabled", "disabled"], default="enabled")
    routeur.add_argument("--auth-cache-ttl", type=float, default=5.0)
    routeur.add_argument("--rest", action="store_true", help="start Envoy beside the server")
    args = parser.parse_args()
    if args.command == "upstream":
        asyncio.run(serve_upstream(args.kind, args.reply_words, args.stream_delay))
    else:
        asyncio.run(
            serve_routeur(
                args.openai_url, args.mistral_url, args.auth, args.auth_cache_ttl, args.rest
            )
        )


if __name__ == "__main__":
    main()
