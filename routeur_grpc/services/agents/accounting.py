"""One request's accounting from the accounting of each model call an agent made.

Tokens, prices, emissions and their equivalents add up per model and in total; the latency
is the run's own (from the request's arrival to its end), not the sum of the calls'.
"""

from __future__ import annotations

from collections.abc import Sequence

from routeur_grpc.domain.completion import (
    AgentStep,
    CompletionMetadata,
    Equivalences,
    ModelCost,
    Pricing,
    SourceChunk,
    TokenUsage,
    ToolStep,
)


def merge_metadata(
    calls: Sequence[CompletionMetadata],
    *,
    model: str,
    agent: str,
    currency: str,
    message_count: int,
    latency_s: float,
    steps: Sequence[AgentStep] = (),
    chunks: Sequence[SourceChunk] = (),
    tool_calls: Sequence[ToolStep] = (),
) -> CompletionMetadata:
    """The sum of `calls`, labelled with the answering `model` and the `agent`."""
    usage_by_model: dict[str, TokenUsage] = {}
    costs: dict[str, ModelCost] = {}
    emissions: float | None = None
    energy: float | None = None
    equivalences: Equivalences | None = None
    for call in calls:
        for name, usage in call.usage_by_model.items():
            usage_by_model[name] = usage_by_model.get(name, TokenUsage()) + usage
        if call.pricing is not None:
            currency = call.pricing.currency
            for name, cost in call.pricing.by_model.items():
                before = costs.get(name, ModelCost(0.0, 0.0))
                costs[name] = ModelCost(before.input + cost.input, before.output + cost.output)
        if call.emissions_kg_co2eq is not None:
            emissions = (emissions or 0.0) + call.emissions_kg_co2eq
        if call.energy_kwh is not None:
            energy = (energy or 0.0) + call.energy_kwh
        if call.equivalences is not None:
            equivalences = _add(equivalences, call.equivalences)
    total = TokenUsage()
    for usage in usage_by_model.values():
        total = total + usage
    return CompletionMetadata(
        model=model,
        agent=agent,
        message_count=message_count,
        latency_s=round(latency_s, 6),
        usage=total,
        usage_by_model=usage_by_model,
        emissions_kg_co2eq=emissions,
        energy_kwh=energy,
        pricing=Pricing(currency, costs),
        equivalences=equivalences,
        steps=tuple(steps),
        chunks=tuple(chunks),
        tool_calls=tuple(tool_calls),
    )


def _add(left: Equivalences | None, right: Equivalences) -> Equivalences:
    # Each equivalence is proportional to the emissions, so they add like the emissions do.
    if left is None:
        return right
    return Equivalences(
        water_liters=left.water_liters + right.water_liters,
        car_km=left.car_km + right.car_km,
        tgv_km=left.tgv_km + right.tgv_km,
        smartphone_charges=left.smartphone_charges + right.smartphone_charges,
    )
