"""Deployments: chosen by weight and load, skipped when their breaker is open; fallback chains."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from routeur_grpc.errors import InvalidArgument
from routeur_grpc.providers.base import ChatEvent, ChatRequest, ProviderModel, UsageReport
from routeur_grpc.routing.catalog import DeploymentSpec, ModelCatalog, load_catalog_file
from routeur_grpc.routing.circuit_breaker import CircuitBreaker
from routeur_grpc.routing.deployments import RoutingTable


class NamedProvider:
    """A provider that is never called: only its name matters here."""

    def __init__(self, name: str) -> None:
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatEvent]:
        yield UsageReport(0, 0)

    async def list_models(self) -> list[ProviderModel]:
        return []

    async def aclose(self) -> None:
        pass


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog(load_catalog_file().models)


def table(catalog: ModelCatalog, **kwargs: object) -> RoutingTable:
    providers = [NamedProvider("openai"), NamedProvider("openai-eu"), NamedProvider("mistral")]
    types = {"openai": "openai", "openai-eu": "openai", "mistral": "mistral"}
    return RoutingTable(catalog, providers, types, rng=random.Random(3), **kwargs)  # type: ignore[arg-type]


def test_implicit_deployments_follow_the_provider_type(catalog: ModelCatalog) -> None:
    routes = table(catalog)
    assert sorted(d.provider.name for d in routes.deployments("gpt-4o")) == ["openai", "openai-eu"]
    assert [d.provider.name for d in routes.deployments("mistral-large-latest")] == ["mistral"]
    assert routes.is_available("gpt-4o")
    assert not routes.is_available("claude-haiku-4-5"), "no anthropic provider configured"


def test_explicit_deployments_replace_the_implicit_ones(catalog: ModelCatalog) -> None:
    routes = table(
        catalog,
        deployments=[
            DeploymentSpec(model="gpt-4o", provider="openai-eu", upstream_model="gpt-4o-2024-11-20", weight=3),
            DeploymentSpec(model="gpt-4o", provider="not-configured"),
        ],
    )
    (only,) = routes.deployments("gpt-4o")
    assert only.provider.name == "openai-eu" and only.upstream_model == "gpt-4o-2024-11-20"
    assert only.weight == 3


def test_choice_follows_weights_when_idle(catalog: ModelCatalog) -> None:
    routes = table(
        catalog,
        deployments=[
            DeploymentSpec(model="gpt-4o", provider="openai", weight=3),
            DeploymentSpec(model="gpt-4o", provider="openai-eu", weight=1),
        ],
    )
    picks = Counter(routes.choose("gpt-4o").provider.name for _ in range(4000))  # type: ignore[union-attr]
    assert 0.70 < picks["openai"] / 4000 < 0.80


def test_busy_deployments_get_less_traffic(catalog: ModelCatalog) -> None:
    routes = table(catalog)
    busy, idle = sorted(routes.deployments("gpt-4o"), key=lambda d: d.provider.name)
    busy.in_flight = 9
    picks = Counter(routes.choose("gpt-4o").provider.name for _ in range(2000))  # type: ignore[union-attr]
    assert picks[idle.provider.name] > 0.85 * 2000


def test_open_breakers_are_skipped_and_failed_ones_avoided(catalog: ModelCatalog) -> None:
    routes = table(catalog, breaker_factory=lambda: CircuitBreaker(failure_threshold=1, cooldown_s=60))
    first, second = routes.deployments("gpt-4o")
    assert routes.choose("gpt-4o", exclude=[first]) is second
    first.breaker.record_failure()
    assert all(routes.choose("gpt-4o") is second for _ in range(20))
    second.breaker.record_failure()
    assert routes.choose("gpt-4o") is None
    assert 59 < routes.retry_in("gpt-4o") <= 60  # type: ignore[operator]


def test_fallback_chain_resolves_aliases_and_dedupes(catalog: ModelCatalog) -> None:
    routes = table(catalog, fallbacks={"gpt-4o": ["mistral-large", "gpt-4o", "smollm2-135m-instruct"]})
    assert routes.chain("gpt-4o") == ["gpt-4o", "mistral-large-latest", "local/smollm2-135m-instruct"]
    assert routes.chain("gpt-4o-mini") == ["gpt-4o-mini"]


def test_unknown_model_in_a_fallback_is_a_configuration_error(catalog: ModelCatalog) -> None:
    with pytest.raises(InvalidArgument):
        table(catalog, fallbacks={"gpt-4o": ["no-such-model"]})
