"""Text analyses, in MongoDB (the `analysis` collection of the earlier service)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pymongo import DESCENDING

from routeur_grpc.domain.records import MAX_ANALYSIS_TEXT_BYTES, MAX_JSON_BYTES, Analysis
from routeur_grpc.domain.repositories import Page
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.ids import IdGenerator, check_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import Document, MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.paging import build_page, id_page


def _analysis(doc: Document) -> Analysis:
    return Analysis(
        analysis_id=doc["_id"],
        owner_id=doc["owner_id"],
        text=doc["text"],
        model=doc["model"],
        result=json.loads(doc["result_json"]),
        create_time=doc["create_time"],
    )


class MongoAnalysisRepository:
    """`AnalysisRepository` over the `analysis` collection."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
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
        with mongo_errors():
            await self._db.analysis.insert_one(
                {
                    "_id": analysis.analysis_id,
                    "owner_id": owner_id,
                    "text": text,
                    "model": model,
                    "result_json": result_json,
                    "create_time": now,
                }
            )
        return analysis

    async def get(self, owner_id: str, analysis_id: str) -> Analysis:
        owner_id = check.owner_id(owner_id)
        analysis_id = check_id("analysis", analysis_id)
        with mongo_errors():
            doc = await self._db.analysis.find_one({"_id": analysis_id, "owner_id": owner_id})
        if doc is None:
            raise not_found("analysis", analysis_id)
        return _analysis(doc)

    async def list(
        self, owner_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Analysis]:
        owner_id = check.owner_id(owner_id)
        query = id_page(("analyses.list", owner_id), page_size, page_token)
        filter_: Document = {"owner_id": owner_id}
        if query.after is not None:
            filter_["_id"] = {"$lt": query.after}
        with mongo_errors():
            cursor = self._db.analysis.find(filter_).sort("_id", DESCENDING).limit(query.fetch)
            docs = await cursor.to_list()
        return build_page(query, [_analysis(d) for d in docs], lambda a: a.analysis_id)

    async def delete(self, owner_id: str, analysis_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        analysis_id = check_id("analysis", analysis_id)
        with mongo_errors():
            result = await self._db.analysis.delete_one({"_id": analysis_id, "owner_id": owner_id})
        if result.deleted_count == 0:
            raise not_found("analysis", analysis_id)
