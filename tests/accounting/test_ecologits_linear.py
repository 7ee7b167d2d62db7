"""EcoLogits' figures read once per model are the figures EcoLogits computes per request.

The linear form is checked against EcoLogits itself for models of every provider Routeur
maps to EcoLogits, closed (min/max ranges) and open (single values), at latencies below the
model's expected one (EcoLogits keeps the measured latency) and above it (it uses its own).
"""

from __future__ import annotations

import pytest
from ecologits.model_repository import models
from ecologits.tracers.utils import PROVIDER_CONFIG_MAP, llm_impacts

from routeur_grpc.accounting.ecologits_linear import LinearFootprint, figures_of

#: Every model EcoLogits knows, for the providers it has datacenter figures for.
MODELS = sorted(
    (model.provider.value, model.name)
    for model in models.list_models()
    if model.provider.value in PROVIDER_CONFIG_MAP
)
SOME = [("openai", "gpt-4o"), ("mistralai", "mistral-large-latest"), next(m for m in MODELS if m[0] == "anthropic")]
POINTS = [(1, 0.001), (12, 0.05), (12, 3.0), (300, 0.2), (300, 9.0), (4000, 1.5), (4000, 120.0)]


def test_every_model_of_ecologits_is_covered() -> None:
    assert {"openai", "mistralai", "anthropic", "google_genai"} <= {p for p, _ in MODELS}


@pytest.mark.parametrize(("provider", "model"), MODELS)
def test_the_linear_form_gives_ecologits_own_figures(provider: str, model: str) -> None:
    check(provider, model, None)


@pytest.mark.parametrize(("provider", "model"), SOME)
def test_the_linear_form_follows_the_electricity_mix(provider: str, model: str) -> None:
    check(provider, model, "FRA")


def check(provider: str, model: str, zone: str | None) -> None:
    linear = LinearFootprint.probe(provider, model, zone)
    if not isinstance(linear, LinearFootprint):
        pytest.skip(f"EcoLogits has no figure for {provider}/{model} in this version")
    for tokens, latency in POINTS:
        expected = figures_of(llm_impacts(provider, model, tokens, latency, zone))
        assert expected is not None
        got = linear.figures(tokens, latency)
        assert got.gwp_kg == pytest.approx(expected.gwp_kg, rel=1e-6), (tokens, latency)
        assert got.energy_kwh == pytest.approx(expected.energy_kwh, rel=1e-6), (tokens, latency)
        if expected.water_liters is None:
            assert got.water_liters is None
        else:
            assert got.water_liters == pytest.approx(expected.water_liters, rel=1e-6)


def test_a_model_ecologits_does_not_know_gives_its_errors() -> None:
    answer = LinearFootprint.probe("openai", "gpt-nope", None)
    assert not isinstance(answer, LinearFootprint)
    assert answer.errors
