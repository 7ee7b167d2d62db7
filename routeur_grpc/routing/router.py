"""The model router: finds who serves a model, streams the answer, accounts for it.

A request names a model (or an alias) from the catalog. The router walks the model's fallback
chain (`gpt-4o` → `mistral-large-latest` → local); for each model it picks a deployment
(weight, in-flight load, circuit breaker) and opens its stream, retrying retryable failures
with the one retry policy (capped exponential backoff with full jitter, `Retry-After`, the
caller's deadline). All of that happens before the first token: once a token has reached the
client, nothing is retried or replaced, and a failure ends the stream as the `error` of the
last chunk.

The caller's deadline bounds every upstream wait; when it passes, or when the caller goes
away, the provider stream is closed (which closes the upstream HTTP request). Every ending —
success, failure, cancellation — is accounted: usage per model (fallbacks included), latency,
price, emissions, equivalences; the last chunk carries them, and `on_accounted` records them
even when nobody is left to read that chunk.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from routeur_grpc.accounting.emissions import EmissionsEstimator
from routeur_grpc.accounting.ledger import Accountant, UsageLedger
from routeur_grpc.accounting.pricing import DEFAULT_USD_TO_EUR, CurrencyConverter, PriceList
from routeur_grpc.domain.completion import (
    ChatMessage,
    CompletionChunk,
    CompletionMetadata,
    CompletionRequest,
    TokenUsage,
)
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument, RouteurError
from routeur_grpc.providers.base import (
    ChatEvent,
    ChatProvider,
    ChatRequest,
    TextDelta,
    UsageReport,
)
from routeur_grpc.providers.token_count import APPROXIMATION_ENCODING, TokenCounter, load_encoding
from routeur_grpc.providers.unary import UnaryChatProvider
from routeur_grpc.routing.attempt import Attempt, unary_events
from routeur_grpc.routing.catalog import (
    REMOTE_PROVIDER_TYPES,
    ModelCatalog,
    ModelEntry,
    load_catalog_file,
)
from routeur_grpc.routing.circuit_breaker import CircuitBreaker
from routeur_grpc.routing.completion_record import CompletionRecord, Outcome, log_record
from routeur_grpc.routing.deployments import Deployment, RoutingTable, is_deployment_failure
from routeur_grpc.routing.retry import Clock, RetryPolicy, SystemClock
from routeur_grpc.routing.route_errors import (
    CallerDeadlineExceeded,
    caller_deadline_exceeded,
    cooling_down,
    gave_up,
    not_configured,
)

log = logging.getLogger(__name__)

#: How many available model names an "unknown model" error lists.
MAX_NAMES_IN_ERRORS = 12

@dataclass(frozen=True, slots=True)
class RouterConfig:
    """Routing and accounting options (from the settings)."""

    catalog_file: Path | None = None
    currency: str = "EUR"
    usd_to_eur: float = DEFAULT_USD_TO_EUR
    electricity_mix_zone: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker_failure_threshold: int = 5
    breaker_cooldown_s: float = 30.0


class ModelRouter:
    """Routes completion requests to providers."""

    def __init__(
        self,
        providers: Sequence[ChatProvider],
        provider_types: dict[str, str],
        config: RouterConfig | None = None,
        *,
        clock: Clock | None = None,
        rng: random.Random | None = None,
        token_counter: TokenCounter | None = None,
        on_accounted: Callable[[CompletionRecord], None] = log_record,
    ) -> None:
        """`provider_types` maps each provider's name to its type (e.g. `local`, `openai`)."""
        self._providers = list(providers)
        self._provider_types = dict(provider_types)
        self._static = (list(providers), dict(provider_types))  # set_runtime_providers keeps
        self._served: dict[str, list[ModelInfo]] = {}
        self._config = config or RouterConfig()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._counter = token_counter or TokenCounter()
        self._on_accounted = on_accounted
        self._file = load_catalog_file(self._config.catalog_file)
        self._emissions = EmissionsEstimator(self._config.electricity_mix_zone)
        self._build({})

    def _build(self, served: dict[str, list[ModelInfo]]) -> None:
        """(Re)build the catalog and routing table; `served`: in-process provider → models."""
        entries = list(self._file.models)
        known = {name for entry in entries for name in (entry.name, *entry.aliases)}
        for infos in served.values():
            for info in infos:
                if info.name not in known:
                    known.add(info.name)
                    entries.append(_entry_for_discovered(info))
        self._catalog = ModelCatalog(entries)
        self._table = RoutingTable(
            self._catalog,
            self._providers,
            self._provider_types,
            deployments=self._file.deployments,
            fallbacks=self._file.fallbacks,
            serves={name: {info.name for info in infos} for name, infos in served.items()},
            breaker_factory=lambda: CircuitBreaker(
                failure_threshold=self._config.breaker_failure_threshold,
                cooldown_s=self._config.breaker_cooldown_s,
            ),
            rng=self._rng,
        )
        self._prices = PriceList(
            self._catalog,
            self._config.currency,
            CurrencyConverter.usd_eur(self._config.usd_to_eur),
        )
        self._accountant = Accountant(self._prices, self._emissions)

    async def start(self) -> None:
        """Ask in-process providers which models they serve; warm the token counter.

        Remote providers are not asked: the catalog says what they serve, and starting must
        not depend on the network.
        """
        served: dict[str, list[ModelInfo]] = {}
        for provider in self._providers:
            kind = self._provider_types.get(provider.name, "")
            if kind not in REMOTE_PROVIDER_TYPES:
                served[provider.name] = [
                    ModelInfo(
                        name=model.name,
                        provider=kind,
                        description=model.description,
                        context_window=model.context_window,
                        supports_streaming=model.supports_streaming,
                    )
                    for model in await provider.list_models()
                ]
        self._served = served
        self._build(served)
        await asyncio.to_thread(load_encoding, APPROXIMATION_ENCODING)

    def set_runtime_providers(
        self,
        providers: Sequence[ChatProvider],
        provider_types: dict[str, str],
        served: dict[str, list[ModelInfo]],
    ) -> None:
        """Route to `providers` (added by administrators) besides the configured ones,
        replacing the previous runtime set. `served`: the models some of them said they
        serve. Requests in flight keep the deployment they hold; breaker states restart."""
        static, static_types = self._static
        self._providers = [*static, *providers]
        self._provider_types = {**static_types, **provider_types}
        self._build({**self._served, **served})

    # --- the catalog, as callers see it ------------------------------------------------------

    @property
    def catalog(self) -> ModelCatalog:
        return self._catalog

    @property
    def routing_table(self) -> RoutingTable:
        return self._table

    async def list_models(self) -> list[ModelInfo]:
        return [self._info(entry) for entry in self._catalog.entries()]

    async def get_model(self, name: str) -> ModelInfo:
        return self._info(self._resolve(name))

    async def provider_of(self, model: str) -> str:
        """The provider type serving `model` (a name or alias), e.g. `openai`, `local`."""
        return self._resolve(model).provider

    def _info(self, entry: ModelEntry) -> ModelInfo:
        return ModelInfo(
            name=entry.name,
            provider=entry.provider,
            description=entry.description,
            context_window=entry.context_window,
            supports_streaming=entry.supports_streaming,
            available=self._table.is_available(entry.name),
            aliases=entry.aliases,
            price=self._prices.price(entry.name),
        )

    def _resolve(self, name: str) -> ModelEntry:
        entry = self._catalog.get(name)
        if entry is not None:
            return entry
        try:
            return self._catalog.resolve(name)
        except InvalidArgument as error:
            available = [e.name for e in self._catalog.entries() if self._table.is_available(e.name)]
            shown = ", ".join(available[:MAX_NAMES_IN_ERRORS]) or "none"
            more = ", …" if len(available) > MAX_NAMES_IN_ERRORS else ""
            raise InvalidArgument(
                f"{error.message} Models available here: {shown}{more}.",
                reason=error.reason,
                metadata=error.metadata,
            ) from None

    # --- completions -------------------------------------------------------------------------

    async def stream(
        self,
        request: CompletionRequest,
        *,
        deadline: float | None = None,
        on_accounted: Callable[[CompletionRecord], None] | None = None,
        prefer_unary: bool = False,
    ) -> AsyncIterator[CompletionChunk]:
        """Content chunks, then one `done` chunk with the accounting.

        `deadline` is the caller's deadline on the `time.monotonic()` clock, if any. An
        error before the first chunk is raised; after it, it ends the stream as the `error`
        of the last chunk, since the client has already received part of the answer.
        `on_accounted` (besides the router's own) receives the accounting of this request
        however it ends, cancellation included; it must not block. `prefer_unary` asks
        providers that can for their non-streamed endpoint (cheaper when the caller wants
        the whole answer anyway): the answer then arrives as one chunk.
        """
        started = time.monotonic()
        entry = self._resolve(request.model)
        messages = request.messages()
        ledger = UsageLedger()
        attempt: Attempt | None = None
        accounted = False

        def account(outcome: Outcome, error: RouteurError | None) -> CompletionMetadata:
            nonlocal accounted
            accounted = True
            serving = attempt.entry if attempt is not None else entry
            metadata = self._accountant.metadata(
                ledger,
                model=serving.name,
                agent=request.agent,
                message_count=len(messages),
                latency_s=time.monotonic() - started,
            )
            record = CompletionRecord(outcome, request.model, serving.provider, metadata, error)
            for callback in (self._on_accounted, on_accounted):
                if callback is None:
                    continue
                try:
                    callback(record)
                except Exception:  # recording must never break the answer
                    log.exception("recording a completion failed")
            return metadata

        try:
            try:
                attempt = await self._open(
                    entry, request, messages, ledger, deadline, prefer_unary
                )
            except RouteurError as error:
                account("failed", error)
                raise
            except Exception:
                account("failed", None)
                raise
            label = CompletionMetadata(model=attempt.entry.name, agent=request.agent)
            failure: RouteurError | None = None
            event = attempt.first
            try:
                while event is not None:
                    if isinstance(event, TextDelta):
                        attempt.parts.append(event.text)
                        yield CompletionChunk(content=event.text, metadata=label)
                    else:
                        attempt.usage = event
                    event = await self._next(attempt.events, deadline)
            except TimeoutError:
                failure = caller_deadline_exceeded(attempt.entry)
                attempt.deployment.breaker.record_abandoned()
            except RouteurError as error:
                failure = self._late_failure(error, deadline)
                if is_deployment_failure(failure) and not isinstance(
                    failure, CallerDeadlineExceeded
                ):
                    attempt.deployment.breaker.record_failure()
            await attempt.close()
            self._settle(attempt, ledger)
            metadata = account("failed" if failure else "completed", failure)
            yield CompletionChunk(done=True, error=failure, metadata=metadata)
        finally:
            if attempt is not None and not attempt.closed:
                await attempt.close()  # cancelled: the upstream request closes first
                self._settle(attempt, ledger)
            if not accounted:
                account("cancelled", None)

    async def _open(
        self,
        entry: ModelEntry,
        request: CompletionRequest,
        messages: list[ChatMessage],
        ledger: UsageLedger,
        deadline: float | None,
        prefer_unary: bool = False,
    ) -> Attempt:
        """Walk the fallback chain, with retries, until a stream yields its first event."""
        failures: list[RouteurError] = []
        tried_models: list[str] = []
        attempts = 0
        for name in self._table.chain(entry.name):
            candidate = self._catalog.resolve(name)
            if not self._table.is_available(candidate.name):
                failures.append(not_configured(candidate))
                continue
            schedule = self._config.retry.schedule(
                deadline=deadline, clock=self._clock, rng=self._rng
            )
            tried: list[Deployment] = []
            while True:
                if deadline is not None and time.monotonic() >= deadline:
                    raise caller_deadline_exceeded(candidate)
                deployment = self._table.choose(candidate.name, exclude=tried)
                if deployment is None:
                    failures.append(cooling_down(candidate, self._table.retry_in(candidate.name)))
                    break
                schedule.started()
                attempts += 1
                ledger.touch(candidate)
                if candidate.name not in tried_models:
                    tried_models.append(candidate.name)
                try:
                    return await self._try(
                        candidate, deployment, request, messages, deadline, prefer_unary
                    )
                except RouteurError as error:
                    if isinstance(error, CallerDeadlineExceeded) or not is_deployment_failure(
                        error
                    ):
                        raise
                    tried.append(deployment)
                    failures.append(error)
                    delay = schedule.next_delay(error)
                    if delay is None:
                        break  # this model is done for; on to the next of the chain
                    if self._fresh_deployment_left(candidate.name, tried):
                        continue  # another deployment can take it now
                    log.info(
                        "retrying",
                        extra={"model": candidate.name, "reason": error.reason, "delay_s": delay},
                    )
                    await self._clock.sleep(delay)
        raise gave_up(entry, failures, tried_models, attempts)

    def _fresh_deployment_left(self, model: str, tried: list[Deployment]) -> bool:
        return any(
            d not in tried and d.breaker.can_attempt() for d in self._table.deployments(model)
        )

    async def _try(
        self,
        entry: ModelEntry,
        deployment: Deployment,
        request: CompletionRequest,
        messages: list[ChatMessage],
        deadline: float | None,
        prefer_unary: bool = False,
    ) -> Attempt:
        """Open one deployment's stream and wait for its first event."""
        chat = ChatRequest(
            model=deployment.upstream_model,
            messages=messages,
            temperature=request.temperature,
            max_tokens=request.max_tokens,
        )
        events = self._events(entry, deployment.provider, chat, prefer_unary)
        deployment.in_flight += 1
        started = time.monotonic()
        try:
            first = await self._next(events, deadline)
        except BaseException as error:
            deployment.in_flight -= 1
            await events.aclose()  # type: ignore[attr-defined]
            if isinstance(error, TimeoutError):
                deployment.breaker.record_abandoned()
                raise caller_deadline_exceeded(entry) from None
            if isinstance(error, RouteurError):
                error = self._late_failure(error, deadline)
                if is_deployment_failure(error) and not isinstance(error, CallerDeadlineExceeded):
                    deployment.breaker.record_failure()
                    log.warning(
                        "upstream attempt failed",
                        extra={"deployment": deployment.id, "reason": error.reason},
                    )
                else:
                    deployment.breaker.record_abandoned()
                raise error from error.__cause__
            deployment.breaker.record_abandoned()
            raise
        deployment.breaker.record_success()
        return Attempt(entry, deployment, chat, events, started, first)

    @staticmethod
    def _events(
        entry: ModelEntry, provider: ChatProvider, chat: ChatRequest, prefer_unary: bool
    ) -> AsyncIterator[ChatEvent]:
        unary = prefer_unary or not entry.supports_streaming
        if unary and isinstance(provider, UnaryChatProvider):
            return unary_events(provider, chat)
        return provider.stream_chat(chat)

    @staticmethod
    async def _next(events: AsyncIterator[ChatEvent], deadline: float | None) -> ChatEvent | None:
        """The next event (None at the end), waiting no later than `deadline`."""
        if deadline is None:
            return await anext(events, None)
        async with asyncio.timeout(deadline - time.monotonic()):
            return await anext(events, None)

    def _late_failure(self, error: RouteurError, deadline: float | None) -> RouteurError:
        """An upstream error raised once the caller's deadline had passed is that deadline."""
        if deadline is not None and time.monotonic() >= deadline and not isinstance(
            error, CallerDeadlineExceeded
        ):
            return caller_deadline_exceeded(None)
        return error

    def _settle(self, attempt: Attempt, ledger: UsageLedger) -> None:
        """Book the attempt's tokens: as reported, or counted from what came through."""
        usage = attempt.usage
        if usage is None:
            usage = UsageReport(
                self._counter.count_messages(attempt.chat.model, attempt.chat.messages),
                self._counter.count_text(attempt.chat.model, "".join(attempt.parts)),
            )
        ledger.add(
            attempt.entry,
            TokenUsage(usage.prompt_tokens, usage.completion_tokens),
            time.monotonic() - attempt.started,
        )

    async def aclose(self) -> None:
        for provider in self._providers:
            await provider.aclose()


def _entry_for_discovered(info: ModelInfo) -> ModelEntry:
    """A catalog entry for a model an in-process provider serves but the catalog lacks."""
    return ModelEntry(
        name=info.name,
        provider=info.provider,  # type: ignore[arg-type] - an in-process type
        description=info.description or "Served in this process",
        context_window=info.context_window,
        supports_streaming=info.supports_streaming,
        input_price_per_million=0.0,
        output_price_per_million=0.0,
        currency="EUR",
        ecologits_provider="",
    )
