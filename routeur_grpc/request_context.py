"""Per-request values that follow a call through the domain and into every log line."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

from routeur_grpc.domain.caller import ANONYMOUS, Identity

REQUEST_ID_METADATA_KEY = "x-request-id"

_request_id: ContextVar[str] = ContextVar("routeur_request_id", default="-")
# Set by the authentication interceptor at the start of every call.
_identity: ContextVar[Identity] = ContextVar("routeur_identity", default=ANONYMOUS)

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


def current_identity() -> Identity:
    """Who the request acts for, as authentication established it (`anonymous` outside a
    call, or when authentication is disabled)."""
    return _identity.get()


def set_identity(identity: Identity) -> None:
    _identity.set(identity)


def current_owner_id() -> str:
    """The owner of every record the request reads or writes: the authenticated user."""
    return _identity.get().user_id
