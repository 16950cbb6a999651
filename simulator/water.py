"""Water: household and building demand, and each sector's inflow.

Households (hourly): water is drawn in events (a tap, a flush, a shower) — a Poisson number per
hour whose rate follows a French daily shape (morning peak 07-09 h, lunch, evening peak 19-22 h;
later mornings at weekends), times a gamma-distributed volume. A household's level is
``persons × 105 L/day × lognormal(σ = 0.4)``, varied day to day (σ = 0.3) and by its sector's
demand factor (season, shared day-to-day swings: :mod:`simulator.network`), with days away (3 %
of days, and a 1-3 week summer absence for 40 % of homes). Calibrated on the DAIAD homes
(Spain, 92 homes, complete days): mean 250 L/household/day, median 226, ~50 % of hours with
zero flow; here ~2.3 persons per home give ~240 L/day and ~45-55 % zero hours.

Buildings (15 min): litres per occupant-hour by kind (toilets, canteen, showers; pools also
renew water, 30 L per bather), drawn in irregular quarter hours; a pool also makes up
evaporation and backwash all day through its float valve, a steady flow that drifts slowly
(±5 %), not from one quarter hour to the next.

Sectors (15 min): inflow = households + buildings of the sector + unmetered night watering +
background losses + network leaks and bursts (:mod:`simulator.network`).

Faults: ``household_leak`` (5-50 L/h continuous, 3-30 days, ~8 % of homes a year),
``building_leak`` (20-200 L/h, 3-30 days), ``sector_leak`` (abrupt or incipient, 3-25 % of the
sector's demand, running for months) and ``burst`` (8-40 m³/h for 2-12 h). Magnitudes in L/h
for customers, m³/h for the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from core.calendar import DayKind, FrenchCalendar
from simulator.buildings import BuildingRun
from simulator.network import (
    LITRES_PER_PERSON_DAY,
    background_losses,
    demand_factor,
    network_leaks,
    night_watering,
)
from simulator.territory import BuildingKind, Household, Sector
from simulator.truth import Fault, FloatArray
from simulator.weather import HOUR, LocalClock, stream

QUARTER = timedelta(minutes=15)
EVENT_L = 9.0  # mean volume of one draw-off
EVENT_SHAPE = 1.2

# Share of the day's volume per local hour (normalised below).
_WEEKDAY = np.array(
    [0.6, 0.4, 0.3, 0.3, 0.3, 0.6, 2.0, 5.5, 6.5, 5.0, 4.0, 4.0,
     5.0, 4.5, 3.5, 3.0, 3.0, 3.5, 5.0, 6.5, 7.0, 6.0, 4.5, 2.5]
)  # fmt: skip
_WEEKEND = np.array(
    [1.0, 0.6, 0.4, 0.3, 0.3, 0.3, 0.6, 1.5, 3.5, 6.0, 7.0, 6.5,
     6.0, 5.0, 4.0, 3.5, 3.5, 4.0, 5.0, 6.0, 6.5, 5.5, 4.5, 2.5]
)  # fmt: skip
SHAPES = np.stack([_WEEKDAY / _WEEKDAY.sum(), _WEEKEND / _WEEKEND.sum() * 1.1])

# Building water, litres per occupant-hour, and a constant (L/h per m² of floor) for pools.
BUILDING_L_PER_OCCUPANT_H = {
    BuildingKind.SCHOOL: 2.0,
    BuildingKind.TOWN_HALL: 2.5,
    BuildingKind.GYM: 12.0,
    BuildingKind.POOL: 30.0,
    BuildingKind.MEDIA_LIBRARY: 1.5,
    BuildingKind.OFFICES: 2.5,
}
POOL_CONSTANT_L_H_M2 = 0.4


@dataclass(frozen=True, slots=True)
class SectorRun:
    """A sector's water balance per 15-minute step, in m³ during the step."""

    code: str
    start: datetime
    households_m3: FloatArray
    buildings_m3: FloatArray
    losses_m3: FloatArray
    leaks_m3: FloatArray
    unmetered_m3: FloatArray  # night watering of green spaces

    @property
    def inflow_m3(self) -> FloatArray:
        return np.asarray(
            self.households_m3
            + self.buildings_m3
            + self.unmetered_m3
            + self.losses_m3
            + self.leaks_m3
        )


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _end(start: datetime, i1: int, n: int, step: timedelta) -> datetime | None:
    return None if i1 >= n else start + i1 * step


def household_demand(
    household: Household,
    clock: LocalClock,
    day_kinds: np.ndarray,
    seed: int,
    start: datetime,
    faults: bool = True,
    day_factor: FloatArray | None = None,
) -> tuple[FloatArray, list[Fault]]:
    """Litres used in each hour of the run (leak included) and the leak faults; ``day_factor``
    (per local date) is the sector's shared demand factor."""
    rng = stream(seed, "household", household.id)
    n, n_days = len(clock.hour), len(clock.dates)
    level = household.persons * LITRES_PER_PERSON_DAY * rng.lognormal(-0.08, 0.4)
    daily = level * rng.lognormal(-0.045, 0.3, n_days)
    if day_factor is not None:
        daily *= day_factor
    daily *= rng.random(n_days) > 0.03
    if rng.random() < 0.4:  # a summer absence
        away = [
            k for k, d in enumerate(clock.dates) if d.month == 8 or (d.month == 7 and d.day > 10)
        ]
        if away:
            first = int(rng.choice(away))
            daily[first : first + int(rng.integers(7, 22))] = 0.0
    hours = clock.hour.astype(np.int64)
    expected = daily[clock.day] * SHAPES[day_kinds[clock.day], hours]
    events = rng.poisson(expected / EVENT_L)
    litres = rng.gamma(np.maximum(events * EVENT_SHAPE, 1e-12), EVENT_L / EVENT_SHAPE) * (
        events > 0
    )
    found: list[Fault] = []
    if faults:
        f_rng = stream(seed, "household-leak", household.id)
        for _ in range(int(f_rng.poisson(0.08 * n_days / 365))):
            i0 = int(f_rng.integers(0, n))
            i1 = i0 + int(_log_uniform(f_rng, 3, 30) * 24)
            flow = round(_log_uniform(f_rng, 5, 50), 1)
            litres[i0:i1] += flow
            found.append(
                Fault(
                    "household_leak",
                    household.meter.dev_eui,
                    start + i0 * HOUR,
                    _end(start, i1, n, HOUR),
                    flow,
                    "L/h",
                    {"household": household.id},
                )
            )
    return litres, found


def day_kind_index(clock: LocalClock, calendar: FrenchCalendar) -> np.ndarray:
    """0 for workdays, 1 for weekends and public holidays, per local date."""
    return np.array([int(calendar.day_kind(d) is not DayKind.WORKDAY) for d in clock.dates])


def building_demand(
    run: BuildingRun, seed: int, faults: bool = True
) -> tuple[FloatArray, list[Fault]]:
    """Litres used by a building in each 15-minute step (leak included) and its leak fault."""
    b = run.building
    rng = stream(seed, "building-water", b.code)
    rate = run.occupants * BUILDING_L_PER_OCCUPANT_H[b.kind]
    litres = rng.gamma(2.0, 0.5, len(rate)) * rate * 0.25
    if b.kind is BuildingKind.POOL:
        # An indoor pool's hall: evaporation drifts slowly (AR(1), 0.9 a day, 5 % spread).
        days = len(rate) // 96 + 1
        shocks = rng.normal(0.0, 0.05 * np.sqrt(1 - 0.9**2), days)
        drift = np.zeros(days)
        for k in range(1, days):
            drift[k] = 0.9 * drift[k - 1] + shocks[k]
        steady = POOL_CONSTANT_L_H_M2 * b.floor_area_m2 * np.exp(drift)
        litres = litres + np.repeat(steady, 96)[: len(rate)] * 0.25
    found: list[Fault] = []
    n = len(litres)
    f_rng = stream(seed, "building-leak", b.code)
    if faults and f_rng.random() < 0.2:
        i0 = int(f_rng.integers(0, n))
        i1 = i0 + int(_log_uniform(f_rng, 3, 30) * 96)
        flow = round(_log_uniform(f_rng, 20, 200), 1)
        litres[i0:i1] += flow * 0.25
        found.append(
            Fault(
                "building_leak",
                b.code,
                run.start + i0 * QUARTER,
                _end(run.start, i1, n, QUARTER),
                flow,
                "L/h",
            )
        )
    return litres, found


def quarters_from_hours(hourly: FloatArray) -> FloatArray:
    """An hourly volume spread evenly over its four quarters."""
    return np.repeat(hourly / 4.0, 4)


@dataclass(frozen=True, slots=True)
class WaterRun:
    households_l: dict[str, FloatArray]  # household id → litres per hour
    buildings_l: dict[str, FloatArray]  # building code → litres per 15 minutes
    sectors: dict[str, SectorRun]
    faults: list[Fault]


def simulate_water(
    sectors: tuple[Sector, ...],
    buildings: dict[str, BuildingRun],
    start: datetime,
    days: int,
    seed: int,
    calendar: FrenchCalendar,
    faults: bool = True,
) -> WaterRun:
    """Every household, building and sector of the territory."""
    clock_h = LocalClock.build(start, days * 24, HOUR)
    kinds = day_kind_index(clock_h, calendar)
    clock_q = LocalClock.build(start, days * 96, QUARTER)
    all_faults: list[Fault] = []
    households: dict[str, FloatArray] = {}
    for s in sectors:
        factor = demand_factor(s, clock_h.dates, seed)
        for h in s.households:
            households[h.id], found = household_demand(
                h, clock_h, kinds, seed, start, faults, factor
            )
            all_faults.extend(found)
    building_l: dict[str, FloatArray] = {}
    for code, run in buildings.items():
        building_l[code], found = building_demand(run, seed, faults)
        all_faults.extend(found)
    runs: dict[str, SectorRun] = {}
    for s in sectors:
        hh = np.zeros(days * 24)
        for h in s.households:
            hh += households[h.id]
        bl = np.zeros(days * 96)
        for code, run in buildings.items():
            if run.building.sector == s.code:
                bl += building_l[code]
        if faults:
            leaks, found = network_leaks(s, start, days * 96, seed)
            all_faults.extend(found)
        else:
            leaks = np.zeros(days * 96)
        runs[s.code] = SectorRun(
            code=s.code,
            start=start,
            households_m3=quarters_from_hours(hh) / 1000,
            buildings_m3=bl / 1000,
            losses_m3=background_losses(s, clock_q),
            leaks_m3=leaks,
            unmetered_m3=night_watering(s, clock_q, seed),
        )
    return WaterRun(households, building_l, runs, all_faults)
