"""The model directory: which models exist, under which names, and which can answer here.

Built from the catalog file (built-in, merged with the operator's), the configured provider
instances and what in-process providers say they serve. It resolves names and aliases,
lists models with their availability and price, and holds the routing table (deployments,
breakers, fallback chains). Rebuilt when providers are added at run time; breakers of the
deployments that remain start afresh then.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path

from routeur_grpc.accounting.pricing import PriceList
from routeur_grpc.domain.model_entry import REMOTE_PROVIDER_TYPES, ModelEntry
from routeur_grpc.domain.models import ModelInfo
from routeur_grpc.errors import InvalidArgument
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.routing.catalog import CatalogFile, ModelCatalog, load_catalog_file
from routeur_grpc.routing.circuit_breaker import CircuitBreaker
from routeur_grpc.routing.deployments import RoutingTable

#: How many available model names an "unknown model" error lists.
MAX_NAMES_IN_ERRORS = 12


class ModelDirectory:
    """Resolves model names and knows which models can answer here."""

    def __init__(
        self,
        catalog_file: Path | None,
        *,
        breaker_factory: Callable[[], CircuitBreaker],
        prices_factory: Callable[[ModelCatalog], PriceList],
        rng: random.Random,
    ) -> None:
        self._file: CatalogFile = load_catalog_file(catalog_file)
        self._breaker_factory = breaker_factory
        self._prices_factory = prices_factory
        self._rng = rng
        self._providers: list[ChatProvider] = []
        self._types: dict[str, str] = {}
        self._served: dict[str, list[ModelInfo]] = {}
        self.rebuild()

    # --- building ----------------------------------------------------------------------------

    @property
    def providers(self) -> list[ChatProvider]:
        return list(self._providers)

    def provider_type(self, name: str) -> str:
        return self._types.get(name, "")

    def add(
        self,
        providers: Sequence[ChatProvider],
        provider_types: Mapping[str, str],
        served: Mapping[str, list[ModelInfo]] | None = None,
        *,
        remove: Collection[str] = (),
    ) -> None:
        """Register provider instances (at start, or at run time; a name already known is
        replaced) and forget those named in `remove`, then rebuild once. `served`: the
        models some of them are known to serve (besides what the catalog says)."""
        for name in remove:
            self._providers = [p for p in self._providers if p.name != name]
            self._types.pop(name, None)
            self._served.pop(name, None)
        for provider in providers:
            self._providers = [p for p in self._providers if p.name != provider.name]
            self._providers.append(provider)
            self._served.pop(provider.name, None)
        self._types.update(provider_types)
        self._served.update(served or {})
        self.rebuild()

    def in_process(self) -> list[ChatProvider]:
        """Providers that run in this process (asked at start which models they serve)."""
        return [p for p in self._providers if self._types.get(p.name) not in REMOTE_PROVIDER_TYPES]

    def note_served(self, provider: str, models: list[ModelInfo]) -> None:
        self._served[provider] = models

    def rebuild(self) -> None:
        """(Re)build the catalog, routing table and prices."""
        entries = list(self._file.models)
        known = {name for entry in entries for name in (entry.name, *entry.aliases)}
        for infos in self._served.values():
            for info in infos:
                if info.name not in known:
                    known.add(info.name)
                    entries.append(_entry_for_discovered(info))
        self.catalog = ModelCatalog(entries)
        self.table = RoutingTable(
            self.catalog,
            self._providers,
            self._types,
            deployments=self._file.deployments,
            fallbacks=self._file.fallbacks,
            serves={name: {info.name for info in infos} for name, infos in self._served.items()},
            breaker_factory=self._breaker_factory,
            rng=self._rng,
        )
        self.prices = self._prices_factory(self.catalog)

    # --- looking up --------------------------------------------------------------------------

    def resolve(self, name: str) -> ModelEntry:
        """The entry for `name` or an alias; INVALID_ARGUMENT listing what is available."""
        entry = self.catalog.get(name)
        if entry is not None:
            return entry
        try:
            return self.catalog.resolve(name)
        except InvalidArgument as error:
            available = [e.name for e in self.catalog.entries() if self.is_available(e.name)]
            shown = ", ".join(available[:MAX_NAMES_IN_ERRORS]) or "none"
            more = ", …" if len(available) > MAX_NAMES_IN_ERRORS else ""
            raise InvalidArgument(
                f"{error.message} Models available here: {shown}{more}.",
                reason=error.reason,
                metadata=error.metadata,
            ) from None

    def is_available(self, model: str) -> bool:
        return self.table.is_available(model)

    def info(self, entry: ModelEntry) -> ModelInfo:
        return ModelInfo(
            name=entry.name,
            provider=entry.provider,
            description=entry.description,
            context_window=entry.context_window,
            supports_streaming=entry.supports_streaming,
            available=self.is_available(entry.name),
            aliases=entry.aliases,
            price=self.prices.price(entry.name),
        )

    def infos(self) -> list[ModelInfo]:
        return [self.info(entry) for entry in self.catalog.entries()]


def _entry_for_discovered(info: ModelInfo) -> ModelEntry:
    """A catalog entry for a model an in-process provider serves but the catalog lacks."""
    return ModelEntry(
        name=info.name,
        provider=info.provider,
        description=info.description or "Served in this process",
        context_window=info.context_window,
        supports_streaming=info.supports_streaming,
        input_price_per_million=0.0,
        output_price_per_million=0.0,
        currency="EUR",
        ecologits_provider="",
    )
