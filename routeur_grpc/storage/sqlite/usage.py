"""Usage records and their sums, in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import date, datetime

from routeur_grpc.domain.records import DailyUsage, UsageRecord, UsageTotal
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.fields import checked, day_from_number, day_number, usage_record
from routeur_grpc.storage.ids import from_millis, to_millis
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_COLUMNS = (
    "request_id, owner_id, model, provider, prompt_tokens, completion_tokens, cost, currency,"
    " emissions_g, latency_s, create_time, day, audio_seconds"
)
_VALUES = f"INTO usage ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
_INSERT = f"INSERT {_VALUES}"
_INSERT_NEW = f"INSERT OR IGNORE {_VALUES}"  # a batch skips a request id recorded already
# Over no rows SUM() is NULL: COALESCE keeps integer sums exact, TOTAL() gives 0.0 for
# floats (and skips unknown emissions and the audio of requests that had none).
_SUMS = (
    "COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,"
    " COALESCE(SUM(completion_tokens), 0) AS completion_tokens, TOTAL(cost) AS cost,"
    " TOTAL(emissions_g) AS emissions_g, TOTAL(audio_seconds) AS audio_seconds"
)


def _row(record: UsageRecord) -> tuple[object, ...]:
    return (
        record.request_id,
        record.owner_id,
        record.model,
        record.provider,
        record.prompt_tokens,
        record.completion_tokens,
        record.cost,
        record.currency,
        record.emissions_g,
        record.latency_s,
        to_millis(record.create_time),
        day_number(record.create_time.date()),
        record.audio_seconds,
    )


class SqliteUsageRepository:
    """`UsageRepository` over the `usage` table."""

    def __init__(self, db: SqliteDatabase) -> None:
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
        async with self._db.write(conflict=conflict) as tx:
            await tx.execute(_INSERT, _row(record))
        return record

    async def record_many(self, records: Sequence[UsageRecord]) -> None:
        rows = [_row(checked(record)) for record in records]
        async with self._db.write() as tx:
            await tx.execute_many(_INSERT_NEW, rows)

    async def daily(
        self, owner_id: str | None, *, first_day: date, last_day: date
    ) -> list[DailyUsage]:
        first, last = check.day_range(first_day, last_day)
        params: tuple[object, ...] = (day_number(first), day_number(last))
        owner_filter = ""
        if owner_id is not None:
            owner_filter = "AND owner_id = ?"
            params = (*params, check.owner_id(owner_id))
        rows = await self._db.fetchall(
            f"SELECT owner_id, day, {_SUMS} FROM usage WHERE day BETWEEN ? AND ? {owner_filter}"
            " GROUP BY owner_id, day ORDER BY owner_id, day",
            params,
        )
        return [
            DailyUsage(
                owner_id=row["owner_id"],
                day=day_from_number(row["day"]),
                requests=row["requests"],
                prompt_tokens=row["prompt_tokens"],
                completion_tokens=row["completion_tokens"],
                cost=row["cost"],
                emissions_g=row["emissions_g"],
                audio_seconds=row["audio_seconds"],
            )
            for row in rows
        ]

    async def total(self, owner_id: str, *, first_day: date, last_day: date) -> UsageTotal:
        owner_id = check.owner_id(owner_id)
        first, last = check.day_range(first_day, last_day)
        row = await self._db.fetchone(
            f"SELECT {_SUMS} FROM usage WHERE owner_id = ? AND day BETWEEN ? AND ?",
            (owner_id, day_number(first), day_number(last)),
        )
        assert row is not None  # an aggregate without GROUP BY always returns one row
        return _total(owner_id, row)

    async def totals_by_owner(self, *, first_day: date, last_day: date) -> list[UsageTotal]:
        first, last = check.day_range(first_day, last_day)
        rows = await self._db.fetchall(
            f"SELECT owner_id, {_SUMS} FROM usage WHERE day BETWEEN ? AND ?"
            " GROUP BY owner_id ORDER BY owner_id",
            (day_number(first), day_number(last)),
        )
        return [_total(row["owner_id"], row) for row in rows]

    async def recent(self, owner_id: str, *, limit: int) -> list[UsageRecord]:
        owner_id = check.owner_id(owner_id)
        limit = check.recent_limit(limit)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM usage WHERE owner_id = ?"
            " ORDER BY create_time DESC, request_id DESC LIMIT ?",
            (owner_id, limit),
        )
        return [
            UsageRecord(
                request_id=row["request_id"],
                owner_id=row["owner_id"],
                model=row["model"],
                provider=row["provider"],
                prompt_tokens=row["prompt_tokens"],
                completion_tokens=row["completion_tokens"],
                cost=row["cost"],
                currency=row["currency"],
                emissions_g=row["emissions_g"],
                latency_s=row["latency_s"],
                create_time=from_millis(row["create_time"]),
                audio_seconds=row["audio_seconds"],
            )
            for row in rows
        ]


def _total(owner_id: str, row: sqlite3.Row) -> UsageTotal:
    return UsageTotal(
        owner_id=owner_id,
        requests=row["requests"],
        prompt_tokens=row["prompt_tokens"],
        completion_tokens=row["completion_tokens"],
        cost=row["cost"],
        emissions_g=row["emissions_g"],
        audio_seconds=row["audio_seconds"],
    )
