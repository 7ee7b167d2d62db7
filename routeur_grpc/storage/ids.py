"""Record ids and timestamps.

Ids are ULID-like: 26 characters of lowercase Crockford base32 (`0-9a-z` without i, l, o, u)
encoding a 48-bit millisecond timestamp followed by 80 random bits. Sorting ids sorts records
by creation time, so "newest first" listings page on the id alone, and nothing about them
is guessable beyond their creation time. One `IdGenerator` makes them strictly increasing
even within one millisecond.

Anything that is not exactly such a string (another type, another length or alphabet, an
operator dict like `{"$ne": None}`) is a malformed id: it never reaches a query.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta

from routeur_grpc.errors import NotFound

ID_LENGTH = 26
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_ID_PATTERN = re.compile(r"[0-9a-hjkmnp-tv-z]{26}")
_RANDOM_BITS = 80
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)


def utc_now() -> datetime:
    """Now, in UTC, truncated to the millisecond: MongoDB keeps no more, and both stores
    must hand back the values they were given."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_millis(moment: datetime) -> int:
    """Milliseconds since the epoch, as SQLite stores timestamps."""
    return (moment - _EPOCH) // _MILLISECOND


def from_millis(millis: int) -> datetime:
    return _EPOCH + millis * _MILLISECOND


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and _ID_PATTERN.fullmatch(value) is not None


def check_id(kind: str, value: object) -> str:
    """`value` if it is a well-formed id; else NotFound, since it cannot name anything."""
    if not is_valid_id(value):
        raise NotFound(f"{kind} not found: {kind} ids are {ID_LENGTH} characters of 0-9 and a-z.")
    assert isinstance(value, str)
    return value


def not_found(kind: str, record_id: str) -> NotFound:
    """The one error for a missing record and for someone else's: same class, same text."""
    return NotFound(f"{kind} {record_id} not found.")


class IdGenerator:
    """Makes ids that increase strictly, even for several ids in one millisecond."""

    def __init__(self) -> None:
        self._last_millis = -1
        self._last_random = 0

    def new_id(self, at: datetime) -> str:
        millis = max(to_millis(at), self._last_millis)
        if millis == self._last_millis:
            # Same millisecond (or the clock stepped back): keep ordering by counting up.
            random_part = self._last_random + 1
            if random_part >> _RANDOM_BITS:  # 2**80 ids in one millisecond: borrow the next
                millis, random_part = millis + 1, 0
        else:
            random_part = secrets.randbits(_RANDOM_BITS)
        self._last_millis, self._last_random = millis, random_part
        value = (millis << _RANDOM_BITS) | random_part
        chars = []
        for _ in range(ID_LENGTH):
            chars.append(_ALPHABET[value & 31])
            value >>= 5
        return "".join(reversed(chars))
