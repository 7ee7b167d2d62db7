"""Per-user rate limits and budget, in SQLite."""

from __future__ import annotations

import sqlite3

from routeur_grpc.domain.records import UserLimits
from routeur_grpc.storage.ids import (
    check_id,
    from_millis,
    is_valid_id,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.sqlite.database import SqliteDatabase
from routeur_grpc.storage.user_limits_fields import limit_values

_COLUMNS = "user_id, requests_per_minute, tokens_per_minute, budget, update_time"


def _limits(row: sqlite3.Row) -> UserLimits:
    return UserLimits(
        user_id=row["user_id"],
        requests_per_minute=row["requests_per_minute"],
        tokens_per_minute=row["tokens_per_minute"],
        budget=row["budget"],
        update_time=from_millis(row["update_time"]),
    )


class SqliteUserLimitsRepository:
    """`UserLimitsRepository` over the `user_limits` table."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def get(self, user_id: str) -> UserLimits | None:
        if not is_valid_id(user_id):
            return None
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM user_limits WHERE user_id = ?", (user_id,)
        )
        return None if row is None else _limits(row)

    async def set(
        self,
        user_id: str,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        budget: float | None,
    ) -> UserLimits:
        user_id = check_id("user", user_id)
        rpm, tpm, amount = limit_values(requests_per_minute, tokens_per_minute, budget)
        now = utc_now()
        async with self._db.write() as tx:
            if not await tx.fetchone("SELECT 1 FROM users WHERE user_id = ?", (user_id,)):
                raise not_found("user", user_id)
            await tx.execute(
                f"INSERT INTO user_limits ({_COLUMNS}) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (user_id) DO UPDATE SET"
                " requests_per_minute = excluded.requests_per_minute,"
                " tokens_per_minute = excluded.tokens_per_minute, budget = excluded.budget,"
                " update_time = excluded.update_time",
                (user_id, rpm, tpm, amount, to_millis(now)),
            )
        return UserLimits(user_id, rpm, tpm, amount, now)

    async def delete(self, user_id: str) -> None:
        if not is_valid_id(user_id):
            return
        async with self._db.write() as tx:
            await tx.execute("DELETE FROM user_limits WHERE user_id = ?", (user_id,))
