"""Stream and account: relay the chosen attempt's text, then close the accounts.

The flow is thin on purpose: the model directory resolves the name, the chain walker finds
who answers (retries and fallbacks, before the first token), the attempt runner reads the
answer within its timeouts; the flow relays the pieces and, however the request ends —
done, failed part-way, cancelled —, books the tokens in the ledger and hands the accounting
to the callbacks. Once a piece has reached the client nothing is retried or replaced: a
failure ends the stream as the `error` of the last chunk. A model offered tools (by an
agent) may ask for calls: each comes as a chunk of its own (`tool_calls`), and counts as a
piece like text does.

The ledger is injectable: an agent that makes several model calls for one request passes
the same `UsageLedger` to each, and the last call's accounting covers them all.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterable

from routeur_grpc.accounting.emissions import EmissionsEstimator
from routeur_grpc.accounting.ledger import Accountant, UsageLedger
from routeur_grpc.domain.completion import (
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.errors import RouteurError
from routeur_grpc.providers.base import TextDelta, ToolCallRequested, UsageReport
from routeur_grpc.providers.token_count import TokenCounter
from routeur_grpc.routing.attempt import Attempt
from routeur_grpc.routing.attempt_runner import AttemptRunner
from routeur_grpc.routing.chain_walk import ChainWalker, Walk
from routeur_grpc.routing.completion_record import CompletionRecord, Outcome
from routeur_grpc.routing.model_directory import ModelDirectory
from routeur_grpc.routing.retry import Clock

log = logging.getLogger(__name__)

AccountedCallback = Callable[[CompletionRecord], None]


class CompletionFlow:
    """Relays one request's answer and accounts for it, whatever its ending."""

    def __init__(
        self,
        directory: ModelDirectory,
        walker: ChainWalker,
        runner: AttemptRunner,
        emissions: EmissionsEstimator,
        counter: TokenCounter,
        clock: Clock,
        *,
        default_deadline_s: float | None = None,
    ) -> None:
        self._directory = directory
        self._walker = walker
        self._runner = runner
        self._emissions = emissions
        self._counter = counter
        self._clock = clock
        self._default_deadline_s = default_deadline_s

    async def stream(
        self,
        request: CompletionRequest,
        *,
        deadline: float | None,
        callbacks: Iterable[AccountedCallback | None],
        prefer_unary: bool = False,
        ledger: UsageLedger | None = None,
        allow_fallback: bool = False,
    ) -> AsyncIterator[CompletionChunk]:
        """Content chunks, then one `done` chunk with the accounting (see `ModelRouter`)."""
        started = self._clock.monotonic()
        if deadline is None and self._default_deadline_s:
            deadline = started + self._default_deadline_s
        entry = self._directory.resolve(request.model)
        accountant = Accountant(self._directory.prices, self._emissions)
        messages = request.messages()
        ledger = ledger if ledger is not None else UsageLedger()
        walk = Walk()
        attempt: Attempt | None = None
        accounted = False
        listeners = [callback for callback in callbacks if callback is not None]

        def account(outcome: Outcome, error: RouteurError | None) -> CompletionMetadata:
            nonlocal accounted
            accounted = True
            serving = attempt.entry if attempt is not None else entry
            fell_back = serving.name != entry.name
            metadata = accountant.metadata(
                ledger,
                model=serving.name,
                agent=request.agent,
                message_count=len(messages),
                latency_s=self._clock.monotonic() - started,
                requested_model=request.model,
                fallback_reason=walk.fallback_reason if fell_back else "",
                attempts=tuple(walk.notes),
            )
            record = CompletionRecord(outcome, request.model, serving.provider, metadata, error)
            for callback in listeners:
                try:
                    callback(record)
                except Exception:  # recording must never break the answer
                    log.exception("recording a completion failed")
            return metadata

        try:
            try:
                attempt = await self._walker.open(
                    entry,
                    request,
                    messages,
                    ledger,
                    deadline,
                    walk,
                    prefer_unary=prefer_unary,
                    allow_fallback=allow_fallback,
                )
            except RouteurError as error:
                account("failed", error)
                raise
            except Exception:
                account("failed", None)
                raise
            # What every piece says: who answers, and, for a fallback, who was asked and why.
            fell_back = attempt.entry.name != entry.name
            label = CompletionMetadata(
                model=attempt.entry.name,
                agent=request.agent,
                requested_model=request.model if fell_back else "",
                fallback_reason=walk.fallback_reason if fell_back else "",
            )
            failure: RouteurError | None = None
            event = attempt.first
            try:
                while event is not None:
                    if isinstance(event, TextDelta):
                        attempt.parts.append(event.text)
                        yield CompletionChunk(content=event.text, metadata=label)
                    elif isinstance(event, ToolCallRequested):
                        yield CompletionChunk(tool_calls=(event.call,), metadata=label)
                    else:
                        attempt.usage = event
                    event = await self._runner.next_event(attempt, deadline)
            except RouteurError as error:
                failure = error
            await attempt.close()
            await self._settle(attempt, ledger)
            metadata = account("failed" if failure else "completed", failure)
            yield CompletionChunk(done=True, error=failure, metadata=metadata)
        finally:
            if attempt is not None and not attempt.closed:
                await attempt.close()  # cancelled: the upstream request closes first
                await self._settle(attempt, ledger)
            if not accounted:
                account("cancelled", None)

    async def _settle(self, attempt: Attempt, ledger: UsageLedger) -> None:
        """Book the attempt's tokens: as reported, or counted from what came through."""
        usage = attempt.usage
        if usage is None:
            usage = UsageReport(
                await self._counter.count_messages(attempt.chat.model, attempt.chat.messages),
                await self._counter.count_text(attempt.chat.model, "".join(attempt.parts)),
            )
        ledger.add(
            attempt.entry,
            TokenUsage(usage.prompt_tokens, usage.completion_tokens),
            self._clock.monotonic() - attempt.started,
            usage.cpu_s,
        )
