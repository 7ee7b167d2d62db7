"""Recording what each request used and cost, without slowing the answer down.

`record_soon` can be called from any ending of a completion (done, failed part-way,
cancelled): it does not await, so it also works while a cancelled stream unwinds. Writes
run as background tasks; `aclose()` waits for those still pending at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable

from routeur_grpc.domain.caller import Caller
from routeur_grpc.domain.completion import CompletionMetadata
from routeur_grpc.domain.repositories import UsageRepository
from routeur_grpc.errors import RouteurError
from routeur_grpc.structured_logging import describe_exception

log = logging.getLogger(__name__)


class UsageRecorder:
    """Writes one usage record per request to the store, in the background."""

    def __init__(
        self,
        usage: UsageRepository,
        currency: str,
        observer: Callable[[Caller, str, CompletionMetadata], None] | None = None,
    ) -> None:
        self._usage = usage
        self._currency = currency
        self._observer = observer  # e.g. the metrics, told of every record as it is made
        self._pending: set[asyncio.Task[None]] = set()

    def record_soon(self, caller: Caller, provider: str, metadata: CompletionMetadata) -> None:
        if self._observer is not None:
            self._observer(caller, provider, metadata)
        task = asyncio.get_running_loop().create_task(self._record(caller, provider, metadata))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

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
        task = asyncio.get_running_loop().create_task(
            self._record(caller, engine, metadata, cost=cost, audio_seconds=audio_seconds)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _record(
        self,
        caller: Caller,
        provider: str,
        metadata: CompletionMetadata,
        cost: float | None = None,
        audio_seconds: float | None = None,
    ) -> None:
        pricing = metadata.pricing
        emissions_kg = metadata.emissions_kg_co2eq
        if cost is None:
            cost = pricing.total_cost if pricing else 0.0
        try:
            await self._usage.record(
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
                audio_seconds=audio_seconds,
            )
        except RouteurError as error:
            log.warning("usage not recorded", extra={"reason": error.reason})
        except Exception as error:  # noqa: BLE001 - a background task: nobody else would see it
            log.error("usage not recorded", extra=describe_exception(error))

    async def aclose(self) -> None:
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
