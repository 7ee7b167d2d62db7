"""Checks on every value before it reaches a query, shared by both stores.

Each function returns the value in the form the store keeps, or raises `InvalidArgument`
with a message naming the field and the rule. Type checks come first: a value that is not of
the expected type (say an operator dict where a string belongs) is refused here and never
placed in a SQL statement or a MongoDB filter.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from routeur_grpc.domain.records import MAX_NAME_CHARS, MAX_SECRET_CHARS
from routeur_grpc.errors import InvalidArgument

MAX_OWNER_ID_CHARS = 128
MAX_REQUEST_ID_CHARS = 128
# Control characters have no business in names and identifiers; tabs and newlines are fine
# in free text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]+")


def _human_size(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


def text(
    field: str,
    value: object,
    *,
    max_bytes: int | None = None,
    max_chars: int | None = None,
    required: bool = False,
) -> str:
    """Free text: any characters but NUL, within the size limit."""
    if not isinstance(value, str):
        raise InvalidArgument(f"{field} must be a string.")
    if required and not value.strip():
        raise InvalidArgument(f"{field} must not be empty.")
    if max_chars is not None and len(value) > max_chars:
        raise InvalidArgument(f"{field} is too long: at most {max_chars} characters.")
    try:
        size = len(value.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgument(f"{field} is not valid Unicode text.") from None
    if max_bytes is not None and size > max_bytes:
        raise InvalidArgument(
            f"{field} is too large: {size} bytes of UTF-8, at most {_human_size(max_bytes)}."
        )
    if "\x00" in value:
        raise InvalidArgument(f"{field} must not contain NUL characters.")
    return value


def name(
    field: str, value: object, *, required: bool = True, max_chars: int = MAX_NAME_CHARS
) -> str:
    """A short single-line label: a username, a model name, a provider name."""
    checked = text(field, value, max_chars=max_chars, required=required)
    if _CONTROL.search(checked):
        raise InvalidArgument(f"{field} must not contain control characters.")
    return checked


def owner_id(value: object) -> str:
    return name("owner_id", value, max_chars=MAX_OWNER_ID_CHARS)


def worker_id(value: object) -> str:
    return name("worker_id", value)


def request_id(value: object) -> str:
    checked = name("request_id", value, max_chars=MAX_REQUEST_ID_CHARS)
    if not _REQUEST_ID.fullmatch(checked):
        raise InvalidArgument("request_id may only contain letters, digits and . _ : -")
    return checked


def secret_hash(value: object) -> str:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise InvalidArgument("secret_hash must be a sha256 digest in lowercase hex.")
    return value


def password_hash(value: object) -> str:
    """An encoded password hash (argon2's PHC string), or "" for no password."""
    if not isinstance(value, str) or len(value) > MAX_SECRET_CHARS:
        raise InvalidArgument(
            f"password_hash must be a string of at most {MAX_SECRET_CHARS} characters."
        )
    return value


def optional_timestamp(field: str, value: object) -> datetime | None:
    return None if value is None else timestamp(field, value)


def choice(field: str, value: object, allowed: frozenset[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise InvalidArgument(f"{field} must be one of: {', '.join(sorted(allowed))}.")
    return value


def flag(field: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{field} must be true or false.")
    return value


def count(field: str, value: object, *, maximum: int = 2**62) -> int:
    """A non-negative integer."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgument(f"{field} must be an integer.")
    if not 0 <= value <= maximum:
        raise InvalidArgument(f"{field} must be between 0 and {maximum}.")
    return value


MAX_RECENT_MESSAGES = 1000


def recent_limit(value: object) -> int:
    """How many recent messages to read: 1 to MAX_RECENT_MESSAGES."""
    limit = count("limit", value, maximum=MAX_RECENT_MESSAGES)
    if limit < 1:
        raise InvalidArgument("`limit` must be at least 1.")
    return limit


def amount(field: str, value: object) -> float:
    """A finite, non-negative number."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgument(f"{field} must be a number.")
    result = float(value)
    if not math.isfinite(result) or result < 0:
        raise InvalidArgument(f"{field} must be a finite number, not negative.")
    return result


def optional_amount(field: str, value: object) -> float | None:
    return None if value is None else amount(field, value)


def lease_seconds(value: object) -> float:
    seconds = amount("lease_s", value)
    if not 0 < seconds <= 24 * 3600:
        raise InvalidArgument("lease_s must be more than 0 and at most a day.")
    return seconds


def timestamp(field: str, value: object) -> datetime:
    """A timezone-aware instant, in UTC, truncated to the millisecond as both stores keep."""
    if not isinstance(value, datetime):
        raise InvalidArgument(f"{field} must be a datetime.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{field} must be timezone-aware.")
    moment = value.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def day_range(first_day: object, last_day: object) -> tuple[date, date]:
    for field, value in (("first_day", first_day), ("last_day", last_day)):
        # A datetime is a date too; refuse it rather than guess its time zone.
        if not isinstance(value, date) or isinstance(value, datetime):
            raise InvalidArgument(f"{field} must be a date.")
    assert isinstance(first_day, date) and isinstance(last_day, date)
    if first_day > last_day:
        raise InvalidArgument("first_day must not be after last_day.")
    return first_day, last_day


def json_document(field: str, value: object, *, max_bytes: int) -> tuple[dict[str, Any], str]:
    """A JSON object: returns it as it will read back (keys as strings, tuples as lists)
    and its serialised text, which is what both stores keep."""
    if not isinstance(value, Mapping):
        raise InvalidArgument(f"{field} must be a JSON object.")
    try:
        serialised = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        size = len(serialised.encode("utf-8"))
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError):
        raise InvalidArgument(
            f"{field} must hold only JSON values (objects with string keys, arrays, strings,"
            " finite numbers, booleans, null)."
        ) from None
    if size > max_bytes:
        raise InvalidArgument(
            f"{field} is too large: {size} bytes as JSON, at most {_human_size(max_bytes)}."
        )
    return json.loads(serialised), serialised


def search_text(value: object, *, max_chars: int) -> str:
    checked = text("text", value, max_chars=max_chars, required=True)
    return checked
