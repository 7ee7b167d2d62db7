"""How many transcriptions run at once, on this instance and for each caller.

Transcribing takes a CPU core (the local engine) or an upstream's quota for a long time,
so running too many at once makes every one of them slow. An instance runs at most
`max_running` transcriptions, and one caller at most `max_per_caller` of the synchronous
ones. A synchronous request that finds no free slot is refused at once, before its upload,
with RESOURCE_EXHAUSTED and a Retry-After, and told that a job waits its turn instead:
a short file is never stuck silently behind a long one. Jobs are the visible queue; the
job workers wait here for a free slot before they claim a job, rather than being refused.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from routeur_grpc.domain.caller import Caller
from routeur_grpc.errors import ResourceExhausted


class TranscriptionAdmission:
    """Counts running transcriptions; hands out slots or refuses them."""

    def __init__(self, max_running: int, max_per_caller: int, retry_after_s: float) -> None:
        self.max_running = max_running
        self.max_per_caller = max_per_caller
        self.retry_after_s = retry_after_s
        self._running = 0
        self._by_owner: Counter[str] = Counter()
        self._freed = asyncio.Condition()

    @property
    def running(self) -> int:
        return self._running

    @contextlib.asynccontextmanager
    async def now(self, caller: Caller) -> AsyncIterator[None]:
        """A slot for a synchronous transcription, at once, or ResourceExhausted."""
        if self._by_owner[caller.owner_id] >= self.max_per_caller:
            raise self._refusal(f"You already have {self.max_per_caller} transcription(s) running")
        if self._running >= self.max_running:
            raise self._refusal(
                f"This server is running its {self.max_running} transcription(s) at once"
            )
        self._take(caller.owner_id)
        try:
            yield
        finally:
            await self._give_back(caller.owner_id)

    async def wait_until_free(self) -> None:
        """Returns once a slot is free (a job worker then looks for a job)."""
        async with self._freed:
            await self._freed.wait_for(lambda: self._running < self.max_running)

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """A slot for a job a worker has claimed. Taken even if a synchronous call took the
        last one meanwhile (briefly one over): an idle worker never holds a slot, so it
        never makes a synchronous call be refused."""
        self._take("")
        try:
            yield
        finally:
            await self._give_back("")

    def _take(self, owner_id: str) -> None:
        self._running += 1
        if owner_id:
            self._by_owner[owner_id] += 1

    async def _give_back(self, owner_id: str) -> None:
        self._running -= 1
        if owner_id:
            self._by_owner[owner_id] -= 1
            if self._by_owner[owner_id] <= 0:
                del self._by_owner[owner_id]
        async with self._freed:
            self._freed.notify_all()

    def _refusal(self, why: str) -> ResourceExhausted:
        return ResourceExhausted(
            f"{why}. Retry in {self.retry_after_s:g} s, or create a transcription job "
            "(POST /transcription/jobs, or CreateTranscriptionJob): jobs wait their turn "
            "in a queue and report their progress.",
            reason="TRANSCRIPTION_BUSY",
            retry_after_s=self.retry_after_s,
        )
