"""The health report's checks: the store, in-process components, each provider's circuit.

A provider instance is reported from its circuit breakers' state: nothing is sent
upstream to find out.
"""

from __future__ import annotations

from collections.abc import Callable

from routeur_grpc.domain.repositories import Store
from routeur_grpc.routing.router import ModelRouter
from routeur_grpc.services.health import HealthCheck


def store_check(store: Store) -> HealthCheck:
    async def check() -> None:
        await store.users.list(page_size=1)

    return check


async def always_healthy() -> None:
    """An in-process component that started is up for as long as the process is."""


def circuit_check(router: ModelRouter, provider: str) -> HealthCheck:
    """A provider instance is healthy while no circuit of its deployments is open; the note
    gives its type and circuit state."""

    async def check() -> str:
        states = router.circuit_states().get(provider, {})
        kind = router.provider_type(provider)
        open_models = sorted(model for model, state in states.items() if state == "open")
        if open_models:
            raise RuntimeError(
                f"{kind} provider; circuit open for {', '.join(open_models[:5])} after "
                "repeated upstream failures"
            )
        probing = any(state == "half_open" for state in states.values())
        return f"{kind} provider; circuit {'half_open' if probing else 'closed'}"

    return check


def runtime_checks(
    router: ModelRouter, configured: set[str]
) -> Callable[[], dict[str, HealthCheck]]:
    """The circuit checks of the providers administrators added, as routed right now."""

    def checks() -> dict[str, HealthCheck]:
        return {
            f"provider:{p.name}": circuit_check(router, p.name)
            for p in router.providers
            if p.name not in configured
        }

    return checks
