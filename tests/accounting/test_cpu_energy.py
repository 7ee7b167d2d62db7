"""The embedded model's footprint, from the CPU time it used (EcoLogits has no figure)."""

from __future__ import annotations

import pytest

from routeur_grpc.accounting.cpu_energy import (
    JOULES_PER_KWH,
    WATTS_PER_BUSY_CORE,
    CpuEnergyEstimator,
)
from routeur_grpc.accounting.emissions import EmissionsEstimator, EmissionsInput
from routeur_grpc.domain.completion import CompletionRequest
from routeur_grpc.providers.base import ChatRequest, TextDelta, UsageReport
from routeur_grpc.routing.router import ModelRouter


def test_energy_is_cpu_time_times_power_and_carbon_follows_the_zone() -> None:
    world, france = CpuEnergyEstimator("WOR"), CpuEnergyEstimator("FRA")
    one_hour_of_a_core = world.estimate(3600.0)
    assert one_hour_of_a_core.energy_kwh == pytest.approx(
        3600 * WATTS_PER_BUSY_CORE / JOULES_PER_KWH
    )
    assert one_hour_of_a_core.kg_co2eq > france.estimate(3600.0).kg_co2eq > 0
    assert world.estimate(0.0).kg_co2eq == 0


def test_a_model_without_an_ecologits_figure_uses_its_cpu_time() -> None:
    estimator = EmissionsEstimator("FRA")
    measured = estimator.estimate(
        EmissionsInput(provider=None, model="local/x", output_tokens=10, latency_s=1.0, cpu_s=2.0)
    )
    assert measured is not None and measured.kg_co2eq > 0 and measured.energy_kwh > 0
    unmeasured = estimator.estimate(
        EmissionsInput(provider=None, model="local/x", output_tokens=10, latency_s=1.0)
    )
    assert unmeasured is None


class MeasuredLocal:
    """An in-process provider that reports the CPU time it used, as the llama.cpp one does."""

    name = "local"

    async def list_models(self):  # type: ignore[no-untyped-def]
        from routeur_grpc.providers.base import ProviderModel

        return [ProviderModel(name="local/smollm2-135m-instruct")]

    async def stream_chat(self, request: ChatRequest):  # type: ignore[no-untyped-def]
        yield TextDelta("Bonjour")
        yield UsageReport(5, 3, cpu_s=1.5)

    async def aclose(self) -> None:
        pass


async def test_the_embedded_model_answers_with_a_carbon_figure() -> None:
    router = ModelRouter([MeasuredLocal()], {"local": "local"})
    await router.start()
    request = CompletionRequest(message="hi", model="local/smollm2-135m-instruct")
    *_, last = [chunk async for chunk in router.stream(request)]
    assert last.metadata.energy_kwh == pytest.approx(1.5 * WATTS_PER_BUSY_CORE / JOULES_PER_KWH, rel=1e-3)
    assert last.metadata.emissions_kg_co2eq > 0
    assert last.metadata.equivalences is not None and last.metadata.equivalences.car_km > 0
