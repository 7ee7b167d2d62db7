"""Per-request values that follow a call through the domain and into every log line."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_METADATA_KEY = "x-request-id"

ANONYMOUS_OWNER = "anonymous"

_request_id: ContextVar[str] = ContextVar("routeur_request_id", default="-")
_owner_id: ContextVar[str] = ContextVar("routeur_owner_id", default=ANONYMOUS_OWNER)

# A caller-supplied id is echoed back and written to logs: keep it short and plain.
_ACCEPTABLE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def current_request_id() -> str:
    """The id of the request being handled, or `-` outside of one."""
    return _request_id.get()


def set_request_id(request_id: str) -> None:
    _request_id.set(request_id)


def accept_request_id(candidate: str | None) -> str:
    """The caller's id when it is acceptable, otherwise a new one."""
    if candidate and _ACCEPTABLE_REQUEST_ID.fullmatch(candidate):
        return candidate
    return uuid.uuid4().hex


def current_owner_id() -> str:
    """Who the request acts for: the owner of every record it reads or writes.

    Until authentication is built every caller acts as `anonymous`.
    """
    return _owner_id.get()
