"""The embedded store: one SQLite file, reached through aiosqlite."""

from __future__ import annotations

from pathlib import Path

from routeur_grpc.storage.ids import IdGenerator
from routeur_grpc.storage.sqlite.analyses import SqliteAnalysisRepository
from routeur_grpc.storage.sqlite.conversations import SqliteConversationRepository
from routeur_grpc.storage.sqlite.database import SqliteDatabase
from routeur_grpc.storage.sqlite.documents import SqliteDocumentRepository
from routeur_grpc.storage.sqlite.jobs import SqliteJobRepository
from routeur_grpc.storage.sqlite.providers import SqliteProviderRepository
from routeur_grpc.storage.sqlite.usage import SqliteUsageRepository
from routeur_grpc.storage.sqlite.user_limits import SqliteUserLimitsRepository
from routeur_grpc.storage.sqlite.users import SqliteApiKeyRepository, SqliteUserRepository

DATABASE_FILE_NAME = "routeur.sqlite3"


class SqliteStore:
    """Every repository over one SQLite file (`Store`)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        ids = IdGenerator()
        self.users = SqliteUserRepository(db, ids)
        self.api_keys = SqliteApiKeyRepository(db, ids)
        self.conversations = SqliteConversationRepository(db, ids)
        self.analyses = SqliteAnalysisRepository(db, ids)
        self.jobs = SqliteJobRepository(db, ids)
        self.providers = SqliteProviderRepository(db, ids)
        self.usage = SqliteUsageRepository(db)
        self.documents = SqliteDocumentRepository(db, ids)
        self.user_limits = SqliteUserLimitsRepository(db)

    async def close(self) -> None:
        await self._db.close()


async def open_sqlite_store(data_dir: Path) -> SqliteStore:
    """Opens `data_dir / routeur.sqlite3`, creating the directory, the file and the schema as
    needed."""
    return SqliteStore(await SqliteDatabase.open(Path(data_dir) / DATABASE_FILE_NAME))
