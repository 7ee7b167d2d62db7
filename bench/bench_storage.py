"""Appends/s and reads/s of each store, through the same repositories the server uses.

    .venv/bin/python bench/bench_storage.py [--seconds 2]

Stores measured: SQLite (a file in a temporary directory), MongoDB on SecantusDB started
in-process on port 0, and a real MongoDB when ROUTEUR_TEST_MONGODB_URI is set. Each phase
runs for `--seconds` (so the whole run stays well under a minute):

- append, 1 task: `append_message` one after the other (each a transaction / two round trips)
- append, 16 tasks: the same from 16 concurrent tasks on one conversation
- get, 16 tasks: `conversations.get`, a point read by id and owner
- list 50, 16 tasks: `list_messages` pages of 50 messages

SecantusDB runs in this process, so it shares the interpreter (and its GIL) with the
client: its numbers are a lower bound, good for comparing changes, not for capacity plans.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routeur_grpc.domain.repositories import Store
from routeur_grpc.storage import open_store

OWNER = "bench"
CONCURRENCY = 16
MESSAGE = "Bonjour, peux-tu résumer ce paragraphe ? " * 8  # ~350 bytes, a typical chat turn


async def rate(operation: Callable[[], Awaitable[object]], seconds: float, tasks: int) -> float:
    """Operations per second of `operation`, run by `tasks` concurrent loops for `seconds`."""
    deadline = time.perf_counter() + seconds
    done = 0

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await operation()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(tasks)))
    return done / (time.perf_counter() - started)


async def bench_store(label: str, settings: SimpleNamespace, seconds: float) -> None:
    store: Store = await open_store(settings)
    try:
        conversation = await store.conversations.create(OWNER, title="bench")
        cid = conversation.conversation_id

        async def append() -> object:
            return await store.conversations.append_message(
                OWNER, cid, role="user", content=MESSAGE
            )

        async def get() -> object:
            return await store.conversations.get(OWNER, cid)

        async def list_page() -> object:
            return await store.conversations.list_messages(OWNER, cid, page_size=50)

        results = {
            "append, 1 task": await rate(append, seconds, 1),
            f"append, {CONCURRENCY} tasks": await rate(append, seconds, CONCURRENCY),
            f"get, {CONCURRENCY} tasks": await rate(get, seconds, CONCURRENCY),
            f"list 50, {CONCURRENCY} tasks": await rate(list_page, seconds, CONCURRENCY),
        }
        count = (await store.conversations.get(OWNER, cid)).message_count
        for phase, per_second in results.items():
            print(f"{label:<22} {phase:<20} {per_second:>10,.0f} /s", flush=True)
        print(f"{label:<22} {'(messages stored)':<20} {count:>10,}", flush=True)
    finally:
        await store.close()


async def main(seconds: float) -> None:
    print(f"{'store':<22} {'phase':<20} {'rate':>12}")
    with tempfile.TemporaryDirectory(prefix="routeur-bench-") as temp:
        await bench_store(
            "sqlite (file)",
            SimpleNamespace(
                store="sqlite", data_dir=Path(temp) / "data", mongodb_uri="", mongodb_database=""
            ),
            seconds,
        )

        from secantus import SecantusDBServer

        server = SecantusDBServer(
            port=0, storage_path=str(Path(temp) / "secantus"), replica_set_name=None
        )
        server.start()
        try:
            await bench_store("mongodb (SecantusDB)", mongo_settings(server.uri), seconds)
        finally:
            server.stop()

    real_uri = os.environ.get("ROUTEUR_TEST_MONGODB_URI")
    if real_uri:
        settings = mongo_settings(real_uri)
        try:
            await bench_store("mongodb (mongod)", settings, seconds)
        finally:
            from pymongo import AsyncMongoClient

            client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(real_uri)
            await client.drop_database(settings.mongodb_database)
            await client.close()


def mongo_settings(uri: str) -> SimpleNamespace:
    return SimpleNamespace(
        store="mongodb",
        data_dir=Path("."),
        mongodb_uri=uri,
        mongodb_database=f"routeur_bench_{uuid.uuid4().hex[:8]}",
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds", type=float, default=2.0, help="duration of each phase (4 per store)"
    )
    asyncio.run(main(parser.parse_args().seconds))
