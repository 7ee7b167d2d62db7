"""The MongoDB database: its client, its collections and their indexes.

Collections follow the earlier service (the Generative AI Prod API's: `users`, `conversations`, `analysis`) and
add `api_keys`, `messages`, `jobs`, `providers` and `usage`. Documents use the record id as
`_id`; ids sort by creation time, so "newest first" sorts on `_id`. Timestamps are BSON
dates (millisecond precision, read back as UTC-aware datetimes). JSON documents given by
callers (analysis results, job options, provider config) are kept as JSON text, so that
their keys (which may start with `$` or hold dots) are never read as MongoDB syntax.

Indexes are created at open (`create_indexes` is idempotent, so every instance may do it).
No text index: search runs on escaped regular expressions within one owner's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection

from routeur_grpc.storage.mongodb.errors import mongo_errors

Document = dict[str, Any]
SERVER_SELECTION_TIMEOUT_MS = 5_000

INDEXES: Mapping[str, tuple[IndexModel, ...]] = {
    "users": (IndexModel([("username", ASCENDING)], name="username_unique", unique=True),),
    "api_keys": (
        IndexModel([("secret_hash", ASCENDING)], name="secret_hash_unique", unique=True),
        IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="by_user"),
    ),
    "conversations": (IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="by_owner"),),
    "messages": (
        # Also what makes two messages with one seq impossible.
        IndexModel(
            [("conversation_id", ASCENDING), ("seq", ASCENDING)], name="by_seq", unique=True
        ),
        # Search: an owner's messages, then their conversation ids.
        IndexModel([("owner_id", ASCENDING), ("conversation_id", ASCENDING)], name="by_owner"),
    ),
    "analysis": (IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="by_owner"),),
    "jobs": (
        IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="by_owner"),
        # claim_next: the oldest queued job, or the oldest running one with an expired lease.
        # Both branches of its $or walk this index in _id order (queued; running, with the
        # lease checked on the few running jobs), so the oldest comes first without a sort.
        IndexModel([("status", ASCENDING), ("_id", ASCENDING)], name="by_status"),
    ),
    "providers": (IndexModel([("name", ASCENDING)], name="name_unique", unique=True),),
    "usage": (
        IndexModel([("owner_id", ASCENDING), ("day", ASCENDING)], name="by_owner_day"),
        IndexModel([("day", ASCENDING)], name="by_day"),
        # A user's recent requests, newest first.
        IndexModel([("owner_id", ASCENDING), ("create_time", DESCENDING)], name="by_owner_time"),
    ),
    "documents": (
        IndexModel(
            [("owner_id", ASCENDING), ("project_id", ASCENDING), ("_id", DESCENDING)],
            name="by_project",
        ),
    ),
    "document_chunks": (
        IndexModel([("document_id", ASCENDING)], name="by_document"),
        # Lexical search without a text index: the project's chunks holding a query term.
        IndexModel(
            [("owner_id", ASCENDING), ("project_id", ASCENDING), ("terms", ASCENDING)],
            name="by_project_terms",
        ),
    ),
    "user_limits": (),  # keyed by _id (the user id)
}


@dataclass(frozen=True, slots=True)
class MongoDatabase:
    """The client and the collections of one store."""

    client: AsyncMongoClient[Document]
    users: AsyncCollection[Document]
    api_keys: AsyncCollection[Document]
    conversations: AsyncCollection[Document]
    messages: AsyncCollection[Document]
    analysis: AsyncCollection[Document]
    jobs: AsyncCollection[Document]
    providers: AsyncCollection[Document]
    usage: AsyncCollection[Document]
    documents: AsyncCollection[Document]
    document_chunks: AsyncCollection[Document]
    user_limits: AsyncCollection[Document]

    @classmethod
    async def open(cls, uri: str, database_name: str) -> MongoDatabase:
        """Connects and creates the indexes; `Unavailable` if MongoDB cannot be reached."""
        options: dict[str, Any] = {"tz_aware": True, "tzinfo": UTC, "appname": "routeur"}
        # A URI that sets its own timeout keeps it (keyword arguments would override it).
        if "serverselectiontimeoutms" not in urlsplit(uri).query.lower():
            options["serverSelectionTimeoutMS"] = SERVER_SELECTION_TIMEOUT_MS
        with mongo_errors():
            client: AsyncMongoClient[Document] = AsyncMongoClient(uri, **options)
        try:
            with mongo_errors():
                db = client[database_name]
                database = cls(client, **{name: db[name] for name in INDEXES})
                for name, indexes in INDEXES.items():
                    if indexes:
                        await db[name].create_indexes(list(indexes))
        except BaseException:
            await client.close()
            raise
        return database

    async def close(self) -> None:
        with mongo_errors():
            await self.client.close()
