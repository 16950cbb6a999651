"""Consumption in unoccupied periods above the building's own baseload, register by register.

Unoccupied hours are nights, weekends, public holidays and (schools) school holidays of the
building's zone (:mod:`analytics.energy.building_hours`), less ``margin_hours`` after closing
and before opening (the building winding down, the morning preheat). For each local day, the
register's *unoccupied level* is the ``low_quantile`` of its kWh over that day's unoccupied
hours (a day needs ``min_unoccupied_hours`` of them): the floor a building settles on when
nobody is there.

Its *baseload* is learned from its own history: the days ``[d − gap − baseline_days, d − gap)``
with ``gap = min_days`` (so a rise is never in its own baseline). A register that does not heat
(heating share 0) has a flat baseload: the ``baseline_quantile`` of those days' levels. A
register that heats has a weather-dependent one when the outdoor temperature is known: a
least-squares slope of the level against ``max(0, base_c − outdoor)`` over those days (kept
≥ 0), its intercept the ``baseline_quantile`` of what the slope leaves, read at the day's
outdoor temperature (a day more than ``max_colder_c`` colder than any day of its history is not
judged: a line is not extrapolated); without an outdoor temperature it is judged outside the
heating season only. A baseload needs ``min_baseline_days`` days.

A day is *above* when its level exceeds the baseload by ``rise_share`` of it, by at least
``min_rise_kwh_h`` and by ``k_spread`` times the spread of the history around the baseload
(1.4826 × median absolute deviation: a heating meter's nights scatter more than a lift's). A
heating register's day is not above when the lower quartile of the building's indoor
temperature over those hours (when measured) is at most ``setback_c``: heating an empty
building to its 16 °C setback after a warm week is what the Code de l'énergie allows, not an
excess. ``min_days`` days above in a row (days without a level neither break nor count) make
an event, open while the latest day with a level is above. Its evidence: baseload and level
(kW), the extra kWh since it began over the unoccupied hours, the days by kind.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.energy.building_hours import BuildingHours
from core.calendar import DayKind, FrenchCalendar
from core.series import FloatArray


@dataclass(frozen=True)
class UnoccupiedParams:
    margin_hours: float = field(default=3.0, metadata={"doc": "left out after closing/opening"})
    min_unoccupied_hours: int = field(default=6, metadata={"doc": "per day to have a level"})
    low_quantile: float = field(default=0.2, metadata={"doc": "of a day's unoccupied kWh"})
    baseline_days: int = field(default=28, metadata={"doc": "history the baseload learns on"})
    min_baseline_days: int = field(default=7, metadata={"doc": "days with a level needed"})
    baseline_quantile: float = field(default=0.5, metadata={"doc": "non-heating baseload"})
    base_c: float = field(default=16.0, metadata={"doc": "outdoor °C below which it heats"})
    rise_share: float = field(default=0.25, metadata={"doc": "rise over the baseload"})
    min_rise_kwh_h: float = field(default=0.3, metadata={"doc": "smallest rise"})
    k_spread: float = field(default=4.0, metadata={"doc": "× the history's spread (MAD)"})
    max_colder_c: float = field(default=2.0, metadata={"doc": "colder than its history: unjudged"})
    setback_c: float = field(default=17.0, metadata={"doc": "heated no warmer: not an excess"})
    min_days: int = field(default=3, metadata={"doc": "days above in a row"})


@dataclass(frozen=True)
class UnoccupiedExcess:
    register: int  # row of ``BuildingHours.registers``
    first_day: np.datetime64
    last_day: np.datetime64
    open: bool
    evidence: dict[str, Any]


def unoccupied_hours(b: BuildingHours, p: UnoccupiedParams) -> np.ndarray:
    """Hours that count as unoccupied (margins around openings left out)."""
    return np.asarray(
        (~b.occupied) & (b.since_open_h > p.margin_hours) & (b.until_open_h > p.margin_hours)
    )


def daily_levels(
    b: BuildingHours, p: UnoccupiedParams
) -> tuple[np.ndarray, FloatArray, FloatArray, FloatArray]:
    """Local days, each register's unoccupied level per day [register, day], the mean outdoor
    °C and the lower quartile of indoor °C of each day's unoccupied hours."""
    days, inverse = np.unique(b.local_day, return_inverse=True)
    mask = unoccupied_hours(b, p)
    # A [day, hour of the day] grid of the unoccupied hours (days last 23 to 25 hours).
    pos = np.arange(b.n) - np.searchsorted(inverse, inverse)
    grid = np.full((len(b.registers), len(days), 25), np.nan)
    temps = np.full((len(days), 25), np.nan)
    rooms = np.full((len(days), 25), np.nan)
    sel = np.flatnonzero(mask)
    grid[:, inverse[sel], pos[sel]] = b.kwh[:, sel]
    temps[inverse[sel], pos[sel]] = b.outdoor_c[sel]
    rooms[inverse[sel], pos[sel]] = b.indoor_c[sel]
    enough = np.bincount(inverse[sel], minlength=len(days)) >= p.min_unoccupied_hours
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        counts = np.isfinite(grid).sum(axis=2)
        levels = np.nanquantile(grid, p.low_quantile, axis=2) if len(days) else grid[:, :, 0]
        levels = np.where(enough[None, :] & (counts >= p.min_unoccupied_hours), levels, np.nan)
        outdoor = np.where(enough, np.nanmean(temps, axis=1), np.nan) if len(days) else temps[:, 0]
        # The cooler part of the day's unoccupied hours: what the heating held it at.
        indoor = (
            np.where(enough, np.nanquantile(rooms, 0.25, axis=1), np.nan)
            if len(days)
            else rooms[:, 0]
        )
    return days, levels, outdoor, indoor


def _expected(
    level: FloatArray,
    outdoor: FloatArray,
    heats: bool,
    season: np.ndarray,
    d: int,
    p: UnoccupiedParams,
) -> tuple[float, float]:
    """The baseload of day ``d`` and the spread of the history around it (NaN: no baseload)."""
    lo, hi = max(0, d - p.min_days - p.baseline_days), max(0, d - p.min_days)
    y = level[lo:hi]
    ok = np.isfinite(y)
    if heats and not np.isfinite(outdoor[d]):
        ok &= ~season[lo:hi]  # no weather: heating meters are judged out of season only
        if season[d]:
            return np.nan, np.nan
    x = np.maximum(0.0, p.base_c - outdoor[lo:hi]) if heats else np.zeros(hi - lo)
    ok &= np.isfinite(x)
    if ok.sum() < p.min_baseline_days:
        return np.nan, np.nan
    xs, ys = x[ok], y[ok]
    slope = 0.0
    if heats and np.ptp(xs) > 1.0:
        dx = xs - xs.mean()
        slope = max(0.0, float((dx * (ys - ys.mean())).sum() / (dx * dx).sum()))
    residual = ys - slope * xs
    intercept = float(np.quantile(residual, p.baseline_quantile))
    spread = 1.4826 * float(np.median(np.abs(residual - np.median(residual))))
    x_d = max(0.0, p.base_c - float(outdoor[d])) if heats else 0.0
    if x_d > float(xs.max()) + p.max_colder_c:
        return np.nan, np.nan  # colder than any day it learned on: no extrapolation
    return max(0.0, intercept + slope * x_d), spread


def detect_unoccupied(
    b: BuildingHours, p: UnoccupiedParams, calendar: FrenchCalendar, zone: str | None
) -> list[UnoccupiedExcess]:
    """Each register's run of days above its baseload that is still open at the latest day
    with a level (see the module docstring): walked back from that day, so only the days of
    the run and the one before it are fitted."""
    days, levels, outdoor, indoor = daily_levels(b, p)
    first_hour = np.searchsorted(b.local_day, days)
    season = b.heating_season[np.minimum(first_hour, max(b.n - 1, 0))] if b.n else np.zeros(0)
    mask = unoccupied_hours(b, p)
    out: list[UnoccupiedExcess] = []
    for r, reg in enumerate(b.registers):
        heats = reg.heating_share > 0
        expected = np.full(len(days), np.nan)
        run: list[int] = []
        for d in range(len(days) - 1, -1, -1):
            if not np.isfinite(levels[r, d]):
                continue  # no level: neither breaks nor counts
            base, spread = _expected(levels[r], outdoor, heats, season, d, p)
            if not np.isfinite(base):
                continue
            expected[d] = base
            need = max(p.rise_share * base, p.min_rise_kwh_h, p.k_spread * spread)
            if not levels[r, d] - base > need:
                break
            if heats and indoor[d] <= p.setback_c:
                break  # heated no warmer than the unoccupied setpoint allows: not an excess
            run.insert(0, d)
        if len(run) >= p.min_days:
            out.append(_event(b, r, days, run, levels[r], expected, mask, True, calendar, zone))
    return out


def _event(
    b: BuildingHours,
    r: int,
    days: np.ndarray,
    run: list[int],
    level: FloatArray,
    expected: FloatArray,
    mask: np.ndarray,
    is_open: bool,
    calendar: FrenchCalendar,
    zone: str | None,
) -> UnoccupiedExcess:
    in_run = np.isin(b.local_day, days[run[0] : run[-1] + 1]) & mask
    base = float(np.nanmedian(expected[run]))
    extra = b.kwh[r, in_run] - base
    kinds = {"workday_nights": 0, "weekend_days": 0, "public_holidays": 0, "school_holidays": 0}
    for d in days[run[0] : run[-1] + 1].astype("datetime64[D]").tolist():
        kind = calendar.day_kind(d)
        if kind is DayKind.PUBLIC_HOLIDAY:
            kinds["public_holidays"] += 1
        elif kind is DayKind.WEEKEND:
            kinds["weekend_days"] += 1
        elif zone and _school(calendar, d, zone):
            kinds["school_holidays"] += 1
        else:
            kinds["workday_nights"] += 1
    reg = b.registers[r]
    return UnoccupiedExcess(
        register=r,
        first_day=days[run[0]],
        last_day=days[run[-1]],
        open=is_open,
        evidence={
            "device": reg.device,
            "carrier": reg.carrier,
            "baseload_kw": round(base, 2),
            "unoccupied_kw": round(float(np.nanmedian(level[run])), 2),
            "extra_kwh": round(float(np.nansum(extra)), 1),
            "unoccupied_hours": int(np.isfinite(extra).sum()),
            "days_above": len(run),
            "days": kinds,
        },
    )


def _school(calendar: FrenchCalendar, day: Any, zone: str) -> bool:
    try:
        return calendar.school_holiday(day, zone)
    except LookupError:
        return False
