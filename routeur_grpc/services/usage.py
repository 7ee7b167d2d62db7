"""Recording what each request used and cost, without slowing the answer down.

`record_soon` can be called from any ending of a completion (done, failed part-way,
cancelled): it does not await, so it also works while a cancelled stream unwinds. Records
are written in batches by one background task; `aclose()` waits for those still queued at
shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionMetadata
from routeur_grpc.domain.records import UsageRecord
from routeur_grpc.domain.repositories import UsageRepository
from routeur_grpc.errors import RouteurError
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)


#: At most this many records per write; more wait for the next one.
MAX_BATCH = 500


class UsageRecorder:
    """Writes one usage record per request to the store, in the background, batched.

    Records wait in a queue drained by one writer task: while one write is in flight, the
    records of the requests finishing meanwhile gather and go in the next write, one
    transaction for all of them. A quiet server writes each record at once; a busy one
    writes a few hundred per transaction instead of one each.
    """

    def __init__(
        self,
        usage: UsageRepository,
        currency: str,
        observer: Callable[[Caller, str, CompletionMetadata], None] | None = None,
    ) -> None:
        self._usage = usage
        self._currency = currency
        self._observer = observer  # e.g. the metrics, told of every record as it is made
        self._queue: list[UsageRecord] = []
        self._writer: asyncio.Task[None] | None = None

    def record_soon(self, caller: Caller, provider: str, metadata: CompletionMetadata) -> None:
        if self._observer is not None:
            self._observer(caller, provider, metadata)
        pricing = metadata.pricing
        self._enqueue(caller, provider, metadata, cost=pricing.total_cost if pricing else 0.0)

    def record_transcription_soon(
        self,
        caller: Caller,
        engine: str,
        model: str,
        cost: float,
        latency_s: float,
        audio_seconds: float,
    ) -> None:
        """A transcription: no tokens; its engine, model, cost (0 when not priced), time and
        the seconds of audio it heard."""
        metadata = CompletionMetadata(model=model, latency_s=latency_s)
        self._enqueue(caller, engine, metadata, cost=cost, audio_seconds=audio_seconds)

    def _enqueue(
        self,
        caller: Caller,
        provider: str,
        metadata: CompletionMetadata,
        *,
        cost: float,
        audio_seconds: float | None = None,
    ) -> None:
        pricing = metadata.pricing
        emissions_kg = metadata.emissions_kg_co2eq
        self._queue.append(
            UsageRecord(
                # Callers may reuse an x-request-id; every call is recorded on its own.
                request_id=f"{caller.request_id[:100]}:{uuid.uuid4().hex[:12]}",
                owner_id=caller.owner_id,
                model=metadata.model,
                provider=provider,
                prompt_tokens=metadata.usage.prompt_tokens,
                completion_tokens=metadata.usage.completion_tokens,
                cost=cost,
                currency=pricing.currency if pricing else self._currency,
                emissions_g=emissions_kg * 1000 if emissions_kg is not None else None,
                latency_s=metadata.latency_s,
                create_time=datetime.now(UTC),
                audio_seconds=audio_seconds,
            )
        )
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await self._usage.record_many(batch)
            except RouteurError as error:
                log.warning(
                    "usage not recorded", extra={"reason": error.reason, "records": len(batch)}
                )
            except Exception as error:  # noqa: BLE001 - a background task: nobody else would see it
                log.error(
                    "usage not recorded", extra=describe_exception(error) | {"records": len(batch)}
                )

    @property
    def backlog(self) -> int:
        """Records waiting for their write."""
        return len(self._queue)

    async def aclose(self) -> None:
        """Waits until every record queued so far is written (or has failed)."""
        while self._writer is not None and not self._writer.done():
            await asyncio.shield(self._writer)
