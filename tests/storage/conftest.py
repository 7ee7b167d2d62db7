"""Fixtures of the storage contract suite: every test that takes `store` runs on both stores.

- SQLite: a fresh data directory under `tmp_path`.
- MongoDB: a real wire-protocol server. By default SecantusDB (the `secantusdb` package),
  started in-process on port 0 once per session; each test gets a fresh database name,
  dropped afterwards. Set `ROUTEUR_TEST_MONGODB_URI` to run against a real `mongod` instead.

No mock and no patched driver: the repositories talk to the real thing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from pymongo import AsyncMongoClient

from routeur_grpc.domain.repositories import Store
from routeur_grpc.storage import open_store

MONGODB_URI_VARIABLE = "ROUTEUR_TEST_MONGODB_URI"
STORES = ["sqlite", "mongodb"]

StoreOpener = Callable[[], Awaitable[Store]]


@pytest.fixture(scope="session")
def mongodb_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URI of the MongoDB server the suite runs against."""
    configured = os.environ.get(MONGODB_URI_VARIABLE)
    if configured:
        yield configured
        return
    from secantus import SecantusDBServer

    server = SecantusDBServer(
        host="127.0.0.1",
        port=0,  # the OS picks a free port; server.uri names it
        storage_path=str(tmp_path_factory.mktemp("secantusdb")),
        # A single node without the replica-set oplog: nothing here reads change streams,
        # and every write is cheaper without it.
        replica_set_name=None,
    )
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


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
