"""A wake-up signal for whoever waits on transcription jobs in this instance.

Jobs live in the shared store, and another instance may change them, so watchers and idle
workers poll it. Changes made in this instance (a job created, progress written, a job
ended or cancelled) also wake them at once, so they do not wait for the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib


class JobChanges:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        """Wakes every current waiter."""
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout_s: float) -> None:
        """Returns at the next `notify()`, or after `timeout_s`."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout_s)
