"""Carbon footprint, energy and water of a completion, estimated offline with EcoLogits.

`ecologits.tracers.utils.llm_impacts(provider, model_name, output_token_count,
request_latency, electricity_mix_zone)` models the inference from the model's (estimated)
parameter count, the tokens generated and the latency, using the provider's datacenter PUE/WUE
and the electricity mix of a zone (default: the provider's datacenter location).

Its figures are a single value for models whose architecture is published, and a min/max
range otherwise (most closed models). Routeur reports one number: the middle of the range,
(min + max) / 2, EcoLogits' own central estimate. A model EcoLogits does not know gives no
figure (None) and a warning in the logs, never an error: accounting must not fail a request.
EcoLogits is asked once per model (`ecologits_linear`), not once per request.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from routeur_grpc.accounting.cpu_energy import CpuEnergyEstimator
from routeur_grpc.accounting.ecologits_linear import Ends, LinearFootprint

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Emissions:
    """Impacts of one request (or the sum over the models it touched)."""

    kg_co2eq: float
    energy_kwh: float
    water_liters: float | None = None

    @property
    def g_co2eq(self) -> float:
        return self.kg_co2eq * 1000

    def __add__(self, other: Emissions) -> Emissions:
        water = None
        if self.water_liters is not None or other.water_liters is not None:
            water = (self.water_liters or 0.0) + (other.water_liters or 0.0)
        return Emissions(self.kg_co2eq + other.kg_co2eq, self.energy_kwh + other.energy_kwh, water)


@dataclass(frozen=True, slots=True)
class EmissionsInput:
    """What one model did in a request, as EcoLogits needs it."""

    provider: str | None  # EcoLogits' provider name; None: no figure for this model
    model: str
    output_tokens: int
    latency_s: float
    cpu_s: float | None = None  # measured CPU time, for models run in this process


def middle(value: Ends) -> float:
    """The middle of a (min, max) range; a single value as is."""
    return (value[0] + value[1]) / 2


class EmissionsEstimator:
    """Wraps EcoLogits; reads each model's figures once (`LinearFootprint`), and remembers
    which models it already warned or noted about."""

    def __init__(self, electricity_mix_zone: str | None = None) -> None:
        self._zone = electricity_mix_zone
        self._cpu = CpuEnergyEstimator(electricity_mix_zone)
        self._footprints: dict[tuple[str, str], LinearFootprint | None] = {}
        self._warned: set[tuple[str | None, str]] = set()

    def estimate(self, item: EmissionsInput) -> Emissions | None:
        """The impacts of one model's part of a request, or None if EcoLogits cannot tell."""
        if item.output_tokens <= 0:
            return Emissions(0.0, 0.0, 0.0)
        if not item.provider and item.cpu_s is not None:
            footprint = self._cpu.estimate(item.cpu_s)  # a model run in this process
            return Emissions(footprint.kg_co2eq, footprint.energy_kwh, footprint.water_liters)
        if not item.provider:
            self._warn_once(item.provider, item.model, "no EcoLogits provider for this model")
            return None
        linear = self._footprint(item.provider, item.model)
        if linear is None:
            return None
        figures = linear.figures(item.output_tokens, max(item.latency_s, 1e-3))
        water = figures.water_liters
        return Emissions(
            kg_co2eq=middle(figures.gwp_kg),
            energy_kwh=middle(figures.energy_kwh),
            water_liters=middle(water) if water is not None else None,
        )

    def _footprint(self, provider: str, model: str) -> LinearFootprint | None:
        key = (provider, model)
        if key in self._footprints:
            return self._footprints[key]
        try:
            probed = LinearFootprint.probe(provider, model, self._zone)
        except Exception:  # a bug or data gap in EcoLogits must not fail the request
            log.exception("EcoLogits failed for %s/%s", provider, model)
            return None  # not remembered: tried again next time
        footprint = probed if isinstance(probed, LinearFootprint) else None
        if footprint is None:
            codes = ", ".join(error.code for error in probed.errors or []) or "no figure"
            self._warn_once(provider, model, codes)
        elif footprint.warnings:
            log.info(
                "emissions of model %s are approximate: %s", model, ", ".join(footprint.warnings)
            )
        self._footprints[key] = footprint
        return footprint

    def total(self, items: Iterable[EmissionsInput]) -> Emissions | None:
        """Sum over every model of a request; None if none of them has a figure."""
        result: Emissions | None = None
        for item in items:
            estimate = self.estimate(item)
            if estimate is not None:
                result = estimate if result is None else result + estimate
        return result

    def _warn_once(self, provider: str | None, model: str, why: str) -> None:
        if (provider, model) not in self._warned:
            self._warned.add((provider, model))
            log.warning(
                "no emissions figure for model %s (provider %s): %s", model, provider or "-", why
            )
