"""Per-user rate limits and budget, in MongoDB (`user_limits`, keyed by the user id)."""

from __future__ import annotations

from routeur_grpc.domain.records import UserLimits
from routeur_grpc.storage.ids import check_id, is_valid_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.user_limits_fields import limit_values


def _limits(doc: Document) -> UserLimits:
    return UserLimits(
        user_id=doc["_id"],
        requests_per_minute=doc["requests_per_minute"],
        tokens_per_minute=doc["tokens_per_minute"],
        budget=doc["budget"],
        update_time=doc["update_time"],
    )


class MongoUserLimitsRepository:
    """`UserLimitsRepository` over the `user_limits` collection."""

    def __init__(self, db: MongoDatabase) -> None:
        self._db = db

    async def get(self, user_id: str) -> UserLimits | None:
        if not is_valid_id(user_id):
            return None
        with mongo_errors():
            doc = await self._db.user_limits.find_one({"_id": user_id})
        return None if doc is None else _limits(doc)

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
        with mongo_errors():
            if await self._db.users.find_one({"_id": user_id}, {"_id": 1}) is None:
                raise not_found("user", user_id)
            doc = {
                "requests_per_minute": rpm,
                "tokens_per_minute": tpm,
                "budget": amount,
                "update_time": utc_now(),
            }
            await self._db.user_limits.replace_one({"_id": user_id}, doc, upsert=True)
        return _limits({"_id": user_id, **doc})

    async def delete(self, user_id: str) -> None:
        if not is_valid_id(user_id):
            return
        with mongo_errors():
            await self._db.user_limits.delete_one({"_id": user_id})
