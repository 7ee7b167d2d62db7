"""Reading Server-Sent Events as they arrive, with the time each network read came in."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Event:
    data: Any
    arrived_at: float  # time.monotonic() of the read that completed the event
    read_index: int  # which network read completed it


async def read_events(response: httpx.Response) -> list[Event]:
    """Every `data:` event of a streamed response, as the client saw them arrive."""
    events: list[Event] = []
    buffer = b""
    reads = 0
    async for piece in response.aiter_raw():
        reads += 1
        now = time.monotonic()
        buffer += piece
        while b"\n\n" in buffer:
            block, buffer = buffer.split(b"\n\n", 1)
            lines = [line[5:].strip() for line in block.split(b"\n") if line.startswith(b"data:")]
            if lines:
                events.append(Event(json.loads(b"\n".join(lines)), now, reads))
    assert not buffer.strip(), f"stream ended inside an event: {buffer!r}"
    return events
