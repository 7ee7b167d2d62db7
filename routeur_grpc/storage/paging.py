"""Page sizes and opaque page tokens (AIP-158), shared by both stores.

Listings page by keyset: a token carries the sort key of the last item returned, and the
next page starts strictly after it, so concurrent inserts cause neither duplicates nor gaps
among the items that existed. A token also carries a digest of the listing it came from
(which method, which owner, which search text), so a token replayed on another listing is
refused instead of silently skipping records. Tokens are URL-safe base64 of a small JSON
object; clients must treat them as opaque.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from routeur_grpc.domain.repositories import Page
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.storage.ids import is_valid_id

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
_TOKEN_VERSION = 1
_MAX_TOKEN_CHARS = 512

K = TypeVar("K", str, int)
T = TypeVar("T")
Scope = tuple[str, ...]  # names a listing: the method, then its arguments (owner, text…)


@dataclass(frozen=True, slots=True)
class PageQuery(Generic[K]):
    """Where a page starts and how long it is, decoded from a request."""

    scope: Scope
    limit: int
    after: K | None  # the sort key of the previous page's last item; None on the first page

    @property
    def fetch(self) -> int:
        """Rows to read: one more than the page, to learn whether another page follows."""
        return self.limit + 1


def _scope_digest(scope: Scope) -> str:
    serialised = json.dumps(scope, ensure_ascii=True)  # unambiguous, whatever the parts hold
    return hashlib.sha256(serialised.encode()).hexdigest()[:16]


def page_limit(page_size: object) -> int:
    if not isinstance(page_size, int) or isinstance(page_size, bool):
        raise InvalidArgument("page_size must be an integer.")
    if page_size < 0:
        raise InvalidArgument("page_size must not be negative.")
    if page_size == 0:
        return DEFAULT_PAGE_SIZE
    return min(page_size, MAX_PAGE_SIZE)


def _bad_token() -> InvalidArgument:
    return InvalidArgument(
        "page_token is not valid for this listing: pass the next_page_token of the previous"
        " page of the same request, or an empty token for the first page."
    )


def _decode_key(token: str, scope: Scope) -> object:
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise _bad_token()
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii") + b"=" * (-len(token) % 4))
        payload = json.loads(raw)
    except (UnicodeEncodeError, binascii.Error, ValueError):
        raise _bad_token() from None
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _TOKEN_VERSION
        or payload.get("s") != _scope_digest(scope)
        or "k" not in payload
    ):
        raise _bad_token()
    return payload["k"]


def id_page(scope: Scope, page_size: object, page_token: object) -> PageQuery[str]:
    """A page of a listing sorted by record id."""
    limit = page_limit(page_size)
    if page_token == "":
        return PageQuery(scope, limit, None)
    key = _decode_key(page_token, scope)  # type: ignore[arg-type]
    # The key goes into a query: it must be an id and nothing else.
    if not is_valid_id(key):
        raise _bad_token()
    assert isinstance(key, str)
    return PageQuery(scope, limit, key)


def seq_page(scope: Scope, page_size: object, page_token: object) -> PageQuery[int]:
    """A page of a listing sorted by an integer sequence number."""
    limit = page_limit(page_size)
    if page_token == "":
        return PageQuery(scope, limit, None)
    key = _decode_key(page_token, scope)  # type: ignore[arg-type]
    if not isinstance(key, int) or isinstance(key, bool) or not 0 <= key < 2**62:
        raise _bad_token()
    return PageQuery(scope, limit, key)


def encode_token(scope: Scope, key: str | int) -> str:
    payload = json.dumps(
        {"v": _TOKEN_VERSION, "s": _scope_digest(scope), "k": key}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def build_page(query: PageQuery[K], items: Sequence[T], key_of: Callable[[T], K]) -> Page[T]:
    """The page from up to `query.fetch` items read in sort order."""
    if len(items) > query.limit:
        page = tuple(items[: query.limit])
        return Page(page, encode_token(query.scope, key_of(page[-1])))
    return Page(tuple(items))
