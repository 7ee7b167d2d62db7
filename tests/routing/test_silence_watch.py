"""A SilenceWatch limits each read of a stream as `asyncio.timeout` would, with one timer
for the whole stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from routeur_grpc.routing.silence_watch import SilenceWatch


async def paced(pauses: list[float]) -> AsyncIterator[int]:
    """Yields 0, 1, … each after its pause."""
    for index, pause in enumerate(pauses):
        await asyncio.sleep(pause)
        yield index


async def test_reads_that_come_in_time_are_returned_then_the_end() -> None:
    watch = SilenceWatch()
    events = paced([0.0, 0.01, 0.0])
    assert [await watch.read(events, 5.0) for _ in range(4)] == [0, 1, 2, None]
    watch.close()


async def test_a_read_longer_than_its_limit_raises_timeout_error() -> None:
    watch = SilenceWatch()
    events = paced([0.0, 60.0])
    assert await watch.read(events, 5.0) == 0
    async with asyncio.timeout(10):  # fails the test rather than waiting a minute
        with pytest.raises(TimeoutError):
            await watch.read(events, 0.05)
    watch.close()


async def test_each_read_has_its_own_limit_however_long_the_stream() -> None:
    """The single timer, set for the first read, is carried over to the later ones: many
    reads each within the limit never add up to a timeout."""
    watch = SilenceWatch()
    events = paced([0.02] * 15)  # 0.3 s in all, each read 0.02 s
    got = [await watch.read(events, 0.1) for _ in range(15)]
    assert got == list(range(15))
    watch.close()


async def test_a_shorter_limit_after_a_longer_one_applies_at_once() -> None:
    watch = SilenceWatch()
    events = paced([0.0, 60.0])
    assert await watch.read(events, 30.0) == 0  # leaves a timer 30 s ahead
    async with asyncio.timeout(10):
        with pytest.raises(TimeoutError):
            await watch.read(events, 0.05)
    watch.close()


async def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    watch = SilenceWatch()
    events = paced([60.0])
    reading = asyncio.create_task(watch.read(events, 30.0))
    await asyncio.sleep(0.05)
    reading.cancel()
    with pytest.raises(asyncio.CancelledError):
        await reading
    watch.close()


async def test_the_watch_can_be_read_again_after_a_timeout() -> None:
    watch = SilenceWatch()
    slow = paced([60.0])
    with pytest.raises(TimeoutError):
        await watch.read(slow, 0.02)
    assert await watch.read(paced([0.0]), 5.0) == 0
    watch.close()
