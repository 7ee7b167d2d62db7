"""Project documents in SQLite, searched with FTS5's BM25.

The FTS5 table holds each chunk's terms (`domain.text_search.terms`) under the chunk's
rowid; a search matches any query term and ranks with FTS5's `bm25()` (smaller is better,
so the score returned is its negation). Rows are filtered by owner and project in the same
statement, so another owner's chunks are never read into the result.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from routeur_grpc.domain.documents import Document, DocumentChunk, ScoredChunk
from routeur_grpc.domain.repositories import Page
from routeur_grpc.domain.text_search import terms
from routeur_grpc.storage import validation as check
from routeur_grpc.storage.document_rules import checked_project, checked_search
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

_COLUMNS = (
    "document_id, owner_id, project_id, title, filename, char_count, chunk_count, create_time"
)


def _document(row: sqlite3.Row) -> Document:
    return Document(
        document_id=row["document_id"],
        owner_id=row["owner_id"],
        project_id=row["project_id"],
        title=row["title"],
        filename=row["filename"],
        char_count=row["char_count"],
        chunk_count=row["chunk_count"],
        create_time=from_millis(row["create_time"]),
    )


class SqliteDocumentRepository:
    """`DocumentRepository` over `documents`, `document_chunks` and their FTS5 index."""

    def __init__(self, db: SqliteDatabase, ids: IdGenerator) -> None:
        self._db = db
        self._ids = ids

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
        async with self._db.write() as tx:
            await tx.execute(
                f"INSERT INTO documents ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (document.document_id, owner_id, project_id, title, filename, char_count,
                 len(chunks), to_millis(now)),
            )
            for chunk in chunks:
                text = check.text("chunk text", chunk.text)
                row = await tx.fetchone(
                    "INSERT INTO document_chunks (document_id, char_offset, text)"
                    " VALUES (?, ?, ?) RETURNING chunk_id",
                    (document.document_id, check.count("offset", chunk.offset), text),
                )
                assert row is not None
                await tx.execute(
                    "INSERT INTO document_chunks_fts (rowid, terms) VALUES (?, ?)",
                    (row["chunk_id"], " ".join(terms(text))),
                )
        return document

    async def get(self, owner_id: str, project_id: str, document_id: str) -> Document:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        document_id = check_id("document", document_id)
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM documents"
            " WHERE document_id = ? AND owner_id = ? AND project_id = ?",
            (document_id, owner_id, project_id),
        )
        if row is None:
            raise not_found("document", document_id)
        return _document(row)

    async def list(
        self, owner_id: str, project_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Document]:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        query = id_page(("documents.list", owner_id, project_id), page_size, page_token)
        after = "" if query.after is None else "AND document_id < ?"
        params = () if query.after is None else (query.after,)
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM documents WHERE owner_id = ? AND project_id = ? {after}"
            " ORDER BY document_id DESC LIMIT ?",
            (owner_id, project_id, *params, query.fetch),
        )
        return build_page(query, [_document(r) for r in rows], lambda d: d.document_id)

    async def delete(self, owner_id: str, project_id: str, document_id: str) -> None:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        document_id = check_id("document", document_id)
        async with self._db.write() as tx:
            owned = await tx.fetchone(
                "SELECT 1 FROM documents WHERE document_id = ? AND owner_id = ? AND project_id = ?",
                (document_id, owner_id, project_id),
            )
            if owned is None:
                raise not_found("document", document_id)
            await tx.execute(
                "DELETE FROM document_chunks_fts WHERE rowid IN"
                " (SELECT chunk_id FROM document_chunks WHERE document_id = ?)",
                (document_id,),
            )
            await tx.execute("DELETE FROM documents WHERE document_id = ?", (document_id,))

    async def existing(
        self, owner_id: str, project_id: str, document_ids: Sequence[str]
    ) -> set[str]:
        owner_id = check.owner_id(owner_id)
        project_id = checked_project(project_id)
        wanted = [i for i in dict.fromkeys(document_ids) if isinstance(i, str)]
        if not wanted:
            return set()
        marks = ", ".join("?" * len(wanted))
        rows = await self._db.fetchall(
            f"SELECT document_id FROM documents WHERE owner_id = ? AND project_id = ?"
            f" AND document_id IN ({marks})",
            (owner_id, project_id, *wanted),
        )
        return {row["document_id"] for row in rows}

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
        # Terms are letters and digits only; quoting them keeps FTS5 syntax out anyway.
        match = " OR ".join(f'"{term}"' for term in query)
        only = ""
        if document_ids:
            only = f"AND d.document_id IN ({', '.join('?' * len(document_ids))})"
        rows = await self._db.fetchall(
            "SELECT c.document_id, d.title, c.char_offset, c.text,"
            " bm25(document_chunks_fts) AS rank"
            " FROM document_chunks_fts"
            " JOIN document_chunks c ON c.chunk_id = document_chunks_fts.rowid"
            " JOIN documents d ON d.document_id = c.document_id"
            f" WHERE document_chunks_fts MATCH ? AND d.owner_id = ? AND d.project_id = ? {only}"
            " ORDER BY rank LIMIT ?",
            (match, owner_id, project_id, *document_ids, limit),
        )
        return [
            ScoredChunk(r["document_id"], r["title"], r["char_offset"], r["text"], -r["rank"])
            for r in rows
        ]
