"""Reading an upstream's events, each within a time limit, without a timer per event.

`asyncio.timeout` around each read sets and cancels one timer per token: about a quarter
of the server's CPU when it relays a burst of tokens. A `SilenceWatch` keeps at most one
timer for a whole answer. Starting a read only notes when it must end; the timer, when it
fires, compares that end with the loop's time, and either sets itself again for the rest
(events came meanwhile) or cancels the reading task, which the read turns into
`TimeoutError`, exactly as `asyncio.timeout` would. Cancellations from elsewhere (the
client going away) pass through untouched.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TypeVar

T = TypeVar("T")


class SilenceWatch:
    """Limits each read of one stream; `close()` once the stream is done with."""

    __slots__ = ("_loop", "_timer", "_timer_at", "_ends_at", "_task", "_expired")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # when the pending timer fires, in the loop's time
        self._ends_at: float | None = None  # when the running read must end; None: no read
        self._task: asyncio.Task[object] | None = None
        self._expired = False

    async def read(self, events: AsyncIterator[T], limit_s: float) -> T | None:
        """`anext(events, None)`, or TimeoutError after `limit_s` seconds without it."""
        task = asyncio.current_task()
        assert task is not None
        ends_at = self._loop.time() + max(0.0, limit_s)
        if self._timer is None or ends_at < self._timer_at:
            self._arm(ends_at)
        self._ends_at, self._task, self._expired = ends_at, task, False
        cancelling = task.cancelling()
        try:
            return await anext(events, None)
        except asyncio.CancelledError:
            # Ours only if the watch cancelled the task and nobody else did meanwhile.
            if self._expired and task.uncancel() <= cancelling:
                raise TimeoutError from None
            raise
        finally:
            self._ends_at = self._task = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._timer_at = self._loop.call_at(at, self._fire), at

    def _fire(self) -> None:
        self._timer = None
        if self._ends_at is None or self._task is None:
            return  # between reads: the next read sets a timer
        if self._loop.time() < self._ends_at:
            self._arm(self._ends_at)
            return
        self._expired = True
        self._task.cancel()
