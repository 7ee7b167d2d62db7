"""Reading a provider's stream whole, for tests that look at the answer rather than its pace."""

from __future__ import annotations

from collections.abc import AsyncIterator

from routeur_grpc.providers.base import ChatEvent, TextDelta, UsageReport
from routeur_grpc.providers.unary import ChatCompletion


async def collect(events: AsyncIterator[ChatEvent]) -> ChatCompletion:
    """Drain a provider stream into one `ChatCompletion`."""
    parts: list[str] = []
    usage = UsageReport(0, 0)
    async for event in events:
        if isinstance(event, TextDelta):
            parts.append(event.text)
        else:
            usage = event
    return ChatCompletion("".join(parts), usage)
