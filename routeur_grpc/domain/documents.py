"""Project documents: what a caller adds to a project, and the chunks retrieval returns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

#: Most characters of one document's text.
MAX_DOCUMENT_CHARS = 2_000_000
#: Most characters of a project id (the caller's own identifier, e.g. `proj-abc123`).
MAX_PROJECT_ID_CHARS = 128


@dataclass(frozen=True, slots=True)
class Document:
    """A document of a project (its text lives in its chunks)."""

    document_id: str
    owner_id: str
    project_id: str
    title: str
    filename: str
    char_count: int
    chunk_count: int
    create_time: datetime


@dataclass(frozen=True, slots=True)
class DocumentChunk:
    """A piece of a document's text, starting at `offset` (in characters)."""

    offset: int
    text: str


@dataclass(frozen=True, slots=True)
class ScoredChunk:
    """A chunk found for a query; higher `score` is more relevant (within one search)."""

    document_id: str
    title: str
    offset: int
    text: str
    score: float
