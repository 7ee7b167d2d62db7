"""A stream read ahead: what the source raises reaches the consumer, in its turn."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from routeur_grpc.read_ahead import READ_AHEAD, joined_when_ready


def joined(items: AsyncIterator[str]) -> AsyncIterator[str]:
    return joined_when_ready(items, lambda item: item != "end", "".join)


async def test_text_ready_together_is_joined_after_the_first_piece() -> None:
    async def burst() -> AsyncIterator[str]:
        for item in ("a", "b", "c", "end"):
            yield item

    assert [item async for item in joined(burst())] == ["a", "bc", "end"]


async def test_an_error_of_the_source_comes_after_the_pieces_read_before_it() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "a"
        yield "b"
        raise ValueError("the upstream broke")

    seen: list[str] = []
    with pytest.raises(ValueError, match="the upstream broke"):
        async for item in joined(failing()):
            seen.append(item)
    assert "".join(seen) == "ab"


async def test_a_cancellation_from_inside_the_source_reaches_the_consumer() -> None:
    async def cancelled_inside() -> AsyncIterator[str]:
        yield "a"
        raise asyncio.CancelledError  # as when a task the source awaits is cancelled

    async def consume() -> list[str]:
        return [item async for item in joined(cancelled_inside())]

    # Without it, the consumer would wait for the next piece for ever.
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(consume(), timeout=10)


async def test_a_source_faster_than_its_consumer_is_read_only_so_far_ahead() -> None:
    produced = 0

    async def endless() -> AsyncIterator[str]:
        nonlocal produced
        while True:
            produced += 1
            yield "end"  # never joined: each one waits its turn

    stream = joined(endless())
    assert await anext(stream) == "end"
    for _ in range(20):
        await asyncio.sleep(0)  # the reader runs as far as it may
    assert READ_AHEAD <= produced <= READ_AHEAD + 2
    await stream.aclose()


async def test_many_pieces_keep_their_order() -> None:
    async def numbered() -> AsyncIterator[str]:
        for number in range(3 * READ_AHEAD):
            yield f"end{number}"  # never joined, read ahead in several rounds

    def unjoined(items: AsyncIterator[str]) -> AsyncIterator[str]:
        return joined_when_ready(items, lambda item: False, "".join)

    assert [item async for item in unjoined(numbered())] == [
        f"end{number}" for number in range(3 * READ_AHEAD)
    ]
