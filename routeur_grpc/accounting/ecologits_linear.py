"""EcoLogits' figures for one model, as the linear function of tokens and time that they are.

EcoLogits models a generation from the model's parameters, the tokens generated `t` and the
generation latency `g`: the GPUs' energy grows with `t`, the rest of the server's energy and
the hardware's manufacture (embodied impacts) grow with `g`, and every figure is a sum of
those two, times constants of the model, its provider and the electricity mix. So each
figure is `a·t + b·g`, where

    g = L                when the measured latency L is below the model's expected one,
    g = lpt·t + ttft     otherwise (the expected: latency per token, time to first token).

Figures given as a min/max range (a model whose size is a range, a datacenter whose PUE is
one) follow the same form at each end, EcoLogits computing each end on its own.

Calling EcoLogits costs about 0.3 ms of CPU a request (it rebuilds and sorts its
computation graph and validates its pydantic output each time), more than the rest of
the accounting. Here it is called a few times per model, once, to read `a`, `b`, `lpt` and
`ttft` off its own results; each request then costs a few multiplications.
`tests/accounting/test_ecologits_linear.py` checks the result against EcoLogits itself on
many points (tokens, latency below and above the expected one) for every provider, so an
EcoLogits release that changes the form of its model is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ecologits.tracers.utils import ImpactsOutput, llm_impacts

#: Latencies (seconds) far below any model's expected latency for one token, and far above
#: any for two: where EcoLogits uses the measured latency, and where it uses its own.
_TINY = (1e-6, 2e-6)
_HUGE = 1e7

Ends = tuple[float, float]  # (min, max); equal for a single value


def ends(value: Any) -> Ends:
    """An EcoLogits value as (min, max): a `RangeValue`'s ends, or a float twice."""
    if hasattr(value, "min") and hasattr(value, "max"):
        return float(value.min), float(value.max)
    return float(value), float(value)


@dataclass(frozen=True, slots=True)
class Figures:
    """One request's impacts, each as its (min, max) ends; water may be unknown."""

    gwp_kg: Ends
    energy_kwh: Ends
    water_liters: Ends | None


def figures_of(impacts: ImpactsOutput) -> Figures | None:
    if impacts.gwp is None or impacts.energy is None:
        return None
    water = ends(impacts.wcf.value) if impacts.wcf is not None else None
    return Figures(ends(impacts.gwp.value), ends(impacts.energy.value), water)


@dataclass(frozen=True, slots=True)
class _Line:
    """One figure at one end: `per_token·t + per_second·g`."""

    per_token: float
    per_second: float

    def at(self, tokens: int, generation_s: float) -> float:
        return self.per_token * tokens + self.per_second * generation_s


@dataclass(frozen=True, slots=True)
class LinearFootprint:
    """A model's EcoLogits figures as linear functions, read once from EcoLogits."""

    lines: tuple[tuple[_Line, _Line], ...]  # per figure (gwp, energy[, water]): (min, max)
    latency_per_token: Ends
    first_token_s: Ends
    has_water: bool
    warnings: tuple[str, ...]

    @classmethod
    def probe(cls, provider: str, model: str, zone: str | None) -> LinearFootprint | ImpactsOutput:
        """The model's linear form, or EcoLogits' answer when it has no figure for it."""

        def run(tokens: int, latency_s: float) -> ImpactsOutput:
            return llm_impacts(
                provider=provider,
                model_name=model,
                output_token_count=tokens,
                request_latency=latency_s,
                electricity_mix_zone=zone,
            )

        first = run(1, _TINY[0])
        base = figures_of(first)
        if base is None:
            return first
        slower = figures_of(run(1, _TINY[1]))
        longer = figures_of(run(2, _TINY[0]))
        expected_1 = figures_of(run(1, _HUGE))
        expected_2 = figures_of(run(2, _HUGE))
        assert slower and longer and expected_1 and expected_2  # same model, same answer
        has_water = base.water_liters is not None
        names = ("gwp_kg", "energy_kwh", "water_liters") if has_water else ("gwp_kg", "energy_kwh")
        lines = []
        for name in names:
            pair = []
            for end in (0, 1):
                y1 = getattr(base, name)[end]
                per_second = (getattr(slower, name)[end] - y1) / (_TINY[1] - _TINY[0])
                per_token = getattr(longer, name)[end] - y1
                pair.append(_Line(per_token, per_second))
            lines.append((pair[0], pair[1]))
        # The expected generation latency g(t) = lpt·t + ttft, from the energy at huge L.
        energy = lines[1]
        lpt, ttft = [], []
        for end in (0, 1):
            line = energy[end]
            g1 = (expected_1.energy_kwh[end] - line.per_token) / line.per_second
            g2 = (expected_2.energy_kwh[end] - 2 * line.per_token) / line.per_second
            lpt.append(g2 - g1)
            ttft.append(g1 - (g2 - g1))
        return cls(
            lines=tuple(lines),
            latency_per_token=(lpt[0], lpt[1]),
            first_token_s=(ttft[0], ttft[1]),
            has_water=has_water,
            warnings=tuple(warning.code for warning in first.warnings or ()),
        )

    def figures(self, tokens: int, latency_s: float) -> Figures:
        """What EcoLogits would answer for `tokens` generated in `latency_s` seconds."""
        expected = tuple(
            self.latency_per_token[end] * tokens + self.first_token_s[end] for end in (0, 1)
        )
        # Each end keeps the measured latency when it is below that end's expected one.
        generation = tuple(min(latency_s, expected[end]) for end in (0, 1))
        values = [
            (pair[0].at(tokens, generation[0]), pair[1].at(tokens, generation[1]))
            for pair in self.lines
        ]
        return Figures(values[0], values[1], values[2] if self.has_water else None)
