"""The MongoDB store, through PyMongo's `AsyncMongoClient`.

PyMongo's native asyncio API is the successor of motor (deprecated since 2026-05-14): no
thread pool, one driver for sync and async code.
"""

from __future__ import annotations

from routeur_grpc.storage.ids import IdGenerator
from routeur_grpc.storage.mongodb.analyses import MongoAnalysisRepository
from routeur_grpc.storage.mongodb.conversations import MongoConversationRepository
from routeur_grpc.storage.mongodb.database import MongoDatabase
from routeur_grpc.storage.mongodb.documents import MongoDocumentRepository
from routeur_grpc.storage.mongodb.jobs import MongoJobRepository
from routeur_grpc.storage.mongodb.providers import MongoProviderRepository
from routeur_grpc.storage.mongodb.usage import MongoUsageRepository
from routeur_grpc.storage.mongodb.user_limits import MongoUserLimitsRepository
from routeur_grpc.storage.mongodb.users import MongoApiKeyRepository, MongoUserRepository


class MongoStore:
    """Every repository over one MongoDB database (`Store`)."""

    def __init__(self, db: MongoDatabase) -> None:
        self._db = db
        ids = IdGenerator()
        self.users = MongoUserRepository(db, ids)
        self.api_keys = MongoApiKeyRepository(db, ids)
        self.conversations = MongoConversationRepository(db, ids)
        self.analyses = MongoAnalysisRepository(db, ids)
        self.jobs = MongoJobRepository(db, ids)
        self.providers = MongoProviderRepository(db, ids)
        self.usage = MongoUsageRepository(db)
        self.documents = MongoDocumentRepository(db, ids)
        self.user_limits = MongoUserLimitsRepository(db)

    async def close(self) -> None:
        await self._db.close()


async def open_mongo_store(uri: str, database: str) -> MongoStore:
    """Connects to `uri`, uses `database`, and creates the indexes."""
    store = MongoStore(await MongoDatabase.open(uri, database))
    try:
        await store.documents.prepare()
    except BaseException:
        await store.close()
        raise
    return store
