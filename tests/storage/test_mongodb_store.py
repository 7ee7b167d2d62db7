"""What is particular to the MongoDB store: its indexes, its reachability, its errors."""

from __future__ import annotations

import re
import socket
import uuid
from types import SimpleNamespace

import pytest
from bson.errors import InvalidStringData
from pymongo import AsyncMongoClient
from pymongo.errors import (
    AutoReconnect,
    DocumentTooLarge,
    DuplicateKeyError,
    OperationFailure,
    ServerSelectionTimeoutError,
)

from routeur_grpc.errors import AlreadyExists, Internal, InvalidArgument, Unavailable
from routeur_grpc.storage import open_store
from routeur_grpc.storage.mongodb.conversations import literal_regex
from routeur_grpc.storage.mongodb.database import INDEXES
from routeur_grpc.storage.mongodb.errors import translate


def mongo_settings(uri: str, database: str) -> SimpleNamespace:
    return SimpleNamespace(
        store="mongodb", data_dir=".", mongodb_uri=uri, mongodb_database=database
    )


async def test_opening_creates_the_collections_indexes(mongodb_uri: str) -> None:
    database = f"routeur_test_{uuid.uuid4().hex[:12]}"
    store = await open_store(mongo_settings(mongodb_uri, database))
    await store.close()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongodb_uri)
    try:
        for collection, expected in INDEXES.items():
            names = {
                index["name"] async for index in await client[database][collection].list_indexes()
            }
            assert {model.document["name"] for model in expected} <= names, collection
        assert {"users", "conversations", "analysis", "messages", "jobs"} <= set(
            await client[database].list_collection_names()
        )
    finally:
        await client.drop_database(database)
        await client.close()


async def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(Unavailable, match="cannot be reached"):
        await open_store(
            mongo_settings(f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=300", "x")
        )


async def test_an_invalid_uri_is_an_invalid_argument() -> None:
    with pytest.raises(InvalidArgument):
        await open_store(mongo_settings("postgres://nope", "x"))


@pytest.mark.parametrize(
    ("exception", "expected"),
    [
        (DuplicateKeyError("E11000", 11000), AlreadyExists),
        (DocumentTooLarge("too big"), InvalidArgument),
        (InvalidStringData("bad utf-8"), InvalidArgument),
        (ServerSelectionTimeoutError("no server"), Unavailable),
        (AutoReconnect("reset"), Unavailable),
        (OperationFailure("$where is not allowed", 2), Internal),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else value.__name__,
)
def test_driver_errors_are_translated_by_class(exception: Exception, expected: type) -> None:
    translated = translate(exception, conflict="taken")

    assert type(translated) is expected
    assert str(exception) not in str(translated)  # driver text never reaches the caller


def test_literal_regexes_escape_every_metacharacter() -> None:
    text = r"a.b*c+d?e^f$g|h(i)j[k]l{m}n\o/p-q#r s"

    assert re.fullmatch(literal_regex(text), text)
    assert not re.fullmatch(literal_regex("a.b"), "axb")
