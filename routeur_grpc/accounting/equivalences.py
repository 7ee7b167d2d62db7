"""Everyday equivalents of a completion's footprint (the `equivalences` JSON key of the CAPL Routeur IA API).

Each factor is a named constant with its source. Distances and charges are derived from the
carbon figure (kg CO2e); water is the water EcoLogits estimates the request consumed (its
usage-phase water consumption footprint), or, when it gives none, the energy times an
average datacenter water intensity.
"""

from __future__ import annotations

from routeur_grpc.accounting.emissions import Emissions
from routeur_grpc.domain.completion import Equivalences

#: kg CO2e per km driven in an average combustion-engine car, one occupant.
#: Source: ADEME Base Empreinte, as published by impactco2.fr ("Voiture thermique", 2023).
CAR_KG_CO2E_PER_KM = 0.218

#: kg CO2e per passenger-km on a French TGV high-speed train.
#: Source: ADEME Base Empreinte / SNCF Voyageurs, as published by impactco2.fr ("TGV").
TGV_KG_CO2E_PER_KM = 0.00293

#: kg CO2 per full charge of a smartphone (0.0124 kWh at the US average grid intensity).
#: Source: US EPA, "Greenhouse Gas Equivalencies Calculator - Calculations and References",
#: smartphones charged: 8.22 x 10^-6 metric tons CO2 per charge.
SMARTPHONE_CHARGE_KG_CO2E = 8.22e-3

#: Litres of water per kWh when EcoLogits gives no water figure: on-site cooling water of an
#: average datacenter. Source: Shehabi et al., "United States Data Center Energy Usage
#: Report", Lawrence Berkeley National Laboratory, 2016 (1.8 L/kWh).
WATER_LITERS_PER_KWH = 1.8


def equivalences(emissions: Emissions) -> Equivalences:
    """The footprint of `emissions` in litres of water, car and TGV km, phone charges."""
    water = emissions.water_liters
    if water is None:
        water = emissions.energy_kwh * WATER_LITERS_PER_KWH
    return Equivalences(
        water_liters=water,
        car_km=emissions.kg_co2eq / CAR_KG_CO2E_PER_KM,
        tgv_km=emissions.kg_co2eq / TGV_KG_CO2E_PER_KM,
        smartphone_charges=emissions.kg_co2eq / SMARTPHONE_CHARGE_KG_CO2E,
    )
