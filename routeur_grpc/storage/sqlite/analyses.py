"""Text analyses, in SQLite."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from routeur_grpc.domain.records import MAX_ANALYSIS_TEXT_BYTES, MAX_JSON_BYTES, Analysis
from routeur_grpc.domain.repositories import Page
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import (
    IdGenerator,
    check_id,
    from_millis,
    not_found,
    to_millis,
    utc_now,
)
from routeur_grpc.storage.paging import build_page, id_page
from routeur_grpc.storage.sqlite.database import SqliteDatabase

_COLUMNS = "analysis_id, owner_id, text, model, result_json, create_time"


def _analysis(row: sqlite3.Row) -> Analysis:
    return Analysis(
        analysis_id=row["analysis_id"],
        owner_id=row["owner_id"],
        text=row["text"],
        model=row["model"],
        result=json.loads(row["result_json"]),
        create_time=from_millis(row["create_time"]),
    )


class SqliteAnalysisRepository:
    """`AnalysisRepository` over the `analyses` table."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

    async def create(
        self, owner_id: str, *, text: str, model: str, result: Mapping[str, Any]
    ) -> Analysis:
        owner_id = check.owner_id(owner_id)
        text = check.text("text", text, max_bytes=MAX_ANALYSIS_TEXT_BYTES)
        model = check.name("model", model, required=False)
        result_value, result_json = check.json_document("result", result, max_bytes=MAX_JSON_BYTES)
        now = utc_now()
        analysis = Analysis(self._ids.new_id(now), owner_id, text, model, result_value, now)
        async with self._db.write() as tx:
            await tx.execute(
                f"INSERT INTO analyses ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",
                (analysis.analysis_id, owner_id, text, model, result_json, to_millis(now)),
            )
        return analysis

    async def get(self, owner_id: str, analysis_id: str) -> Analysis:
        owner_id = check.owner_id(owner_id)
        analysis_id = check_id("analysis", analysis_id)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM analyses WHERE analysis_id = ? AND owner_id = ?",
            (analysis_id, owner_id),
        )
        if row is None:
            raise not_found("analysis", analysis_id)
        return _analysis(row)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Analysis]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("analyses.list", owner_id), page_size, page_token)
        after = "" if query.after is None else "AND analysis_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM analyses WHERE owner_id = ? {after}"
            " ORDER BY analysis_id DESC LIMIT ?",
            (owner_id, *params, query.fetch),
        )
        return build_page(query, [_analysis(r) for r in rows], lambda a: a.analysis_id)

    async def delete(self, owner_id: str, analysis_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        analysis_id = check_id("analysis", analysis_id)
        async with self._db.write() as tx:
            deleted = await tx.execute(
                "DELETE FROM analyses WHERE analysis_id = ? AND owner_id = ?",
                (analysis_id, owner_id),
            )
        if not deleted:
            raise not_found("analysis", analysis_id)
