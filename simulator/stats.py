"""Sanity figures of a physical run, each beside the range one expects in France.

Degree days come from a whole calendar year of the territory's weather (a week of January says
nothing about a year); the energy intensities are scaled to a year from the simulated period, so
they read right only for runs that cover the seasons (``--days 365``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from simulator.physics import PhysicsRun
from simulator.territory import Territory
from simulator.weather import simulate_weather

# Plausible French ranges (low, high) and where they come from.
RANGES: dict[str, tuple[float, float, str]] = {
    "degree_days": (2_300, 2_900, "DJU base 18 °C, Nord / Cambrai, Météo-France method"),
    "kwh_m2_school": (90, 220, "enseignement, final energy, OPERAT/CEREN"),
    "kwh_m2_town_hall": (110, 260, "bureaux administratifs"),
    "kwh_m2_offices": (110, 260, "bureaux"),
    "kwh_m2_gym": (80, 260, "équipements sportifs (gymnases)"),
    "kwh_m2_media_library": (100, 250, "culture (bibliothèques)"),
    "kwh_m2_pool": (500, 3_500, "piscines couvertes, per m² of floor"),
    "litres_household_day": (180, 400, "~150 L/person/day × 2.2 persons (SISPEA)"),
    "peak_carpool_occupancy_pct": (50, 100, "weekday peak of instrumented carpool areas"),
}


@dataclass(frozen=True, slots=True)
class Figure:
    key: str
    label: str
    value: float
    unit: str

    @property
    def plausible(self) -> bool:
        low, high, _ = RANGES[self.key]
        return low <= self.value <= high

    def line(self) -> str:
        low, high, source = RANGES[self.key]
        mark = "ok" if self.plausible else "OUT OF RANGE"
        return (
            f"{self.label:<42} {self.value:>10,.0f} {self.unit:<12} "
            f"[{low:,.0f} – {high:,.0f}] {mark}  ({source})"
        )


def figures(
    territory: Territory, run: PhysicsRun, start: datetime, days: int, seed: int
) -> list[Figure]:
    out = []
    year = datetime(start.year, 1, 1, tzinfo=UTC)
    weather = simulate_weather(territory.climate, year, 365, seed)
    out.append(
        Figure("degree_days", "Annual degree days (base 18 °C)", weather.degree_days(), "°C·d")
    )
    per_kind: dict[str, list[float]] = defaultdict(list)
    area_of: dict[str, float] = defaultdict(float)
    for b in territory.buildings:
        building = run.buildings.get(b.code)
        if building is None or b.floor_area_m2 <= 0:
            continue
        kwh = float(building.electricity_kw.sum() + building.gas_kw.sum()) * 0.25
        per_kind[b.kind.value].append(kwh * 365 / days)
        area_of[b.kind.value] += b.floor_area_m2
    for kind, totals in sorted(per_kind.items()):
        key = f"kwh_m2_{kind}"
        if key in RANGES:
            label = f"kWh/m²/yr, {kind.replace('_', ' ')} ({len(totals)})"
            out.append(Figure(key, label, sum(totals) / area_of[kind], "kWh/m²/yr"))
    litres = []
    for s in territory.sectors:
        for h in s.households:
            truth = run.truths.get(h.meter.dev_eui)
            if truth is not None and "volume_m3" in truth.values:
                v = truth.values["volume_m3"]
                span_days = (len(v) - 1) * truth.step.total_seconds() / 86_400
                litres.append(float(v[-1] - v[0]) * 1000 / max(span_days, 1e-9))
    if litres:
        out.append(
            Figure(
                "litres_household_day",
                "Litres per household per day",
                float(np.mean(litres)),
                "L/hh/d",
            )
        )
    peaks = []
    for a in territory.areas:
        series = [
            run.truths[s.device.dev_eui].values["occupied"]
            for s in a.spaces
            if s.device.dev_eui in run.truths
        ]
        if series:
            peaks.append(float(np.max(np.sum(series, axis=0))) / len(series) * 100)
    if peaks:
        out.append(
            Figure(
                "peak_carpool_occupancy_pct",
                "Peak carpool occupancy (mean of areas)",
                float(np.mean(peaks)),
                "%",
            )
        )
    return out


def report(figs: list[Figure]) -> str:
    return "\n".join(f.line() for f in figs)
