"""Public buildings: occupancy, heating, electricity, indoor climate, and their faults.

Every building runs on a 15-minute grid:

- occupancy from its opening schedule (Europe/Paris), closed on public holidays; schools close in
  their zone's school holidays, gyms run at half use then (no school sessions), others stay open;
- heating setpoint: the building's setpoint when occupied (from 2 h before opening), 16 °C when
  unoccupied, 8 °C (frost protection) from 48 h into an absence until 12 h before the next opening
  (Code de l'énergie R241-26/27);
- a two-node thermal model (heat-loss coefficient UA per m² of floor, time constant τ): a
  light room node (air, furnishings, linings: 3 h × UA, 30 % of the losses) coupled (4 × UA) to
  the building's structure (τ × UA), heated by a modulating boiler that brings the room to the
  setpoint within its power (1.5 × the design load at −12 °C), with occupants (80 W each),
  electricity (70 % as heat) and sun as gains on the room. After a setback the room recovers in
  about an hour and the structure keeps drawing a decreasing share of heat while it warms back
  up, as in a real building (a one-node model had to recharge the whole structure at the room's
  temperature: hours at full power past the opening). Heating energy = delivered heat /
  efficiency (gas boiler 0.9, electric convectors 1.0), plus process heat (pool water, showers);
- electricity = 24/7 base load + occupied load (lighting, IT, ventilation, pool pumps in base);
- CO2 from a well-mixed mass balance (occupants 18 L/h CO2, outdoor 420 ppm, air changes per hour
  by kind), humidity from outdoor absolute humidity plus occupants' moisture.

Calibration (assumptions, per m² of floor and per year, all energies, Caudrésis climate ~2,700 DJU):
orders of magnitude of the ADEME survey "Énergie et patrimoine communal" and of OPERAT reference
values — schools ~110-150 kWh (heating ~70 %), town halls ~150-200, gyms ~150-250, media
libraries ~150-200, offices ~170-220, swimming pools ~1,000-2,000 (water and air heating,
dehumidification and pumps all year). ``PROFILES`` holds the parameters that land there.

Faults (each a ``Fault``): ``heating_on_holiday`` (the comfort setpoint held through a closure of
more than 3 days; magnitude = held setpoint, °C), ``setpoint_excess`` (occupied setpoint raised
above 19 °C; magnitude = excess over 19 °C), ``baseload_increase`` (magnitude = extra kW, 24/7).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import numpy.typing as npt

from core.calendar import CalendarUnknown, DayKind, FrenchCalendar
from simulator.territory import Building, BuildingKind
from simulator.truth import Fault, FloatArray
from simulator.weather import LocalClock, Weather, stream

STEP = timedelta(minutes=15)
DT_H = STEP.total_seconds() / 3600
BoolArray = npt.NDArray[np.bool_]

UNOCCUPIED_C, FROST_C, DECREE_MAX_C = 16.0, 8.0, 19.0
FROST_AFTER_H, RECOVERY_H, PREHEAT_H = 48.0, 12.0, 2.0
OUTDOOR_CO2, CO2_PER_PERSON_M3H, MOISTURE_G_H = 420.0, 0.018, 50.0
CEILING_M = 3.0
# Two-node building: room capacity (hours of UA), share of UA lost straight from the room
# (ventilation, glazing), room-structure coupling (multiples of UA).
AIR_CAPACITY_H, AIR_LOSS_SHARE, COUPLING_UA = 3.0, 0.3, 4.0


@dataclass(frozen=True, slots=True)
class KindProfile:
    density: float  # persons per m² of floor at full occupancy
    ua_w_m2k: float  # heat-loss coefficient (fabric + air) per m² of floor
    tau_h: float  # thermal time constant
    base_w_m2: float  # electricity 24/7
    occupied_w_m2: float  # electricity when fully occupied
    process_w_m2: float  # heat not driven by weather (pool water, showers), 24/7
    ach: float  # air changes per hour when occupied (0.3 otherwise)
    holiday_use: float  # occupancy factor in school holidays (0 = closed)
    lunch_dip: bool = False
    setback_c: float | None = None  # unoccupied setpoint below the occupied one (None: 16/8 °C)


PROFILES: dict[BuildingKind, KindProfile] = {
    BuildingKind.SCHOOL: KindProfile(0.12, 2.2, 60, 1.6, 11.0, 0.5, 1.0, 0.0, lunch_dip=True),
    BuildingKind.TOWN_HALL: KindProfile(0.04, 2.1, 70, 3.2, 14.0, 0.3, 1.0, 1.0),
    BuildingKind.GYM: KindProfile(0.03, 2.1, 40, 2.0, 9.0, 4.5, 2.0, 0.5),
    BuildingKind.POOL: KindProfile(0.05, 4.0, 50, 38.0, 15.0, 75.0, 3.0, 1.0, setback_c=2.0),
    BuildingKind.MEDIA_LIBRARY: KindProfile(0.04, 2.3, 70, 3.5, 15.0, 0.3, 1.0, 1.0),
    BuildingKind.OFFICES: KindProfile(0.06, 2.1, 60, 5.0, 20.0, 0.3, 1.5, 0.85),
}


@dataclass(frozen=True, slots=True)
class BuildingRun:
    """One building's true state on the 15-minute grid; powers are step averages in kW."""

    building: Building
    start: datetime
    occupants: FloatArray
    occupied: BoolArray
    setpoint_c: FloatArray
    indoor_c: FloatArray
    humidity_pct: FloatArray
    co2_ppm: FloatArray
    electricity_kw: FloatArray  # everything on the electricity meter, heating included if electric
    gas_kw: FloatArray  # gas bought (0 for electric buildings)
    illuminance_lux: FloatArray
    faults: list[Fault] = field(default_factory=list)


def _school_holiday(cal: FrenchCalendar, day: date, zone: str) -> bool:
    """Beyond the published calendar, reuse the same date of an earlier year."""
    for back in range(4):
        try:
            d = day.replace(
                year=day.year - back, day=min(day.day, 28) if day.month == 2 else day.day
            )
            return cal.school_holiday(d, zone)
        except CalendarUnknown:
            continue
    return False


def _parse_hour(text: str) -> float:
    h, _, m = text.partition(":")
    return int(h) + int(m or 0) / 60


_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_WEEKDAYS_FR = {"lun": 0, "mar": 1, "mer": 2, "jeu": 3, "ven": 4, "sam": 5, "dim": 6}


def opening_hours(schedule: dict[str, list[tuple[str, str]]]) -> list[list[tuple[float, float]]]:
    """Opening intervals (decimal hours) per weekday, Monday first (keys ``mon``/``lundi``…)."""
    week: list[list[tuple[float, float]]] = [[] for _ in range(7)]
    for key, intervals in schedule.items():
        k = key.strip().lower()[:3]
        wd = _WEEKDAYS.get(k, _WEEKDAYS_FR.get(k))
        if wd is None:
            raise ValueError(f"unknown weekday {key!r} in a building schedule")
        week[wd].extend((_parse_hour(a), _parse_hour(b)) for a, b in intervals)
    return week


def occupancy_factor(
    building: Building, dates: tuple[date, ...], calendar: FrenchCalendar
) -> tuple[FloatArray, list[list[tuple[float, float]]]]:
    """Use factor (0-1) and opening intervals of each local date."""
    profile = PROFILES[building.kind]
    week = opening_hours(building.schedule)
    factor = np.zeros(len(dates))
    intervals = []
    for k, d in enumerate(dates):
        kind = calendar.day_kind(d)
        f = 1.0
        if kind is DayKind.PUBLIC_HOLIDAY:
            f = 0.0
        elif _school_holiday(calendar, d, building.holiday_zone):
            f = profile.holiday_use
        factor[k] = f
        intervals.append(week[d.weekday()] if f > 0 else [])
    return factor, intervals


def _open_mask(clock: LocalClock, intervals: list[list[tuple[float, float]]]) -> BoolArray:
    width = max((len(i) for i in intervals), default=0) or 1
    lo = np.full((len(intervals), width), np.inf)
    hi = np.full((len(intervals), width), -np.inf)
    for k, day in enumerate(intervals):
        for j, (a, b) in enumerate(day):
            lo[k, j], hi[k, j] = a, b
    h = clock.hour[:, None]
    return np.asarray(((h >= lo[clock.day]) & (h < hi[clock.day])).any(axis=1))


def _run_positions(mask: BoolArray) -> tuple[FloatArray, FloatArray]:
    """For each False step: hours since the run of False began and hours until it ends."""
    n = len(mask)
    idx = np.arange(n)
    last_true = np.maximum.accumulate(np.where(mask, idx, -1))
    next_true = np.minimum.accumulate(np.where(mask, idx, n * 10)[::-1])[::-1]
    since = (idx - last_true).astype(np.float64) * DT_H
    until = (next_true - idx).astype(np.float64) * DT_H
    return since, until


def _faults(
    b: Building, rng: np.random.Generator, start: datetime, comfort: BoolArray, heating: BoolArray
) -> list[Fault]:
    n = len(comfort)
    out: list[Fault] = []
    draws = rng.random(3)
    # Heating left on through a closure of more than 3 days in the heating season.
    since, until = _run_positions(comfort)
    starts = np.flatnonzero((~comfort) & (since == DT_H) & (until > 72.0) & heating)
    if draws[0] < 0.25 and len(starts):
        i0 = int(rng.choice(starts))
        i1 = min(n, i0 + int(until[i0] / DT_H))
        out.append(
            Fault(
                "heating_on_holiday",
                b.code,
                start + i0 * STEP,
                start + i1 * STEP,
                b.setpoint_c,
                "°C",
                {"normal_setpoint_c": FROST_C},
            )
        )
    if draws[1] < 0.25:
        i0 = int(rng.integers(0, n))
        i1 = min(n, i0 + int(rng.integers(7, 61) * 24 / DT_H))
        excess = float(np.round(rng.uniform(2.0, 4.0) * 2) / 2)
        out.append(
            Fault(
                "setpoint_excess",
                b.code,
                start + i0 * STEP,
                start + i1 * STEP,
                excess,
                "°C",
                {"setpoint_c": DECREE_MAX_C + excess},
            )
        )
    if draws[2] < 0.25:
        i0 = int(rng.integers(0, n))
        i1 = min(n, i0 + int(rng.integers(14, 91) * 24 / DT_H))
        base_kw = PROFILES[b.kind].base_w_m2 * b.floor_area_m2 / 1000
        extra = float(np.round(base_kw * rng.uniform(0.3, 1.0), 2))
        out.append(
            Fault("baseload_increase", b.code, start + i0 * STEP, start + i1 * STEP, extra, "kW")
        )
    return out


def baseload_increase(b: Building, start: datetime, share: float) -> Fault:
    """A fault placed on purpose (the demo's): ``b``'s baseload up by ``share`` of itself from
    ``start`` to the end of the run, as an appliance left running night and day would."""
    base_kw = PROFILES[b.kind].base_w_m2 * b.floor_area_m2 / 1000
    return Fault("baseload_increase", b.code, start, None, round(base_kw * share, 2), "kW")


def _window(f: Fault, start: datetime, n: int) -> slice:
    i0 = int((f.start - start) / STEP)
    i1 = n if f.end is None else int((f.end - start) / STEP)
    return slice(max(i0, 0), min(i1, n))


def simulate_buildings(
    buildings: tuple[Building, ...],
    weather: Weather,
    start: datetime,
    days: int,
    seed: int,
    calendar: FrenchCalendar,
    faults: bool = True,
    placed: Sequence[Fault] = (),
) -> dict[str, BuildingRun]:
    """Every building's run, simulated together (vectorised over buildings); ``placed`` faults
    (heating_on_holiday, setpoint_excess, baseload_increase) join the drawn ones."""
    n, nb = days * 96, len(buildings)
    if nb == 0:
        return {}
    clock = LocalClock.build(start, n, STEP)
    t_out = weather.resampled(weather.temperature_c, start, n, STEP)
    sun = weather.resampled(weather.daylight, start, n, STEP)
    month = np.array([d.month for d in clock.dates])[clock.day]
    heating_season = (month >= 10) | (month <= 4)

    cols: dict[str, FloatArray] = {
        k: np.zeros((n, nb))
        for k in ("occ", "sp", "base", "occw", "proc", "ua", "cap", "pmax", "ach", "vol", "eff")
    }
    occupied = np.zeros((n, nb), dtype=bool)
    all_faults: dict[str, list[Fault]] = {}
    for j, b in enumerate(buildings):
        p = PROFILES[b.kind]
        rng = stream(seed, "building", b.code)
        factor, intervals = occupancy_factor(b, clock.dates, calendar)
        open_ = _open_mask(clock, intervals)
        day_noise = np.clip(rng.normal(1.0, 0.08, len(clock.dates)), 0.7, 1.15)
        use = factor[clock.day] * day_noise[clock.day] * open_
        if p.lunch_dip:
            use = use * np.where((clock.hour >= 11.75) & (clock.hour < 13.5), 0.45, 1.0)
        occupied[:, j] = use > 0
        cols["occ"][:, j] = use * p.density * b.floor_area_m2
        comfort = _open_mask(
            clock, [[(max(a - PREHEAT_H, 0.0), bb) for a, bb in day] for day in intervals]
        )
        since, until = _run_positions(comfort)
        if p.setback_c is not None:
            sp = np.where(comfort, b.setpoint_c, b.setpoint_c - p.setback_c)
        else:
            sp = np.where(comfort, b.setpoint_c, UNOCCUPIED_C)
            sp[(~comfort) & (since >= FROST_AFTER_H) & (until > RECOVERY_H)] = FROST_C
        base = np.full(n, p.base_w_m2 * b.floor_area_m2 / 1000)
        found = (
            _faults(b, stream(seed, "building-faults", b.code), start, comfort, heating_season)
            if faults
            else []
        ) + [f for f in placed if f.subject == b.code]
        for f in found:
            w = _window(f, start, n)
            if f.kind == "heating_on_holiday":
                sp[w] = b.setpoint_c
            elif f.kind == "setpoint_excess":
                sp[w] = np.where(comfort[w], f.details["setpoint_c"], sp[w])
            elif f.kind == "baseload_increase":
                base[w] += float(f.magnitude or 0.0)
        all_faults[b.code] = found
        cols["sp"][:, j] = sp
        cols["base"][:, j] = base
        cols["occw"][:, j] = use * p.occupied_w_m2 * b.floor_area_m2 / 1000
        cols["proc"][:, j] = p.process_w_m2 * b.floor_area_m2 / 1000 * (0.7 + 0.6 * (use > 0))
        ua = p.ua_w_m2k * b.floor_area_m2 / 1000  # kW/K
        cols["ua"][:, j] = ua
        cols["cap"][:, j] = ua * p.tau_h  # kWh/K
        cols["pmax"][:, j] = ua * (max(b.setpoint_c, 19.0) + 12.0) * 1.5
        cols["ach"][:, j] = np.where(use > 0, p.ach, 0.3)
        cols["vol"][:, j] = b.floor_area_m2 * CEILING_M
        cols["eff"][:, j] = 0.9 if b.heating == "gas" else 1.0

    elec_kw = cols["base"] + cols["occw"]
    gains = cols["occ"] * 0.08 + elec_kw * 0.7 + sun[:, None] * cols["vol"] / CEILING_M * 0.004
    heat, indoor, co2 = _thermal(t_out, cols, gains)
    electric = np.array([b.heating != "gas" for b in buildings])
    bought_heat = (heat + cols["proc"]) / cols["eff"]
    elec_total = elec_kw + np.where(electric, bought_heat, 0.0)
    gas = np.where(electric, 0.0, bought_heat)

    sat_out = _saturation_g_m3(t_out)
    rh_out = np.clip(85.0 - 15.0 * (sun > 0.3) - 0.5 * (t_out - 10.0), 50.0, 98.0)
    ah_in = (rh_out * sat_out / 100)[:, None] + cols["occ"] * MOISTURE_G_H / (
        cols["ach"] * cols["vol"]
    )
    pools = np.array([b.kind is BuildingKind.POOL for b in buildings])
    pool_rh = 0.55 + 0.1 * np.minimum(cols["occ"] / np.maximum(cols["occ"].max(axis=0), 1.0), 1.0)
    ah_in = np.where(pools, np.maximum(ah_in, pool_rh * _saturation_g_m3(indoor)), ah_in)
    humidity = np.clip(100 * ah_in / _saturation_g_m3(indoor), 15.0, 90.0)
    lux = np.where(occupied, 350.0, 0.0) + 250.0 * sun[:, None]

    return {
        b.code: BuildingRun(
            building=b,
            start=start,
            occupants=cols["occ"][:, j],
            occupied=occupied[:, j],
            setpoint_c=cols["sp"][:, j],
            indoor_c=indoor[:, j],
            humidity_pct=humidity[:, j],
            co2_ppm=co2[:, j],
            electricity_kw=elec_total[:, j],
            gas_kw=gas[:, j],
            illuminance_lux=lux[:, j],
            faults=all_faults[b.code],
        )
        for j, b in enumerate(buildings)
    }


def _thermal(
    t_out: FloatArray, c: dict[str, FloatArray], gains: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Step the two-node thermal model and the CO2 balance; returns heat (kW), indoor °C, ppm.

    The room (air and furnishings, ``AIR_CAPACITY_H`` × UA) loses through ventilation and
    windows and exchanges with the structure (the rest of the capacity, τ × UA), which loses
    through the fabric; together they lose UA at steady state. The boiler modulates to bring
    the room to its setpoint within the step, up to its power: the air recovers in about an hour
    and the structure goes on drawing heat, less and less, while it warms back up."""
    n, nb = c["sp"].shape
    heat, indoor, co2 = np.empty((n, nb)), np.empty((n, nb)), np.empty((n, nb))
    ua, cap, pmax = c["ua"][0], c["cap"][0], c["pmax"][0]
    ua_air = AIR_LOSS_SHARE * ua
    couple = COUPLING_UA * ua
    # Fabric loss so that air loss + (coupling in series with fabric) = UA.
    ua_fabric = (1 - AIR_LOSS_SHARE) * COUPLING_UA / (COUPLING_UA - 1 + AIR_LOSS_SHARE) * ua
    cap_air = AIR_CAPACITY_H * ua
    t_air = np.maximum(c["sp"][0], t_out[0] + 2.0)
    t_mass = t_air.copy()
    ppm = np.full(nb, OUTDOOR_CO2)
    decay = np.exp(-c["ach"] * DT_H)
    co2_eq = OUTDOOR_CO2 + c["occ"] * CO2_PER_PERSON_M3H * 1e6 / (c["ach"] * c["vol"])
    k = cap_air / DT_H
    for i in range(n):
        sp, to, g = c["sp"][i], t_out[i], gains[i]
        # Backward Euler on the air node: the power that lands it on the setpoint this step.
        need = k * (sp - t_air) + ua_air * (sp - to) + couple * (sp - t_mass) - g
        p = np.clip(need, 0.0, pmax)
        t_air = (k * t_air + p + g + ua_air * to + couple * t_mass) / (k + ua_air + couple)
        t_air = np.minimum(t_air, np.maximum(26.0, to + 1.0))  # windows opened when too warm
        t_mass = t_mass + DT_H / cap * (couple * (t_air - t_mass) - ua_fabric * (t_mass - to))
        ppm = co2_eq[i] + (ppm - co2_eq[i]) * decay[i]
        heat[i], indoor[i], co2[i] = p, t_air, ppm
    return heat, indoor, co2


def _saturation_g_m3(t: FloatArray) -> FloatArray:
    e_hpa = 6.112 * np.exp(17.62 * t / (243.12 + t))
    return np.asarray(216.7 * e_hpa / (273.15 + t))
