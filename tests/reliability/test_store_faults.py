"""Store faults: the store is locked, full, or unreachable, then recovers.

While the fault lasts, writes are UNAVAILABLE with a message saying what is wrong (never
INTERNAL); once it is gone, the same server (no restart) writes again; and every write that
was acknowledged is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import grpc
import pytest
from conversation_client import ConversationWriter
from support import open_channel, server_settings, start_server

from routeur_grpc.storage.sqlite.database import BUSY_TIMEOUT_MS

pytestmark = pytest.mark.slow

SQLITE_FILE = "routeur.db"


def database_file(data_dir: Path) -> Path:
    found = sorted(data_dir.glob("*.db")) + sorted(data_dir.glob("*.sqlite*"))
    assert found, f"no SQLite file in {data_dir}: {list(data_dir.iterdir())}"
    return found[0]


async def expect_unavailable(writer: ConversationWriter, content: str, words: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await writer.append(content, timeout_s=BUSY_TIMEOUT_MS / 1000 + 20)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()
    assert words in caught.value.details()


async def test_a_locked_sqlite_file_is_unavailable_then_recovers(tmp_path: Path) -> None:
    running = await start_server(server_settings(tmp_path, local_model_enabled=False))
    try:
        async with open_channel(running.address) as channel:
            writer = ConversationWriter(channel)
            await writer.create()
            await writer.append("before the lock")

            holder = sqlite3.connect(database_file(tmp_path), isolation_level=None)
            holder.execute("BEGIN EXCLUSIVE")  # another process's long write transaction
            try:
                await expect_unavailable(writer, "during the lock", "busy")
            finally:
                holder.execute("ROLLBACK")
                holder.close()

            await writer.append("after the lock")
            assert await writer.missing() == []
            assert "during the lock" not in await writer.stored()
    finally:
        await running.server.stop(0)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (needs root, as CI runs; skipped otherwise)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """A file taking every free byte of `directory`'s file system."""
    filler = directory / "filler"
    with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
        while True:
            out.write(b"\0" * 4096)
    return filler


async def test_a_full_disk_is_unavailable_then_recovers(tiny_disk: Path) -> None:
    running = await start_server(server_settings(tiny_disk, local_model_enabled=False))
    try:
        async with open_channel(running.address) as channel:
            writer = ConversationWriter(channel)
            await writer.create()
            await writer.append("before the disk filled")

            filler = fill(tiny_disk)
            refused = 0
            for index in range(50):  # pages still free inside the file absorb a few writes
                try:
                    await writer.append(f"while full {index} " + "x" * 2000)
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
                    assert "disk is full" in error.details() or "written" in error.details()
                    refused += 1
                    break
            assert refused == 1, "the full disk never refused a write"

            filler.unlink()
            await writer.append("after space was freed")
            assert await writer.missing() == []
    finally:
        await running.server.stop(0)


@pytest.fixture
async def restartable_mongodb(tmp_path: Path) -> AsyncIterator[dict[str, object]]:
    """SecantusDB that the test can stop and start again on the same port and files."""
    from secantus import SecantusDBServer

    storage = tmp_path / "secantus"
    storage.mkdir()
    state: dict[str, object] = {}

    def start(port: int = 0) -> None:
        server = SecantusDBServer(
            host="127.0.0.1", port=port, storage_path=str(storage), replica_set_name=None
        )
        server.start()
        state["server"] = server
        state["uri"] = server.uri

    def stop() -> None:
        server = state.pop("server", None)
        if server is not None:
            server.stop()  # type: ignore[attr-defined]

    start()
    state["start"] = start
    state["stop"] = stop
    yield state
    stop()


async def test_mongodb_unreachable_is_unavailable_then_recovers_without_restart(
    tmp_path: Path, restartable_mongodb: dict[str, object]
) -> None:
    port = urlsplit(str(restartable_mongodb["uri"])).port
    assert port is not None
    running = await start_server(server_settings(
        tmp_path / "data", local_model_enabled=False, store="mongodb",
        mongodb_uri=f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1500",
        mongodb_database="fault_suite",
    ))
    try:
        async with open_channel(running.address) as channel:
            writer = ConversationWriter(channel)
            await writer.create()
            await writer.append("before the outage")

            await asyncio.to_thread(restartable_mongodb["stop"])  # type: ignore[arg-type]
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await writer.append("during the outage")
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, caught.value.details()
            assert "MongoDB" in caught.value.details()

            await asyncio.to_thread(restartable_mongodb["start"], port)  # type: ignore[operator]
            for _ in range(100):  # the driver reconnects on its own
                try:
                    await writer.append("after the outage")
                    break
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.UNAVAILABLE, error.details()
                    await asyncio.sleep(0.2)
            assert "after the outage" in writer.acknowledged
            assert await writer.missing() == []
    finally:
        await running.server.stop(0)
