"""Usage records and their sums, in MongoDB.

Each document carries its UTC `day` (days since 1970-01-01), so sums group on a stored,
indexed field rather than on date expressions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.errors import BulkWriteError

from routeur_grpc.domain.records import DailyUsage, UsageRecord, UsageTotal
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.fields import checked, day_from_number, day_number, usage_record
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors

_DUPLICATE_KEY = 11000  # MongoDB's error code

# $sum skips nulls and missing fields, so unknown emissions count as 0, and so does the
# audio of requests that had none (or were recorded before audio was).
_SUMS: Document = {
    "requests": {"$sum": 1},
    "prompt_tokens": {"$sum": "$prompt_tokens"},
    "completion_tokens": {"$sum": "$completion_tokens"},
    "cost": {"$sum": "$cost"},
    "emissions_g": {"$sum": "$emissions_g"},
    "audio_seconds": {"$sum": "$audio_seconds"},
}


def _total(owner_id: str, doc: Document) -> UsageTotal:
    return UsageTotal(
        owner_id=owner_id,
        requests=doc["requests"],
        prompt_tokens=doc["prompt_tokens"],
        completion_tokens=doc["completion_tokens"],
        cost=float(doc["cost"]),
        emissions_g=float(doc["emissions_g"]),
        audio_seconds=float(doc["audio_seconds"]),
    )


def _document(record: UsageRecord) -> Document:
    return {
        "_id": record.request_id,
        "owner_id": record.owner_id,
        "model": record.model,
        "provider": record.provider,
        "prompt_tokens": record.prompt_tokens,
        "completion_tokens": record.completion_tokens,
        "cost": record.cost,
        "currency": record.currency,
        "emissions_g": record.emissions_g,
        "latency_s": record.latency_s,
        "create_time": record.create_time,
        "day": day_number(record.create_time.date()),
        "audio_seconds": record.audio_seconds,
    }


class MongoUsageRepository:
    """`UsageRepository` over the `usage` collection."""

    def __init__(self, db: MongoDatabase) -> None:
        self._db = db

    async def record(
        self,
        *,
        request_id: str,
        owner_id: str,
        model: str,
        provider: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost: float,
        currency: str,
        emissions_g: float | None,
        latency_s: float,
        create_time: datetime | None = None,
        audio_seconds: float | None = None,
    ) -> UsageRecord:
        record = usage_record(
            request_id=request_id,
            owner_id=owner_id,
            model=model,
            provider=provider,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost,
            currency=currency,
            emissions_g=emissions_g,
            latency_s=latency_s,
            create_time=create_time,
            audio_seconds=audio_seconds,
        )
        conflict = f"The usage of request {record.request_id} was recorded already."
        with mongo_errors(conflict=conflict):
            await self._db.usage.insert_one(_document(record))
        return record

    async def _aggregate(self, match: Document, group_id: Any) -> list[Document]:
        pipeline = [{"$match": match}, {"$group": {"_id": group_id, **_SUMS}}]
        with mongo_errors():
            return await (await self._db.usage.aggregate(pipeline)).to_list()

    async def record_many(self, records: Sequence[UsageRecord]) -> None:
        documents = [_document(checked(record)) for record in records]
        if not documents:
            return
        with mongo_errors():
            try:
                await self._db.usage.insert_many(documents, ordered=False)
            except BulkWriteError as exc:
                # Unordered: every other record was written; only duplicates may be skipped.
                details = exc.details or {}
                errors = details.get("writeErrors", [])
                if details.get("writeConcernErrors") or any(
                    error.get("code") != _DUPLICATE_KEY for error in errors
                ):
                    raise

    async def daily(
        self, owner_id: str | None, *, first_day: date, last_day: date
    ) -> list[DailyUsage]:
        first, last = check.day_range(first_day, last_day)
        match: Document = {"day": {"$gte": day_number(first), "$lte": day_number(last)}}
        if owner_id is not None:
            match["owner_id"] = check.owner_id(owner_id)
        docs = await self._aggregate(match, {"owner_id": "$owner_id", "day": "$day"})
        rows = [
            DailyUsage(
                owner_id=doc["_id"]["owner_id"],
                day=day_from_number(doc["_id"]["day"]),
                requests=doc["requests"],
                prompt_tokens=doc["prompt_tokens"],
                completion_tokens=doc["completion_tokens"],
                cost=float(doc["cost"]),
                emissions_g=float(doc["emissions_g"]),
                audio_seconds=float(doc["audio_seconds"]),
            )
            for doc in docs
        ]
        # Sorted here: the groups are few (owners by days), and it spares the server a sort
        # on a compound _id.
        return sorted(rows, key=lambda row: (row.owner_id, row.day))

    async def total(self, owner_id: str, *, first_day: date, last_day: date) -> UsageTotal:
        owner_id = check.owner_id(owner_id)
        first, last = check.day_range(first_day, last_day)
        match = {"owner_id": owner_id, "day": {"$gte": day_number(first), "$lte": day_number(last)}}
        docs = await self._aggregate(match, None)
        if not docs:
            return UsageTotal(owner_id, 0, 0, 0, 0.0, 0.0)
        return _total(owner_id, docs[0])

    async def totals_by_owner(self, *, first_day: date, last_day: date) -> list[UsageTotal]:
        first, last = check.day_range(first_day, last_day)
        match = {"day": {"$gte": day_number(first), "$lte": day_number(last)}}
        docs = await self._aggregate(match, "$owner_id")
        return sorted((_total(doc["_id"], doc) for doc in docs), key=lambda t: t.owner_id)

    async def recent(self, owner_id: str, *, limit: int) -> list[UsageRecord]:
        owner_id = check.owner_id(owner_id)
        limit = check.recent_limit(limit)
        with mongo_errors():
            cursor = (
                self._db.usage.find({"owner_id": owner_id})
                .sort([("create_time", DESCENDING), ("_id", DESCENDING)])
                .limit(limit)
            )
            docs = await cursor.to_list()
        return [
            UsageRecord(
                request_id=doc["_id"],
                owner_id=doc["owner_id"],
                model=doc["model"],
                provider=doc["provider"],
                prompt_tokens=doc["prompt_tokens"],
                completion_tokens=doc["completion_tokens"],
                cost=float(doc["cost"]),
                currency=doc["currency"],
                emissions_g=doc["emissions_g"],
                latency_s=float(doc["latency_s"]),
                create_time=doc["create_time"],
                # Optional: records written before audio was recorded lack the field.
                audio_seconds=doc.get("audio_seconds"),
            )
            for doc in docs
        ]
