"""Paging over lists held in memory (catalogs): opaque tokens over an offset."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from routeur_grpc.errors import InvalidArgument

T = TypeVar("T")

MAX_PAGE_SIZE = 1000


def page_of(
    items: Sequence[T], page_size: int, page_token: str, default_size: int = 100
) -> tuple[Sequence[T], str]:
    """The page asked for and the token of the next one ('' on the last page)."""
    if page_size < 0:
        raise InvalidArgument(f"`page_size` is {page_size}; it must be 0 (default) or more.")
    size = min(page_size or default_size, MAX_PAGE_SIZE)
    start = _offset(page_token)
    end = start + size
    next_token = _token(end) if end < len(items) else ""
    return items[start:end], next_token


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode()


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "o" and value.isdigit():
            return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidArgument(
        "`page_token` is not one this list returned: pass `next_page_token` unchanged, "
        "or leave it empty for the first page."
    )
