"""The SQLite file: its connections, its transactions, and its errors turned into ours.

One file, in WAL mode, so readers never wait for the writer. Two `aiosqlite` connections,
each with its own thread, so the event loop never blocks on disk:

- the writer runs every write as `BEGIN IMMEDIATE … COMMIT`. Within a process an
  `asyncio.Lock` hands it to one transaction at a time (statements of two coroutines must not
  interleave in one transaction); across processes, `BEGIN IMMEDIATE` takes SQLite's write
  lock up front, and `busy_timeout` makes a second process wait for it instead of failing.
- the reader runs single statements in autocommit mode, each seeing a committed snapshot.

sqlite3 errors are translated through a table keyed by SQLite's result codes (never by
message text); nothing from `sqlite3` escapes this package.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from routeur_grpc.errors import (
    AlreadyExists,
    Internal,
    InvalidArgument,
    NotFound,
    RouteurError,
    Unavailable,
)
from routeur_grpc.storage.sqlite.migrations import migrate

BUSY_TIMEOUT_MS = 10_000
Params = Sequence[Any]

_CONFLICT = "conflict"  # stands for the caller's message about a uniqueness conflict
_REFERENCE = "reference"  # … about a row that refers to a missing one

# Extended result codes first, then primary ones (`code & 0xFF`).
_ERROR_TABLE: Mapping[int, tuple[type[RouteurError], str]] = {
    sqlite3.SQLITE_CONSTRAINT_UNIQUE: (AlreadyExists, _CONFLICT),
    sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY: (AlreadyExists, _CONFLICT),
    sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY: (NotFound, _REFERENCE),
    sqlite3.SQLITE_BUSY: (Unavailable, "The database is busy; retry shortly."),
    sqlite3.SQLITE_LOCKED: (Unavailable, "The database is busy; retry shortly."),
    sqlite3.SQLITE_FULL: (Unavailable, "The database disk is full."),
    sqlite3.SQLITE_IOERR: (Unavailable, "The database file cannot be read or written."),
    sqlite3.SQLITE_READONLY: (Unavailable, "The database file cannot be written."),
    sqlite3.SQLITE_CANTOPEN: (Unavailable, "The database file cannot be opened."),
    sqlite3.SQLITE_TOOBIG: (InvalidArgument, "A value is too large to store."),
}


def translate(exc: sqlite3.Error, *, conflict: str, reference: str) -> RouteurError:
    code = getattr(exc, "sqlite_errorcode", None)
    entry = None
    if isinstance(code, int):
        entry = _ERROR_TABLE.get(code) or _ERROR_TABLE.get(code & 0xFF)
    if entry is None:
        return Internal("The store failed unexpectedly.")
    error_class, message = entry
    message = {_CONFLICT: conflict, _REFERENCE: reference}.get(message, message)
    return error_class(message)


@contextmanager
def sqlite_errors(
    *,
    conflict: str = "This record exists already.",
    reference: str = "A record this one refers to does not exist.",
) -> Iterator[None]:
    """Runs the block with sqlite3 errors turned into `RouteurError`s."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, conflict=conflict, reference=reference) from exc


class SqliteTransaction:
    """The writer connection inside one `BEGIN IMMEDIATE` transaction."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._connection.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Runs a statement; returns the number of rows it changed."""
        async with self._connection.execute(sql, params) as cursor:
            return cursor.rowcount


    async def execute_many(self, sql: str, rows: Sequence[Params]) -> None:
        """One statement over many rows, in this transaction."""
        await self._connection.executemany(sql, rows)


async def _connect(path: Path, *, reader: bool) -> aiosqlite.Connection:
    # isolation_level=None: no implicit transactions; we say BEGIN and COMMIT ourselves.
    connection = await aiosqlite.connect(path, isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        await connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await connection.execute("PRAGMA foreign_keys = ON")
        if reader:
            await connection.execute("PRAGMA query_only = ON")
            await connection.create_function("routeur_icontains", 2, _icontains, deterministic=True)
        else:
            await connection.execute("PRAGMA journal_mode = WAL")
            # In WAL mode NORMAL survives a crash of the process; only a power loss can
            # lose the last transactions. A good trade for a router's records.
            await connection.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        await connection.close()
        raise
    return connection


def _icontains(haystack: str | None, needle: str | None) -> bool:
    """Case-insensitive substring test for any script: SQLite's LIKE folds ASCII only."""
    if haystack is None or needle is None:
        return False
    return needle.casefold() in haystack.casefold()


class SqliteDatabase:
    """The open database file; shared by the SQLite repositories of one store."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = asyncio.Lock()
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> SqliteDatabase:
        """Opens (or creates) the file and brings its schema up to date."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Unavailable("The directory of the SQLite store cannot be created.") from exc
        opened: list[aiosqlite.Connection] = []
        try:
            with sqlite_errors():
                opened.append(await _connect(path, reader=False))
                opened.append(await _connect(path, reader=True))
            database = cls(*opened)
            async with database.write() as tx:
                await migrate(tx)
        except BaseException:
            for connection in opened:
                with contextlib.suppress(sqlite3.Error):
                    await connection.close()
            raise
        return database

    @asynccontextmanager
    async def write(
        self,
        *,
        conflict: str = "This record exists already.",
        reference: str = "A record this one refers to does not exist.",
    ) -> AsyncIterator[SqliteTransaction]:
        """One write transaction; committed when the block ends, rolled back if it raises."""
        self._check_open()
        async with self._write_lock:
            with sqlite_errors(conflict=conflict, reference=reference):
                try:
                    await self._writer.execute("BEGIN IMMEDIATE")
                    yield SqliteTransaction(self._writer)
                    await self._writer.execute("COMMIT")
                except BaseException:
                    # Also on cancellation, where the statement awaited may still run: the
                    # rollback is queued behind it on the connection's thread, before the lock
                    # is released, so the next transaction never starts inside this one.
                    # sqlite3's rollback() does nothing when no transaction is open.
                    with contextlib.suppress(sqlite3.Error):
                        await asyncio.shield(self._writer.rollback())
                    raise

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        self._check_open()
        with sqlite_errors():
            return list(await self._reader.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        async with self._write_lock:
            for connection in (self._reader, self._writer):
                with sqlite_errors():
                    await connection.close()

    def _check_open(self) -> None:
        if self._closed:
            raise Unavailable("The store is closed.")
