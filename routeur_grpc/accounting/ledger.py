"""The accounts of one completion, kept while it runs and closed into `CompletionMetadata`.

The router notes every model it touched (fallbacks included, with zero tokens when an
attempt failed before producing any), the tokens each used and how long it worked; the
`Accountant` turns that into usage, pricing, emissions and equivalences. It is called for
every ending: success, failure after the first token, and cancellation (nobody reads the
result then, but it is still recorded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routeur_grpc.accounting.emissions import EmissionsEstimator, EmissionsInput
from routeur_grpc.accounting.equivalences import equivalences
from routeur_grpc.accounting.pricing import PriceList
from routeur_grpc.domain.completion import (
    AttemptNote,
    CompletionMetadata,
    Equivalences,
    TokenUsage,
    round_footprint,
)
from routeur_grpc.domain.model_entry import ModelEntry


@dataclass(slots=True)
class _Line:
    entry: ModelEntry
    usage: TokenUsage = field(default_factory=TokenUsage)
    latency_s: float = 0.0
    cpu_s: float | None = None


class UsageLedger:
    """Per-model tokens and working time of one request, in the order models were tried."""

    def __init__(self) -> None:
        self._lines: dict[str, _Line] = {}

    def touch(self, entry: ModelEntry) -> None:
        """Note that `entry` was tried (it appears in `usage_by_model` even at zero)."""
        self._lines.setdefault(entry.name, _Line(entry))

    def add(
        self, entry: ModelEntry, usage: TokenUsage, latency_s: float, cpu_s: float | None = None
    ) -> None:
        """Book `usage` (and, for a model run in this process, its measured CPU time)."""
        line = self._lines.setdefault(entry.name, _Line(entry))
        line.usage = line.usage + usage
        line.latency_s += latency_s
        if cpu_s is not None:
            line.cpu_s = (line.cpu_s or 0.0) + cpu_s

    @property
    def usage_by_model(self) -> dict[str, TokenUsage]:
        return {name: line.usage for name, line in self._lines.items()}

    @property
    def total(self) -> TokenUsage:
        total = TokenUsage()
        for line in self._lines.values():
            total = total + line.usage
        return total

    def emissions_inputs(self) -> list[EmissionsInput]:
        return [
            EmissionsInput(
                provider=line.entry.emissions_provider,
                model=line.entry.emissions_model,
                output_tokens=line.usage.completion_tokens,
                latency_s=line.latency_s,
                cpu_s=line.cpu_s,
            )
            for line in self._lines.values()
            if line.usage.completion_tokens > 0
        ]


class Accountant:
    """Closes a ledger into the accounting of a response."""

    def __init__(self, prices: PriceList, emissions: EmissionsEstimator) -> None:
        self._prices = prices
        self._emissions = emissions

    def metadata(
        self,
        ledger: UsageLedger,
        *,
        model: str,
        agent: str,
        message_count: int,
        latency_s: float,
        requested_model: str = "",
        fallback_reason: str = "",
        attempts: tuple[AttemptNote, ...] = (),
    ) -> CompletionMetadata:
        """Usage, price and footprint of everything in `ledger`; figures rounded (money to
        `MONEY_DECIMALS`, footprints to `FOOTPRINT_SIGNIFICANT_DIGITS`)."""
        usage_by_model = ledger.usage_by_model
        emissions = self._emissions.total(ledger.emissions_inputs())
        return CompletionMetadata(
            model=model,
            agent=agent,
            requested_model=requested_model,
            fallback_reason=fallback_reason,
            attempts=attempts,
            message_count=message_count,
            latency_s=round(latency_s, 6),
            usage=ledger.total,
            usage_by_model=usage_by_model,
            emissions_kg_co2eq=(
                round_footprint(emissions.kg_co2eq) if emissions is not None else None
            ),
            energy_kwh=round_footprint(emissions.energy_kwh) if emissions is not None else None,
            pricing=self._prices.pricing(usage_by_model),
            equivalences=_rounded(equivalences(emissions)) if emissions is not None else None,
        )


def _rounded(figures: Equivalences) -> Equivalences:
    return Equivalences(
        water_liters=round_footprint(figures.water_liters),
        car_km=round_footprint(figures.car_km),
        tgv_km=round_footprint(figures.tgv_km),
        smartphone_charges=round_footprint(figures.smartphone_charges),
    )
