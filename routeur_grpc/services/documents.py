"""Project documents: adding, listing and deleting them, and retrieving their chunks.

A document is a text, given as such or as a UTF-8 text file, added to one of the caller's
projects; it is cut into chunks (`document_chunks`) that the store indexes. Retrieval
(`retrieve`, used by the agents) finds the chunks most relevant to a question within the
caller's project, restricted to `sources` when some are named. Every record belongs to
its owner: another owner's project or document looks missing.
"""

from __future__ import annotations

from collections.abc import Sequence

from routeur_grpc.domain.documents import MAX_DOCUMENT_CHARS, Document, ScoredChunk
from routeur_grpc.domain.repositories import DocumentRepository, Page
from routeur_grpc.domain.text_search import query_terms
from routeur_grpc.errors import InvalidArgument, NotFound
from routeur_grpc.services.document_chunks import chunk_text

#: Most bytes of an uploaded file.
MAX_FILE_BYTES = 8 * 1024 * 1024
#: File name endings read as text.
TEXT_FILE_SUFFIXES = (".txt", ".md", ".markdown", ".csv", ".json", ".html", ".htm", ".xml",
                      ".rst", ".log", ".yaml", ".yml", ".tsv")
MAX_TITLE_CHARS = 200
#: How many missing document ids a NotFound names.
MAX_IDS_IN_ERRORS = 5


class DocumentService:
    """The caller's project documents."""

    def __init__(self, documents: DocumentRepository) -> None:
        self._documents = documents

    async def add(
        self,
        owner_id: str,
        project_id: str,
        *,
        title: str = "",
        text: str = "",
        file_content: bytes = b"",
        filename: str = "",
    ) -> Document:
        """InvalidArgument when neither or both of `text` and `file_content` are given, when
        the file is not UTF-8 text, or when nothing in it can be searched."""
        if bool(text) == bool(file_content):
            raise InvalidArgument(
                "Give the document as `text` or as `file_content` (with `filename`), not "
                "both and not neither."
            )
        if file_content:
            text = _file_text(file_content, filename)
        if len(text) > MAX_DOCUMENT_CHARS:
            raise InvalidArgument(
                f"The document is {len(text)} characters long; the limit is {MAX_DOCUMENT_CHARS}."
            )
        chunks = chunk_text(text)
        if not chunks:
            raise InvalidArgument("The document is blank: there is nothing to search in it.")
        title = (title or filename or _first_line(text)).strip()[:MAX_TITLE_CHARS]
        return await self._documents.create(
            owner_id,
            project_id=project_id,
            title=title,
            filename=filename,
            char_count=len(text),
            chunks=chunks,
        )

    async def get(self, owner_id: str, project_id: str, document_id: str) -> Document:
        return await self._documents.get(owner_id, project_id, document_id)

    async def list(
        self, owner_id: str, project_id: str, *, page_size: int = 0, page_token: str = ""
    ) -> Page[Document]:
        return await self._documents.list(
            owner_id, project_id, page_size=page_size, page_token=page_token
        )

    async def delete(self, owner_id: str, project_id: str, document_id: str) -> None:
        await self._documents.delete(owner_id, project_id, document_id)

    async def retrieve(
        self,
        owner_id: str,
        project_id: str,
        query: str,
        *,
        sources: Sequence[str] = (),
        limit: int = 5,
    ) -> list[ScoredChunk]:
        """The chunks most relevant to `query`, best first.

        NotFound when the project has no document of the caller's, or when `sources` names
        a document that is not one of them (its ids are listed, a few of them).
        """
        if sources:
            found = await self._documents.existing(owner_id, project_id, sources)
            missing = [s for s in dict.fromkeys(sources) if s not in found]
            if missing:
                shown = ", ".join(missing[:MAX_IDS_IN_ERRORS])
                more = ", …" if len(missing) > MAX_IDS_IN_ERRORS else ""
                raise NotFound(
                    f"`sources` names documents that are not in project {project_id!r}: "
                    f"{shown}{more}. List them with ListDocuments."
                )
        elif not (await self._documents.list(owner_id, project_id, page_size=1)).items:
            raise NotFound(
                f"Project {project_id!r} has no documents: add some with CreateDocument, "
                "or leave `project_id` empty."
            )
        return await self._documents.search(
            owner_id, project_id, query_terms(query), document_ids=sources, limit=limit
        )


def _file_text(content: bytes, filename: str) -> str:
    if len(content) > MAX_FILE_BYTES:
        raise InvalidArgument(
            f"The file is {len(content)} bytes; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MiB."
        )
    if filename and not filename.lower().endswith(TEXT_FILE_SUFFIXES):
        raise InvalidArgument(
            f"{filename!r} is not a text file this service reads; send the text of the "
            f"document, or a file ending in {', '.join(TEXT_FILE_SUFFIXES)}."
        )
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument(
            "The file is not UTF-8 text: convert it to UTF-8, or send its text as `text`."
        ) from None


def _first_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.strip()), "")
