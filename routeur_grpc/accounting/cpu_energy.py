"""Energy and carbon of a model run in this process, from the CPU time it used.

EcoLogits has no figure for the embedded model, so Routeur measures it. Method:

    energy (kWh)  = CPU seconds × WATTS_PER_BUSY_CORE / 3.6e6
    carbon (kg)   = energy × the electricity mix of the configured zone (kgCO2eq/kWh,
                    EcoLogits' table; `ROUTEUR_ELECTRICITY_MIX_ZONE`, world average `WOR`
                    when none is set)
    water (L)     = energy × that mix's water intensity

CPU seconds are the process's CPU time (every thread: llama.cpp computes in its own) while
the model generated, as the local provider measures it around each generation.

Error bars — read the figure as an order of magnitude, about ±50 %:
- power: `WATTS_PER_BUSY_CORE` = 10 W is a typical share of one busy core in current x86
  servers and desktops (a 200–250 W package over 16–32 cores: 6–15 W a core); the real
  figure depends on the CPU, its frequency and how many cores run at once;
- CPU time counts the whole process: other requests handled meanwhile (little, next to
  llama.cpp's arithmetic) are included; memory, disks, idle power, cooling (PUE) and the
  machine's manufacture are not (EcoLogits' figures for remote models include some of
  those), so the estimate leans low;
- the zone's mix is a yearly average, not the grid at that hour.
"""

from __future__ import annotations

from dataclasses import dataclass

from ecologits.electricity_mix_repository import electricity_mixes

#: Power drawn by one fully busy CPU core, watts (see the module docstring).
WATTS_PER_BUSY_CORE = 10.0
#: The electricity mix used when no zone is configured: the world average.
DEFAULT_ZONE = "WOR"
JOULES_PER_KWH = 3.6e6


@dataclass(frozen=True, slots=True)
class CpuFootprint:
    energy_kwh: float
    kg_co2eq: float
    water_liters: float


class CpuEnergyEstimator:
    """Turns CPU seconds into energy, carbon and water for one electricity mix zone."""

    def __init__(self, zone: str | None = None, watts_per_core: float = WATTS_PER_BUSY_CORE):
        mix = electricity_mixes.find_electricity_mix(zone or DEFAULT_ZONE)
        if mix is None:
            mix = electricity_mixes.find_electricity_mix(DEFAULT_ZONE)
        assert mix is not None, "EcoLogits ships the world average mix"
        self._gwp_kg_per_kwh = mix.gwp
        self._water_l_per_kwh = mix.wue
        self._watts = watts_per_core

    def estimate(self, cpu_s: float) -> CpuFootprint:
        energy = max(cpu_s, 0.0) * self._watts / JOULES_PER_KWH
        return CpuFootprint(
            energy_kwh=energy,
            kg_co2eq=energy * self._gwp_kg_per_kwh,
            water_liters=energy * self._water_l_per_kwh,
        )
