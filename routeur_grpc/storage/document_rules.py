"""Checks both document stores apply the same way (one home for each rule)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from routeur_grpc.domain.documents import MAX_PROJECT_ID_CHARS
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.storage.ids import is_valid_id

_PROJECT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
#: Most chunks one search returns.
MAX_SEARCH_RESULTS = 100
#: Most terms one search matches on.
MAX_QUERY_TERMS = 64
#: Most documents a search may be restricted to.
MAX_SEARCH_DOCUMENTS = 1000


def checked_project(project_id: object) -> str:
    """A project id: letters, digits and `._:-`, starting with a letter or digit."""
    if not isinstance(project_id, str) or not project_id:
        raise InvalidArgument("`project_id` is empty: name the project.")
    if len(project_id) > MAX_PROJECT_ID_CHARS or not _PROJECT_ID.fullmatch(project_id):
        raise InvalidArgument(
            f"`project_id` must be 1 to {MAX_PROJECT_ID_CHARS} letters, digits or `._:-`, "
            "starting with a letter or digit (e.g. `proj-abc123`)."
        )
    return project_id


def checked_search(
    query: Sequence[str], document_ids: Sequence[str], limit: int
) -> tuple[list[str], list[str], int]:
    """The query's terms, the well-formed document ids (others match nothing), the limit."""
    if not isinstance(limit, int) or not 1 <= limit <= MAX_SEARCH_RESULTS:
        raise InvalidArgument(f"`limit` must be between 1 and {MAX_SEARCH_RESULTS}.")
    if len(document_ids) > MAX_SEARCH_DOCUMENTS:
        raise InvalidArgument(f"A search may name at most {MAX_SEARCH_DOCUMENTS} documents.")
    terms = [t for t in query if isinstance(t, str) and t][:MAX_QUERY_TERMS]
    ids = [i for i in dict.fromkeys(document_ids) if is_valid_id(i)]
    if document_ids and not ids:
        return [], [], limit  # restricted to documents none of which can exist
    return terms, ids, limit
