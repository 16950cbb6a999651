"""A seeded synthetic school for the energy and comfort detector tests.

One building (zone B, open Monday, Tuesday, Thursday, Friday 08:30-16:30, closed on public and
school holidays) with an electricity register (Wh, every 15 minutes), a gas pulse register
(0.1 kWh) that heats it, one indoor sensor with CO2, and an outdoor probe. Its heating follows
the Code de l'énergie: the comfort setpoint from two hours before opening, 16 °C for the first
48 h of an absence, frost protection (8 °C) beyond, 16 °C again 12 h before reopening; unheated,
the room cools towards outdoors with a 60 h time constant. Knobs change one thing at a time so a
test can say what it injects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.detectors.base import Pass, Subject
from analytics.detectors.energy_feeds import building_subject
from analytics.energy.building_hours import (
    HOUR_NS,
    BuildingHours,
    Register,
    build,
    hour_grid,
    occupancy,
)
from analytics.kpi.degree_days import OutdoorProbe
from analytics.kpi.inventory import BuildingInfo, Meter
from core.calendar import FrenchCalendar
from core.config import KpiSettings
from core.series import NS, to_ns

CALENDAR = FrenchCalendar()
SETTINGS = KpiSettings()
ELEC, GAS, ROOM = "70b3d5e75e000001", "24e124126a000001", "24e124710b000001"
QUARTER_NS = 900 * NS
OPEN = [["08:30", "16:30"]]
INFO = BuildingInfo(
    code="ecole-test",
    name="École de test",
    tenant="commune-test",
    tenant_name="Commune de test",
    site="site-test",
    activity_category="enseignement",
    floor_area_m2=1500.0,
    energy_carriers=("electricity", "gas"),
    holiday_zone="B",
    schedule={"mon": OPEN, "tue": OPEN, "thu": OPEN, "fri": OPEN},
    operat_id=None,
    reference_year=None,
    reference_energy_kwh=None,
    reference_degree_days=None,
    energy_2019_kwh=None,
    degree_days_2019=None,
    absolute_target_kwh_m2=None,
    meters=(Meter(ELEC, "Linky", "electricity", 0.0, None), Meter(GAS, "Gaz", "gas", 1.0, None)),
    climate=(ROOM,),
    outdoor=(OutdoorProbe("outdoor", None),),
)


@dataclass
class Knobs:
    """What the synthetic school does; every default is a clean building."""

    setpoint_c: float = 19.0
    base_kw: float = 3.0
    occupied_kw: float = 12.0
    extra_base_kw: float = 0.0  # added 24/7 from ``extra_from``
    extra_from: datetime | None = None
    heat_absences: bool = False  # the comfort setpoint held through absences from ``extra_from``
    drift_to_c: float | None = None  # occupied setpoint from ``extra_from``
    occupied_gain_c: float = (
        0.0  # sun and people warm the rooms by this much an hour, from ``extra_from``
    )
    outdoor_c: Callable[[np.ndarray], np.ndarray] | None = None  # hour index → °C
    co2_peak_ppm: float = 700.0
    faults: list[Callable[[np.ndarray, np.ndarray], np.ndarray]] = field(default_factory=list)
    silent_from: datetime | None = None  # the electricity meter stops sending


def school(start: datetime, days: int, seed: int, knobs: Knobs | None = None) -> BuildingHours:
    """The school's hours over ``days`` days from ``start`` (UTC, on the hour)."""
    k = knobs or Knobs()
    rng = np.random.default_rng(seed)
    hours = hour_grid(start, start + timedelta(days=days))
    n = len(hours)
    occupied, _, since, until = occupancy(INFO, hours, CALENDAR, SETTINGS)
    idx = np.arange(n)
    local_h = ((hours // HOUR_NS) + 1) % 24  # close enough for weather
    outdoor = (
        k.outdoor_c(idx)
        if k.outdoor_c is not None
        else 6.0 + 4.0 * np.sin((local_h - 9) / 24 * 2 * np.pi) + rng.normal(0, 0.5, n)
    )
    after = np.zeros(n, dtype=bool) if k.extra_from is None else hours >= to_ns(k.extra_from)
    comfort = occupied | ((until <= 2) & (until > 0))
    sp = np.where(comfort, k.setpoint_c, 16.0)
    sp[(~comfort) & (since >= 48) & (until > 12)] = 8.0
    if k.drift_to_c is not None:
        sp[comfort & after] = k.drift_to_c
    if k.heat_absences:
        sp[~comfort & after] = k.setpoint_c
    ua_kw = 3.0
    indoor = np.empty(n)
    heat = np.zeros(n)
    t = float(sp[0])
    for i in range(n):
        free = outdoor[i] + (t - outdoor[i]) * np.exp(-1 / 60)
        free += k.occupied_gain_c * (occupied[i] & after[i])
        if free < sp[i]:
            heat[i] = ua_kw * (sp[i] - outdoor[i]) + 3.0 * (sp[i] - free)
            t = float(sp[i])
        else:
            t = float(free)
        indoor[i] = t
    elec = k.base_kw + k.occupied_kw * occupied * rng.uniform(0.8, 1.1, n) + k.extra_base_kw * after
    gas = heat / 0.9 + 0.3  # hot water
    co2 = np.where(occupied, k.co2_peak_ppm, 430.0) + rng.normal(0, 10, n)
    quarters = to_ns(start) + np.arange(n * 4, dtype=np.int64) * QUARTER_NS
    elec_index = 40_000.0 + np.round(
        np.concatenate([[0.0], np.cumsum(np.repeat(elec, 4) / 4)[:-1]]), 3
    )
    gas_used = np.concatenate([[0.0], np.cumsum(np.repeat(gas, 4) / 4)[:-1]])
    gas_index = 90_000.0 + np.floor(gas_used / 0.1) * 0.1
    for fault in k.faults:
        elec_index = fault(quarters, elec_index)
    elec_times = quarters
    if k.silent_from is not None:
        keep = quarters < to_ns(k.silent_from)
        elec_times, elec_index = quarters[keep], elec_index[keep]
    registers = [
        Register(ELEC, "base", "electricity", 0.0, elec_times, elec_index),
        Register(GAS, None, "gas", 1.0, quarters, gas_index),
    ]
    temperature = (quarters, np.round(np.repeat(indoor, 4), 1).astype(np.float64))
    return build(
        INFO,
        hours,
        registers,
        [temperature],
        [(ROOM, quarters, np.round(np.repeat(co2, 4)).astype(np.float64))],
        [(hours, np.round(outdoor, 1))],
        CALENDAR,
        SETTINGS,
    )


def subject() -> Subject:
    return building_subject(INFO)


def one_pass(b: BuildingHours, params: object, days: int = 35) -> Pass:
    """A pass at the end of ``b`` over its last ``days`` days, as the watch would run it."""
    lo = max(0, b.n - days * 24)
    w = b.window(lo, b.n)
    start = datetime.fromtimestamp(int(w.hours_ns[0]) // NS, UTC)
    end = datetime.fromtimestamp(int(w.hours_ns[-1]) // NS + 3600, UTC)
    return Pass([subject()], [w], params, start, end, None, {})
