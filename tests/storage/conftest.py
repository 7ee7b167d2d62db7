"""Fixtures of the storage contract suite: every test that takes `store` runs on both stores.

- SQLite: a fresh data directory under `tmp_path`.
- MongoDB: a real wire-protocol server (the session's `mongodb_uri`, from tests/conftest.py:
  SecantusDB in-process, or a real `mongod` named by `ROUTEUR_TEST_MONGODB_URI`); each test
  gets a fresh database name, dropped afterwards.

No mock and no patched driver: the repositories talk to the real thing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymongo import AsyncMongoClient

from routeur_grpc.domain.repositories import Store
from routeur_grpc.storage import open_store

STORES = ["sqlite", "mongodb"]

StoreOpener = Callable[[], Awaitable[Store]]


@pytest.fixture(params=STORES)
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> SimpleNamespace:
    """The four settings `open_store` reads, for one store kind."""
    if request.param == "sqlite":
        return SimpleNamespace(
            store="sqlite",
            data_dir=tmp_path / "data",
            mongodb_uri="mongodb://127.0.0.1:9",  # never used
            mongodb_database="unused",
        )
    return SimpleNamespace(
        store="mongodb",
        data_dir=tmp_path,
        mongodb_uri=request.getfixturevalue("mongodb_uri"),
        mongodb_database=f"routeur_test_{uuid.uuid4().hex[:12]}",
    )


@pytest.fixture
async def open_same_store(store_settings: SimpleNamespace) -> AsyncIterator[StoreOpener]:
    """Opens the test's store (same file, same database) as often as a test likes, as two
    server processes or a restarted one would; closes them all afterwards."""
    opened: list[Store] = []

    async def opener() -> Store:
        store = await open_store(store_settings)
        opened.append(store)
        return store

    yield opener
    for store in opened:
        await store.close()
    if store_settings.store == "mongodb":
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(store_settings.mongodb_uri)
        try:
            await client.drop_database(store_settings.mongodb_database)
        finally:
            await client.close()


@pytest.fixture
async def store(open_same_store: StoreOpener) -> Store:
    return await open_same_store()
