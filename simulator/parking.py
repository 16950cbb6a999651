"""Carpool areas: which space is occupied, every 5 minutes.

Each day, per area: on workdays ``Binomial(spaces, commuter_share × f)`` commuters arrive around
07:45 (σ 40 min, 06:00-10:00) and leave after ~9 h 30 (σ 1 h: departures 16:30-19:00), with
f = 0.8 in school holidays (0.6 in summer); at weekends and on public holidays f = 0.12. Short
stays (a drop-off, a meeting: exponential, mean 45 min) arrive uniformly 07:00-21:00, ~0.3 per
space a day. Each car takes a random free space (PMR spaces only when nothing else is free);
cars finding the area full leave. Peak weekday occupancy ≈ commuter_share + a few %; the
Birmingham car parks (UCI data, weekdays, mean by hour) peak at ~0.64 at 13 h and weekends at
~0.52 — carpool areas are emptier at weekends, which ``f`` reflects.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from core.calendar import DayKind, FrenchCalendar
from simulator.buildings import _school_holiday
from simulator.territory import Area
from simulator.truth import FloatArray
from simulator.weather import LocalClock, stream

STEP = timedelta(minutes=5)
PER_HOUR = 12


def _day_factor(day_kind: DayKind, school_holiday: bool, month: int) -> float:
    if day_kind is not DayKind.WORKDAY:
        return 0.12
    if school_holiday:
        return 0.6 if month in (7, 8) else 0.8
    return 1.0


def simulate_area(
    area: Area, start: datetime, days: int, seed: int, calendar: FrenchCalendar
) -> dict[str, FloatArray]:
    """Space code → occupancy (0/1) per 5-minute step."""
    n = days * 24 * PER_HOUR
    clock = LocalClock.build(start, n, STEP)
    rng = stream(seed, "area", area.id_lieu)
    spaces = list(area.spaces)
    ns = len(spaces)
    occ = np.zeros((ns, n))
    if ns == 0:
        return {}
    pmr = np.array([s.pmr for s in spaces])
    free_from = np.zeros(ns, dtype=np.int64)
    # Step of each local midnight (the first step of each local date).
    first_step = np.searchsorted(clock.day, np.arange(len(clock.dates)))
    for k, d in enumerate(clock.dates):
        holiday = _school_holiday(calendar, d, area.holiday_zone)
        f = _day_factor(calendar.day_kind(d), holiday, d.month)
        midnight = int(first_step[k]) - round(float(clock.hour[first_step[k]]) * PER_HOUR)
        n_comm = int(rng.binomial(ns, min(1.0, area.commuter_share * f)))
        arrive = np.clip(rng.normal(7.75, 0.67, n_comm), 6.0, 10.0)
        stay = np.clip(rng.normal(9.5, 1.0, n_comm), 4.0, 13.0)
        n_short = int(rng.poisson(0.3 * ns * (0.6 if f < 0.5 else 1.0)))
        arrive_s = rng.uniform(7.0, 21.0, n_short)
        stay_s = np.clip(rng.exponential(0.75, n_short), 0.1, 4.0)
        arrivals = np.concatenate([arrive, arrive_s])
        stays = np.concatenate([stay, stay_s])
        order = np.argsort(arrivals, kind="stable")
        picks = rng.random(len(order))
        for j in order.tolist():
            a = midnight + int(arrivals[j] * PER_HOUR)
            b = a + max(1, int(stays[j] * PER_HOUR))
            if a >= n or a < 0:
                continue
            free = np.flatnonzero((free_from <= a) & ~pmr)
            if len(free) == 0:
                free = np.flatnonzero(free_from <= a)
            if len(free) == 0:
                continue  # area full: the driver goes elsewhere
            s = int(free[int(picks[j] * len(free))])
            occ[s, a : min(b, n)] = 1.0
            free_from[s] = b
    return {sp.code: occ[i] for i, sp in enumerate(spaces)}
