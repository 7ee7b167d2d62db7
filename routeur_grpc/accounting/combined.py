"""The accounting of several model calls made for one request, as one `CompletionMetadata`.

An analysis may ask its model twice (the second time with the first answer's problem
explained). The caller is billed for both, so the metadata it gets sums them: tokens per
model and in total, costs per model, emissions, equivalences (all proportional to the
footprint, so they add up) and the time spent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from routeur_grpc.domain.completion import (
    CompletionMetadata,
    Equivalences,
    ModelCost,
    Pricing,
    TokenUsage,
)


def combine(parts: Sequence[CompletionMetadata]) -> CompletionMetadata:
    """One metadata for every call in `parts` (labelled like the last one)."""
    if not parts:
        raise ValueError("nothing to combine")
    if len(parts) == 1:
        return parts[0]
    usage_by_model: dict[str, TokenUsage] = {}
    costs: dict[str, ModelCost] = {}
    for part in parts:
        for model, usage in part.usage_by_model.items():
            usage_by_model[model] = usage_by_model.get(model, TokenUsage()) + usage
        if part.pricing is not None:
            for model, cost in part.pricing.by_model.items():
                known = costs.get(model, ModelCost(0.0, 0.0))
                costs[model] = ModelCost(known.input + cost.input, known.output + cost.output)
    total = TokenUsage()
    for part in parts:
        total = total + part.usage
    priced = [part.pricing for part in parts if part.pricing is not None]
    return replace(
        parts[-1],
        message_count=max(part.message_count for part in parts),
        latency_s=round(sum(part.latency_s for part in parts), 6),
        usage=total,
        usage_by_model=usage_by_model,
        emissions_kg_co2eq=_sum_known([part.emissions_kg_co2eq for part in parts]),
        energy_kwh=_sum_known([part.energy_kwh for part in parts]),
        pricing=Pricing(priced[0].currency, costs) if priced else None,
        equivalences=_sum_equivalences([part.equivalences for part in parts]),
    )


def _sum_known(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None


def _sum_equivalences(values: Sequence[Equivalences | None]) -> Equivalences | None:
    known = [value for value in values if value is not None]
    if not known:
        return None
    return Equivalences(
        water_liters=sum(value.water_liters for value in known),
        car_km=sum(value.car_km for value in known),
        tgv_km=sum(value.tgv_km for value in known),
        smartphone_charges=sum(value.smartphone_charges for value in known),
    )
