"""Who is calling, for which request, and until when."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Caller:
    """The context a domain call runs in, passed down explicitly by the servicer."""

    owner_id: str
    request_id: str
    deadline: float | None = None  # on the time.monotonic() clock; None for no deadline
