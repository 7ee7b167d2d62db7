"""The model router: the one entry point of routing, over its parts.

- `ModelDirectory` (model_directory.py): the catalog, aliases, availability, deployments;
- `ChainWalker` (chain_walk.py): retries and fallbacks before the first token;
- `AttemptRunner` (attempt_runner.py): one attempt, its timeouts, its breaker verdict;
- `CompletionFlow` (completion_flow.py): relaying the answer and accounting for it.

`ModelRouter` wires them from `RouterConfig` and keeps the API callers use: `stream`,
`list_models`, `get_model`, `provider_of`, `add_providers`, `set_runtime_providers`,
`circuit_states`, `start`, `aclose`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opentelemetry.trace import Tracer

from routeur_grpc.accounting.emissions import EmissionsEstimator
from routeur_grpc.accounting.ledger import UsageLedger
from routeur_grpc.accounting.pricing import DEFAULT_USD_TO_EUR, CurrencyConverter, PriceList
from routeur_grpc.domain.completion import CompletionChunk, CompletionRequest
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.providers.token_count import APPROXIMATION_ENCODING, TokenCounter, load_encoding
from routeur_grpc.routing.attempt_runner import AttemptRunner, UpstreamTimeouts
from routeur_grpc.routing.catalog import ModelCatalog
from routeur_grpc.routing.chain_walk import ChainWalker
from routeur_grpc.routing.circuit_breaker import CircuitBreaker
from routeur_grpc.routing.completion_flow import CompletionFlow
from routeur_grpc.routing.completion_record import CompletionRecord, log_record
from routeur_grpc.routing.deployments import RoutingTable
from routeur_grpc.routing.model_directory import ModelDirectory
from routeur_grpc.routing.retry import Clock, RetryPolicy, SystemClock

#: The overall deadline of a call whose caller set none (REST callers, most SDKs).
DEFAULT_DEADLINE_S = 300.0


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
    default_deadline_s: float | None = DEFAULT_DEADLINE_S
    #: First-token and between-tokens timeouts per provider instance name.
    timeouts: Mapping[str, UpstreamTimeouts] = field(default_factory=dict)
    default_timeouts: UpstreamTimeouts = field(default_factory=UpstreamTimeouts)


class ModelRouter:
    """Routes completion requests to providers (a facade over the routing parts)."""

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
        tracer: Tracer | None = None,
    ) -> None:
        """`provider_types` maps each provider's name to its type (e.g. `local`, `openai`).
        With a `tracer`, each upstream attempt is a span."""
        self._config = config = config or RouterConfig()
        self._clock = clock or SystemClock()
        self._rng = rng or random.Random()
        self._counter = token_counter or TokenCounter()
        self._on_accounted = on_accounted
        self._directory = ModelDirectory(
            config.catalog_file,
            breaker_factory=lambda: CircuitBreaker(
                failure_threshold=config.breaker_failure_threshold,
                cooldown_s=config.breaker_cooldown_s,
                clock=self._clock.monotonic,
            ),
            prices_factory=lambda catalog: PriceList(
                catalog, config.currency, CurrencyConverter.usd_eur(config.usd_to_eur)
            ),
            rng=self._rng,
        )
        self._directory.add(providers, provider_types)
        self._runtime_names: set[str] = set()  # see set_runtime_providers
        self._runner = AttemptRunner(
            self._clock, config.timeouts, config.default_timeouts, tracer=tracer
        )
        self._flow = CompletionFlow(
            self._directory,
            ChainWalker(self._directory, self._runner, config.retry, self._clock, self._rng),
            self._runner,
            EmissionsEstimator(config.electricity_mix_zone),
            self._counter,
            self._clock,
            default_deadline_s=config.default_deadline_s,
        )

    async def start(self) -> None:
        """Ask in-process providers which models they serve; warm the token counter.

        Remote providers are not asked: the catalog says what they serve, and starting must
        not depend on the network.
        """
        for provider in self._directory.in_process():
            kind = self._directory.provider_type(provider.name)
            self._directory.note_served(
                provider.name,
                [
                    ModelInfo(
                        name=model.name,
                        provider=kind,
                        description=model.description,
                        context_window=model.context_window,
                        supports_streaming=model.supports_streaming,
                    )
                    for model in await provider.list_models()
                ],
            )
        self._directory.rebuild()
        # Built before serving, not at the first count (a stream cut short): tiktoken builds
        # its tables holding the interpreter, 145 ms for this encoding, which would stall
        # every call in flight. It costs the process 47 MB (tiktoken's Rust tables).
        await asyncio.to_thread(load_encoding, APPROXIMATION_ENCODING)

    def add_providers(
        self,
        providers: Sequence[ChatProvider],
        provider_types: Mapping[str, str],
        timeouts: Mapping[str, UpstreamTimeouts] | None = None,
    ) -> None:
        """Serve through more provider instances from now on (a name already known is
        replaced). In-process providers added here are not asked what they serve."""
        for name, value in (timeouts or {}).items():
            self._runner.set_timeouts(name, value)
        self._directory.add(providers, provider_types)

    def set_runtime_providers(
        self,
        providers: Sequence[ChatProvider],
        provider_types: Mapping[str, str],
        served: Mapping[str, list[ModelInfo]],
    ) -> None:
        """Route to `providers` (added by administrators, read from the store) besides the
        configured ones, replacing the previous runtime set: a provider missing from it is
        no longer routed to. `served`: the models some of them are declared to serve.

        The same mechanism as `add_providers` (one rebuild of the directory): requests in
        flight keep the deployment they hold; breaker states restart. Closing the clients
        of removed providers is the caller's business (they may still be streaming).
        """
        names = {provider.name for provider in providers}
        self._directory.add(
            providers, provider_types, served, remove=self._runtime_names - names
        )
        self._runtime_names = names

    # --- the catalog, as callers see it ------------------------------------------------------

    @property
    def catalog(self) -> ModelCatalog:
        return self._directory.catalog

    @property
    def routing_table(self) -> RoutingTable:
        return self._directory.table

    @property
    def providers(self) -> list[ChatProvider]:
        return self._directory.providers

    def provider_type(self, name: str) -> str:
        """The type (`openai`, `local`…) of the provider instance called `name`."""
        return self._directory.provider_type(name)

    def circuit_states(self) -> dict[str, dict[str, str]]:
        """Per provider instance, the circuit state of each model it serves (`closed`,
        `open`, `half_open`)."""
        states: dict[str, dict[str, str]] = {p.name: {} for p in self._directory.providers}
        for entry in self._directory.catalog.entries():
            for deployment in self._directory.table.deployments(entry.name):
                states.setdefault(deployment.provider.name, {})[entry.name] = (
                    deployment.breaker.state.value
                )
        return states

    async def list_models(self) -> list[ModelInfo]:
        return self._directory.infos()

    async def get_model(self, name: str) -> ModelInfo:
        return self._directory.info(self._directory.resolve(name))

    async def provider_of(self, model: str) -> str:
        """The provider type serving `model` (a name or alias), e.g. `openai`, `local`."""
        return self._directory.resolve(model).provider

    # --- completions -------------------------------------------------------------------------

    def stream(
        self,
        request: CompletionRequest,
        *,
        deadline: float | None = None,
        on_accounted: Callable[[CompletionRecord], None] | None = None,
        prefer_unary: bool = False,
        ledger: UsageLedger | None = None,
        allow_fallback: bool = False,
    ) -> AsyncIterator[CompletionChunk]:
        """Content chunks, then one `done` chunk with the accounting.

        `deadline` is the caller's deadline on the clock's `monotonic()` time; without one,
        the configured default deadline applies. An error before the first chunk is raised;
        after it, it ends the stream as the `error` of the last chunk, since the client has
        already received part of the answer. `on_accounted` (besides the router's own)
        receives the accounting of this request however it ends, cancellation included; it
        must not block. `prefer_unary` asks providers that can for their non-streamed
        endpoint: the answer then arrives as one chunk. `ledger`: accounts to add this call
        to (an agent's several calls accounted as one request). `allow_fallback`: when the
        model has no configured provider, let its fallback chain answer (saying so).
        """
        return self._flow.stream(
            request,
            deadline=deadline,
            callbacks=(self._on_accounted, on_accounted),
            prefer_unary=prefer_unary,
            ledger=ledger,
            allow_fallback=allow_fallback,
        )

    async def aclose(self) -> None:
        for provider in self._directory.providers:
            await provider.aclose()
