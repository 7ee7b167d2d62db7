"""Pricing, emissions and equivalences for a completion."""

from __future__ import annotations

import logging

import pytest

from routeur_grpc.accounting.emissions import (
    Emissions,
    EmissionsEstimator,
    EmissionsInput,
    middle,
)
from routeur_grpc.accounting.equivalences import (
    CAR_KG_CO2E_PER_KM,
    SMARTPHONE_CHARGE_KG_CO2E,
    TGV_KG_CO2E_PER_KM,
    WATER_LITERS_PER_KWH,
    equivalences,
)
from routeur_grpc.accounting.pricing import CurrencyConverter, PriceList
from routeur_grpc.domain.completion import TokenUsage
from routeur_grpc.routing.catalog import ModelCatalog


@pytest.fixture(scope="module")
def catalog() -> ModelCatalog:
    return ModelCatalog.load()


def test_pricing_in_eur_from_usd_list_prices(catalog: ModelCatalog) -> None:
    prices = PriceList(catalog, "EUR", CurrencyConverter.usd_eur(0.9))
    usage = {
        "gpt-4o": TokenUsage(1_000, 2_000),
        "local/smollm2-135m-instruct": TokenUsage(50, 60),
    }
    pricing = prices.pricing(usage)
    assert pricing.currency == "EUR"
    gpt = pricing.by_model["gpt-4o"]
    assert gpt.input == pytest.approx(1_000 * 2.50 / 1e6 * 0.9)
    assert gpt.output == pytest.approx(2_000 * 10.00 / 1e6 * 0.9)
    assert pricing.by_model["local/smollm2-135m-instruct"].total == 0
    assert pricing.total_cost == pytest.approx(gpt.total)


def test_pricing_in_the_catalog_currency_is_not_converted(catalog: ModelCatalog) -> None:
    prices = PriceList(catalog, "usd")
    cost = prices.cost("gpt-4", TokenUsage(1000, 1000))
    assert cost is not None
    assert (cost.input, cost.output) == (pytest.approx(0.03), pytest.approx(0.06))
    price = prices.price("mistral-large")
    assert price is not None and price.input_per_million == 2.0 and price.currency == "USD"


def test_unknown_models_are_left_out_of_the_pricing(
    catalog: ModelCatalog, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        pricing = PriceList(catalog).pricing({"mystery": TokenUsage(1, 1)})
    assert pricing.by_model == {} and pricing.total_cost == 0
    assert "mystery" in caplog.text


def test_currency_without_a_rate_is_refused(catalog: ModelCatalog) -> None:
    with pytest.raises(ValueError):
        PriceList(catalog, "JPY")


def test_the_figure_of_a_range_is_its_middle() -> None:
    assert middle((1.0, 3.0)) == 2.0
    assert middle((0.5, 0.5)) == 0.5


@pytest.mark.parametrize(
    ("provider", "model"),
    [
        ("openai", "gpt-4o"),  # closed model: EcoLogits gives a range
        ("mistralai", "mistral-large-latest"),  # a single value
        ("huggingface_hub", "meta-llama/Meta-Llama-3-8B-Instruct"),
    ],
)
def test_emissions_for_known_models(provider: str, model: str) -> None:
    estimator = EmissionsEstimator()
    small = estimator.estimate(EmissionsInput(provider, model, 100, 1.0))
    large = estimator.estimate(EmissionsInput(provider, model, 1000, 10.0))
    assert small is not None and large is not None
    assert 0 < small.kg_co2eq < large.kg_co2eq
    assert 0 < small.energy_kwh < large.energy_kwh
    assert small.g_co2eq == pytest.approx(small.kg_co2eq * 1000)
    assert small.water_liters is not None and small.water_liters > 0


def test_unknown_model_gives_no_figure_and_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    estimator = EmissionsEstimator()
    with caplog.at_level(logging.WARNING, logger="routeur_grpc.accounting.emissions"):
        assert estimator.estimate(EmissionsInput("openai", "gpt-nope", 10, 1.0)) is None
        assert estimator.estimate(EmissionsInput("openai", "gpt-nope", 10, 1.0)) is None
        assert estimator.estimate(EmissionsInput(None, "local/x", 10, 1.0)) is None
    ours = [r for r in caplog.records if r.name == "routeur_grpc.accounting.emissions"]
    assert len(ours) == 2


def test_total_sums_the_models_with_a_figure() -> None:
    estimator = EmissionsEstimator()
    a = EmissionsInput("openai", "gpt-4o-mini", 100, 1.0)
    b = EmissionsInput("mistralai", "mistral-small-latest", 100, 1.0)
    total = estimator.total([a, b, EmissionsInput(None, "local/x", 5, 1.0)])
    first, second = estimator.estimate(a), estimator.estimate(b)
    assert total is not None and first is not None and second is not None
    assert total.kg_co2eq == pytest.approx(first.kg_co2eq + second.kg_co2eq)
    assert estimator.total([EmissionsInput(None, "local/x", 5, 1.0)]) is None


def test_zero_output_tokens_costs_nothing() -> None:
    assert EmissionsEstimator().estimate(EmissionsInput("openai", "gpt-4o", 0, 0.2)) == Emissions(0, 0, 0)


def test_equivalences_use_the_documented_factors() -> None:
    eq = equivalences(Emissions(kg_co2eq=0.00042, energy_kwh=0.001, water_liters=0.3))
    assert eq.water_liters == 0.3
    assert eq.car_km == pytest.approx(0.00042 / CAR_KG_CO2E_PER_KM)
    assert eq.tgv_km == pytest.approx(0.00042 / TGV_KG_CO2E_PER_KM)
    assert eq.smartphone_charges == pytest.approx(0.00042 / SMARTPHONE_CHARGE_KG_CO2E)
    # A TGV km emits far less than a car km: the same CO2 goes further by train.
    assert eq.tgv_km > eq.car_km
    no_water = equivalences(Emissions(kg_co2eq=0.001, energy_kwh=0.002))
    assert no_water.water_liters == pytest.approx(0.002 * WATER_LITERS_PER_KWH)
