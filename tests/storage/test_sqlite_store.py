"""What is particular to the SQLite store: its file, its schema version and its errors."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from routeur_grpc.errors import AlreadyExists, FailedPrecondition, Internal, NotFound, Unavailable
from routeur_grpc.storage import open_store
from routeur_grpc.storage.sqlite import DATABASE_FILE_NAME
from routeur_grpc.storage.sqlite.conversations import like_pattern
from routeur_grpc.storage.sqlite.database import translate
from routeur_grpc.storage.sqlite.migrations import SCHEMA_VERSION

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]


def sqlite_settings(data_dir: Path) -> SimpleNamespace:
    return SimpleNamespace(
        store="sqlite", data_dir=data_dir, mongodb_uri="unused", mongodb_database="unused"
    )


async def test_the_store_is_one_wal_mode_file_in_the_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "not" / "yet" / "there"
    store = await open_store(sqlite_settings(data_dir))
    await store.conversations.create("alice")
    await store.close()

    with sqlite3.connect(data_dir / DATABASE_FILE_NAME) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert connection.execute("SELECT version FROM schema_version").fetchall() == [
            (SCHEMA_VERSION,)
        ]
        indexes = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert {"conversations_by_owner", "jobs_by_status", "usage_by_owner_day"} <= indexes


async def test_opening_again_applies_no_migration_twice(tmp_path: Path) -> None:
    for _ in range(2):
        store = await open_store(sqlite_settings(tmp_path))
        await store.close()

    with sqlite3.connect(tmp_path / DATABASE_FILE_NAME) as connection:
        assert connection.execute("SELECT COUNT(*) FROM schema_version").fetchone() == (1,)


async def test_usage_recorded_before_audio_was_counted_upgrades_without_audio(
    tmp_path: Path,
) -> None:
    store = await open_store(sqlite_settings(tmp_path))
    await store.usage.record(
        request_id="req-old",
        owner_id="alice",
        model="gpt-4o",
        provider="openai",
        prompt_tokens=1,
        completion_tokens=1,
        cost=0.0,
        currency="USD",
        emissions_g=None,
        latency_s=0.1,
    )
    await store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE_NAME) as connection:  # as the last version
        connection.execute("ALTER TABLE usage DROP COLUMN audio_seconds")
        connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION - 1,))

    store = await open_store(sqlite_settings(tmp_path))
    try:
        [old] = await store.usage.recent("alice", limit=1)
    finally:
        await store.close()

    assert (old.request_id, old.audio_seconds) == ("req-old", None)


async def test_a_file_from_a_newer_routeur_is_refused(tmp_path: Path) -> None:
    store = await open_store(sqlite_settings(tmp_path))
    await store.close()
    with sqlite3.connect(tmp_path / DATABASE_FILE_NAME) as connection:
        connection.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))

    with pytest.raises(FailedPrecondition, match="newer"):
        await open_store(sqlite_settings(tmp_path))


async def test_a_data_directory_that_cannot_be_created_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")

    with pytest.raises(Unavailable):
        await open_store(sqlite_settings(blocker / "data"))


async def test_a_file_that_is_not_a_database_gives_a_routeur_error(tmp_path: Path) -> None:
    (tmp_path / DATABASE_FILE_NAME).write_bytes(b"certainly not sqlite " * 100)

    with pytest.raises((Internal, Unavailable)):
        await open_store(sqlite_settings(tmp_path))


CLAIMER = """
import asyncio, pathlib, sys, types
from routeur_grpc.storage import open_store

async def main() -> None:
    settings = types.SimpleNamespace(
        store="sqlite", data_dir=pathlib.Path(sys.argv[1]), mongodb_uri="", mongodb_database=""
    )
    store = await open_store(settings)
    print("ready", flush=True)
    sys.stdin.readline()  # wait for the other process to be ready too
    claimed = []
    while (job := await store.jobs.claim_next(sys.argv[2], 30)) is not None:
        claimed.append(job.job_id)
    await store.close()
    print(" ".join(claimed), flush=True)

asyncio.run(main())
"""


async def test_two_server_processes_on_one_file_claim_each_job_once(tmp_path: Path) -> None:
    store = await open_store(sqlite_settings(tmp_path))
    created = {
        (await store.jobs.create("alice", job_type="transcription_audio", audio_path=f"{i}")).job_id
        for i in range(60)
    }
    await store.close()
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            CLAIMER,
            str(tmp_path),
            f"process-{n}",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=REPOSITORY_ROOT,
        )
        for n in range(2)
    ]
    for process in processes:
        assert process.stdout is not None
        assert await asyncio.wait_for(process.stdout.readline(), 30) == b"ready\n"
    outputs = await asyncio.gather(
        *(asyncio.wait_for(process.communicate(b"go\n"), 30) for process in processes)
    )

    claims = [job_id for stdout, _ in outputs for job_id in stdout.decode().split()]
    assert all(process.returncode == 0 for process in processes)
    assert sorted(claims) == sorted(created)


def test_sqlite_errors_are_translated_by_result_code() -> None:
    with sqlite3.connect(":memory:") as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("CREATE TABLE parent (id TEXT PRIMARY KEY, name TEXT UNIQUE)")
        connection.execute("CREATE TABLE child (parent_id TEXT REFERENCES parent (id))")
        connection.execute("INSERT INTO parent VALUES ('p', 'n')")
        failures = {}
        for label, sql in {
            "unique": "INSERT INTO parent VALUES ('q', 'n')",
            "primary key": "INSERT INTO parent VALUES ('p', 'm')",
            "foreign key": "INSERT INTO child VALUES ('missing')",
            "syntax": "SELEKT 1",
        }.items():
            with pytest.raises(sqlite3.Error) as raised:
                connection.execute(sql)
            failures[label] = translate(raised.value, conflict="taken", reference="no parent")

    assert isinstance(failures["unique"], AlreadyExists) and str(failures["unique"]) == "taken"
    assert isinstance(failures["primary key"], AlreadyExists)
    assert isinstance(failures["foreign key"], NotFound)
    assert str(failures["foreign key"]) == "no parent"
    assert isinstance(failures["syntax"], Internal)
    assert "SELEKT" not in str(failures["syntax"])


def test_like_patterns_escape_their_wildcards() -> None:
    assert like_pattern("100%_\\") == "%100\\%\\_\\\\%"
