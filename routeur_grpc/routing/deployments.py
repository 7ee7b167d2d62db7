"""Deployments: where each model is served, how one is chosen, what to fall back to.

A deployment is one provider instance serving one catalog model (a key, an endpoint). A
model may have several; each request picks one at random, weighted by `weight / (1 +
in_flight)`, so traffic follows the configured weights when idle and drifts away from the
busy ones under load. A deployment whose circuit breaker is open is skipped.

Deployments come from the catalog file's `[[deployments]]`, or, for a model without any, from
every configured provider instance of the model's provider type. A model with no deployment
is listed as unavailable.

Fallback chains (`[fallbacks]`: `gpt-4o` → `mistral-large-latest` → local) are followed in
order, before the first token only; that rule is the router's.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from routeur_grpc.errors import (
    CallerRefused,
    DeadlineExceeded,
    FailedPrecondition,
    ResourceExhausted,
    RouteurError,
    Unavailable,
)
from routeur_grpc.providers.base import ChatProvider
from routeur_grpc.routing.catalog import DeploymentSpec, ModelCatalog
from routeur_grpc.routing.circuit_breaker import CircuitBreaker

#: Errors that say something about the deployment (not about the request): they count
#: against its circuit breaker and allow falling back to the next model of the chain.
DEPLOYMENT_FAILURES: tuple[type[RouteurError], ...] = (
    Unavailable,
    ResourceExhausted,
    DeadlineExceeded,
    FailedPrecondition,
)


class CallerDeadlineExceeded(DeadlineExceeded):
    """The caller's own deadline passed: never retried, never a deployment's fault."""

    retryable = False


#: Errors of the caller's own doing, even where their class is a deployment failure's: a
#: caller's quota or budget (`CallerRefused`), a caller's deadline. They never count
#: against a deployment, never trigger a retry or a fallback.
CALLER_ERRORS: tuple[type[RouteurError], ...] = (CallerRefused, CallerDeadlineExceeded)


def is_deployment_failure(error: BaseException) -> bool:
    """Whether `error` is the deployment's fault (breaker, retry and fallback apply)."""
    return isinstance(error, DEPLOYMENT_FAILURES) and not isinstance(error, CALLER_ERRORS)


@dataclass(eq=False, slots=True)
class Deployment:
    """One provider instance serving one model."""

    model: str
    provider: ChatProvider
    upstream_model: str
    weight: float = 1.0
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)
    in_flight: int = 0

    @property
    def id(self) -> str:
        return f"{self.model}@{self.provider.name}"

    @property
    def load_weight(self) -> float:
        return self.weight / (1 + self.in_flight)


class RoutingTable:
    """Deployments per model and fallback chains, built from the catalog and the providers."""

    def __init__(
        self,
        catalog: ModelCatalog,
        providers: Sequence[ChatProvider],
        provider_types: Mapping[str, str],
        *,
        deployments: Iterable[DeploymentSpec] = (),
        fallbacks: Mapping[str, Sequence[str]] | None = None,
        serves: Mapping[str, Collection[str]] | None = None,
        breaker_factory: Callable[[], CircuitBreaker] = CircuitBreaker,
        rng: random.Random | None = None,
    ) -> None:
        """`serves`: for providers that said which models they serve (in-process ones), those
        model names; such a provider is an implicit deployment of those models only."""
        self._catalog = catalog
        serves = serves or {}
        self._rng = rng or random.Random()
        by_name = {provider.name: provider for provider in providers}
        explicit: dict[str, list[Deployment]] = {}
        for spec in deployments:
            entry = catalog.resolve(spec.model)
            provider = by_name.get(spec.provider)
            if provider is None:
                continue  # that provider instance is not configured (or disabled)
            explicit.setdefault(entry.name, []).append(
                Deployment(
                    model=entry.name,
                    provider=provider,
                    upstream_model=spec.upstream_model or entry.upstream_model,
                    weight=spec.weight,
                    breaker=breaker_factory(),
                )
            )
        self._deployments: dict[str, list[Deployment]] = {}
        for entry in catalog.entries():
            if entry.name in explicit:
                self._deployments[entry.name] = explicit[entry.name]
                continue
            self._deployments[entry.name] = [
                Deployment(
                    model=entry.name,
                    provider=provider,
                    upstream_model=entry.upstream_model,
                    breaker=breaker_factory(),
                )
                for provider in providers
                if provider_types.get(provider.name) == entry.provider
                and (
                    provider.name not in serves
                    or entry.upstream_model in serves[provider.name]
                    or entry.name in serves[provider.name]
                )
            ]
        self._fallbacks: dict[str, tuple[str, ...]] = {}
        for model, chain in (fallbacks or {}).items():
            head = catalog.resolve(model).name
            self._fallbacks[head] = tuple(catalog.resolve(name).name for name in chain)

    def deployments(self, model: str) -> list[Deployment]:
        return list(self._deployments.get(model, ()))

    def is_available(self, model: str) -> bool:
        """Whether some configured provider serves `model`."""
        return bool(self._deployments.get(model))

    def chain(self, model: str) -> list[str]:
        """`model`, then its fallbacks, each once."""
        order = [model, *self._fallbacks.get(model, ())]
        return list(dict.fromkeys(order))

    def choose(self, model: str, exclude: Iterable[Deployment] = ()) -> Deployment | None:
        """A deployment of `model` that may take a request now, or None.

        Deployments in `exclude` (those that already failed this request) are avoided, unless
        no other remains. Choosing a deployment whose breaker is half-open claims its probe.
        """
        usable = [d for d in self._deployments.get(model, ()) if d.breaker.can_attempt()]
        if not usable:
            return None
        excluded = set(exclude)
        fresh = [d for d in usable if d not in excluded]
        pool = fresh or usable
        chosen = self._rng.choices(pool, weights=[d.load_weight for d in pool])[0]
        chosen.breaker.attempt()
        return chosen

    def retry_in(self, model: str) -> float | None:
        """Seconds until some deployment of `model` accepts traffic again (None: none exists)."""
        group = self._deployments.get(model)
        if not group:
            return None
        return min(d.breaker.retry_in() for d in group)
