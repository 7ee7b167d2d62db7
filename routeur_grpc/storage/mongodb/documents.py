"""Project documents in MongoDB, searched with a text index where the server has one.

Each chunk keeps its terms (`domain.text_search.terms`, repeats included). At open, the
repository asks for a text index on them (`default_language: none`: the terms are already
normalised). MongoDB answers searches with `$text` and its `textScore`. A server without
text indexes (SecantusDB refuses to create one) gets lexical scoring here instead: the
chunks of the project holding a query term are read through the `(owner, project, terms)`
index and ranked with BM25 in Python (`domain.text_search.bm25_scores`), at most
`MAX_FALLBACK_CANDIDATES` of them. Either way, only the owner's project is ever read.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from pymongo import DESCENDING, TEXT, IndexModel
from pymongo.errors import OperationFailure

from routeur_grpc.domain.documents import Document, DocumentChunk, ScoredChunk
from routeur_grpc.domain.repositories import Page
from routeur_grpc.domain.text_search import bm25_scores, terms
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.document_rules import checked_project, checked_search
from routeur_grpc.storage.ids import IdGenerator, check_id, not_found, utc_now
from routeur_grpc.storage.mongodb.database import MongoDatabase
from routeur_grpc.storage.mongodb.errors import mongo_errors
from routeur_grpc.storage.paging import build_page, id_page

log = logging.getLogger(__name__)

#: Most chunks read for one search when the server has no text index.
MAX_FALLBACK_CANDIDATES = 5000
TEXT_INDEX = IndexModel([("terms", TEXT)], name="terms_text", default_language="none")


def _document(doc: dict[str, Any]) -> Document:
    return Document(
        document_id=doc["_id"],
        owner_id=doc["owner_id"],
        project_id=doc["project_id"],
        title=doc["title"],
        filename=doc["filename"],
        char_count=doc["char_count"],
        chunk_count=doc["chunk_count"],
        create_time=doc["create_time"],
    )


class MongoDocumentRepository:
    """`DocumentRepository` over the `documents` and `document_chunks` collections."""

    def __init__(self, db: MongoDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids
        self.text_index: bool | None = None  # known after `prepare()`

    async def prepare(self) -> None:
        """Creates the text index if the server can; otherwise searches score in Python."""
        try:
            await self._db.document_chunks.create_indexes([TEXT_INDEX])
            self.text_index = True
        except OperationFailure:
            self.text_index = False
            log.info("no MongoDB text index: document search scores chunks in Python")

    async def create(
        self,
        owner_id: str,
        *,
        project_id: str,
        title: str,
        filename: str,
        char_count: int,
        chunks: Sequence[DocumentChunk],
    ) -> Document:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        title = check.name("title", title, required=False)
        filename = check.name("filename", filename, required=False)
        char_count = check.count("char_count", char_count)
        now = utc_now()
        document = Document(
            self._ids.new_id(now), owner_id, project_id, title, filename, char_count,
            len(chunks), now,
        )
        rows = []
        term_total = 0
        for seq, chunk in enumerate(chunks):
            chunk_terms = terms(check.text("chunk text", chunk.text))
            term_total += len(chunk_terms)
            rows.append(
                {
                    "_id": f"{document.document_id}:{seq}",
                    "document_id": document.document_id,
                    "owner_id": owner_id,
                    "project_id": project_id,
                    "title": title,
                    "offset": check.count("offset", chunk.offset),
                    "text": chunk.text,
                    "terms": chunk_terms,
                }
            )
        with mongo_errors():
            # Chunks first: a document is listed only once it can be searched.
            if rows:
                await self._db.document_chunks.insert_many(rows)
            await self._db.documents.insert_one(
                {
                    "_id": document.document_id,
                    "owner_id": owner_id,
                    "project_id": project_id,
                    "title": title,
                    "filename": filename,
                    "char_count": char_count,
                    "chunk_count": len(chunks),
                    "term_count": term_total,
                    "create_time": now,
                }
            )
        return document

    async def get(self, owner_id: str, project_id: str, document_id: str) -> Document:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        document_id = check_id("document", document_id)
        with mongo_errors():
            doc = await self._db.documents.find_one(
                {"_id": document_id, "owner_id": owner_id, "project_id": project_id}
            )
        if doc is None:
            raise not_found("document", document_id)
        return _document(doc)

    async def list(
        self, owner_id: str, project_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Document]:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        query = id_page(("documents.list", owner_id, project_id), page_size, page_token)
        selector: dict[str, Any] = {"owner_id": owner_id, "project_id": project_id}
        if query.after is not None:
            selector["_id"] = {"$lt": query.after}
        with mongo_errors():
            docs = await (
                self._db.documents.find(selector).sort("_id", DESCENDING).limit(query.fetch)
            ).to_list()
        return build_page(query, [_document(d) for d in docs], lambda d: d.document_id)

    async def delete(self, owner_id: str, project_id: str, document_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        document_id = check_id("document", document_id)
        with mongo_errors():
            deleted = await self._db.documents.delete_one(
                {"_id": document_id, "owner_id": owner_id, "project_id": project_id}
            )
            if not deleted.deleted_count:
                raise not_found("document", document_id)
            await self._db.document_chunks.delete_many({"document_id": document_id})

    async def existing(
        self, owner_id: str, project_id: str, document_ids: Sequence[str]
    ) -> set[str]:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        wanted = [i for i in dict.fromkeys(document_ids) if isinstance(i, str)]
        if not wanted:
            return set()
        with mongo_errors():
            docs = await self._db.documents.find(
                {"_id": {"$in": wanted}, "owner_id": owner_id, "project_id": project_id},
                {"_id": 1},
            ).to_list()
        return {d["_id"] for d in docs}

    async def search(
        self,
        owner_id: str,
        project_id: str,
        query: Sequence[str],
        *,
        document_ids: Sequence[str] = (),
        limit: int = 5,
    ) -> list[ScoredChunk]:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        query, document_ids, limit = checked_search(query, document_ids, limit)
        if not query:
            return []
        selector: dict[str, Any] = {"owner_id": owner_id, "project_id": project_id}
        if document_ids:
            selector["document_id"] = {"$in": document_ids}
        if self.text_index:
            return await self._text_search(selector, query, limit)
        return await self._scored_here(selector, query, limit)

    async def _text_search(
        self, selector: dict[str, Any], query: list[str], limit: int
    ) -> list[ScoredChunk]:
        selector = {**selector, "$text": {"$search": " ".join(query)}}
        with mongo_errors():
            docs = await (
                self._db.document_chunks.find(
                    selector, {"score": {"$meta": "textScore"}, "terms": 0}
                )
                .sort([("score", {"$meta": "textScore"})])
                .limit(limit)
            ).to_list()
        return [_scored(d, d["score"]) for d in docs]

    async def _scored_here(
        self, selector: dict[str, Any], query: list[str], limit: int
    ) -> list[ScoredChunk]:
        scope = {k: selector[k] for k in ("owner_id", "project_id")}
        if "document_id" in selector:
            scope["_id"] = selector["document_id"]
        with mongo_errors():
            stats = await self._db.documents.find(
                scope, {"chunk_count": 1, "term_count": 1}
            ).to_list()
            candidates = await (
                self._db.document_chunks.find({**selector, "terms": {"$in": query}})
                .limit(MAX_FALLBACK_CANDIDATES)
            ).to_list()
        chunk_total = sum(s["chunk_count"] for s in stats)
        term_total = sum(s.get("term_count", 0) for s in stats)
        scores = bm25_scores(
            query,
            [c["terms"] for c in candidates],
            corpus_size=chunk_total,
            average_length=term_total / chunk_total if chunk_total else 0.0,
        )
        ranked = sorted(
            zip(scores, candidates, strict=True), key=lambda pair: (-pair[0], pair[1]["_id"])
        )
        return [_scored(doc, score) for score, doc in ranked[:limit] if score > 0]


def _scored(doc: dict[str, Any], score: float) -> ScoredChunk:
    return ScoredChunk(doc["document_id"], doc["title"], doc["offset"], doc["text"], score)
