"""Where Routeur keeps its records: `open_store(settings)` returns the configured `Store`.

`settings.store` picks the implementation: "sqlite" (the default; one file in
`settings.data_dir`, nothing to install) or "mongodb" (PyMongo's `AsyncMongoClient` at
`settings.mongodb_uri`, database `settings.mongodb_database`). Both pass the same contract
suite (`tests/storage`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from routeur_grpc.domain.repositories import Store
from routeur_grpc.errors import InvalidArgument

__all__ = ["StoreSettings", "open_store"]


class StoreSettings(Protocol):
    """The four settings the store reads (a subset of `routeur_grpc.settings.Settings`)."""

    @property
    def store(self) -> str: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def mongodb_uri(self) -> str: ...

    @property
    def mongodb_database(self) -> str: ...


async def open_store(settings: StoreSettings) -> Store:
    """Connects to the configured store and makes its schema ready (SQLite migrations,
    MongoDB indexes). Raises `Unavailable` if it cannot be reached. Close it with
    `await store.close()`."""
    # Imported here so a deployment using one store never imports the other's driver.
    if settings.store == "sqlite":
        from routeur_grpc.storage.sqlite import open_sqlite_store

        return await open_sqlite_store(Path(settings.data_dir))
    if settings.store == "mongodb":
        from routeur_grpc.storage.mongodb import open_mongo_store

        return await open_mongo_store(settings.mongodb_uri, settings.mongodb_database)
    raise InvalidArgument(f"Unknown store {settings.store!r}: use 'sqlite' or 'mongodb'.")
