"""Heating setpoints and indoor air against the Code de l'énergie (R241-26/27) and CO2 levels.

All three rules read one building's hours (:mod:`analytics.energy.building_hours`).

- **Setpoint drift** (occupied, heating season): only occupied hours whose heating runs (at
  least ``min_heating_share`` of a busy occupied hour's draw above its floor) count — with the
  heating off, free gains say nothing of the setpoint. A local day with at least
  ``min_occupied_hours`` such hours has a level: its coolest such hour, the temperature the
  heating holds (a mean would take in the afternoons the sun warms past it). The day is
  *above* when that level exceeds ``max_c`` (19 °C) by ``tolerance_c`` *and* the building's own
  usual level by ``drift_c`` — the ``baseline_quantile`` of its previous ``baseline_days`` such
  days, remembered from pass to pass, so that the history reaches before the lookback (a
  setpoint raised with the heating season would otherwise be its own usual level). A building
  kept at 20 °C all winter is told by the compliance share of the KPIs, a building whose
  temperature climbs is told here. Days warmer outside than ``max_outdoor_c`` do not count
  (free gains, not heating). ``min_days`` such days in a row, up to the latest day that
  counts, make an event; a building with fewer than ``min_baseline_days`` days of history is
  not judged.
- **Heated while unoccupied** (heating season): in an absence, from ``start_hours`` (24 h) to
  48 h the limit is 16 °C; beyond 48 h it is 8 °C, except the last ``recovery_hours`` before the
  next opening (the recovery allowed before people return, when 16 °C applies again); the last
``preheat_hours`` before an opening are left out (the comfort setpoint is back). Measured
  indoor temperatures sit above 8 °C for days after the heating stops, so an hour beyond 48 h
  breaks the limit only when the building is *held* there: warmer than the limit by
  ``tolerance_c`` and not having cooled by ``min_drop_c`` over the last ``hold_hours``. Any
  breaking hour must also be ``min_gap_c`` warmer than outdoors when the outdoor temperature is
  known (a mild day warms an empty building by itself). ``min_hours`` breaking hours in one
  absence make an event — when the building has heating meters, only if, above their floor
  (10th percentile of the window's hours: hot water, pilot flames), they used at least
  ``min_heating_share`` of what they use in an occupied heating hour (median) in those hours:
  an empty building left warm by the sun, or cooling slowly, is not heated.
- **CO2** (occupied hours, each sensor a room): hours above ``warn_ppm`` (800) and
  ``alarm_ppm`` (1,500) on the latest local day with occupied hours; an event when at least
  ``min_hours`` hours are above 800 ppm (critical when one is above 1,500 ppm).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.energy.building_hours import BuildingHours


@dataclass(frozen=True)
class SetpointParams:
    max_c: float = field(default=19.0, metadata={"doc": "R241-26 occupied heating limit"})
    tolerance_c: float = field(default=0.5, metadata={"doc": "above the limit"})
    drift_c: float = field(default=1.0, metadata={"doc": "above the building's usual level"})
    min_occupied_hours: int = field(default=3, metadata={"doc": "measured, for a day to count"})
    baseline_days: int = field(default=28, metadata={"doc": "occupied days of history"})
    min_baseline_days: int = field(default=5, metadata={"doc": "history needed to judge"})
    baseline_quantile: float = field(default=0.25, metadata={"doc": "usual level"})
    max_outdoor_c: float = field(default=15.0, metadata={"doc": "warmer days do not count"})
    min_heating_share: float = field(
        default=0.25, metadata={"doc": "of a busy occupied heating hour, for an hour to count"}
    )
    min_days: int = field(default=2, metadata={"doc": "days above in a row"})


@dataclass(frozen=True)
class UnoccupiedHeatingParams:
    start_hours: float = field(default=24.0, metadata={"doc": "absence before a limit holds"})
    limit_c: float = field(default=16.0, metadata={"doc": "24-48 h of absence"})
    long_after_hours: float = field(default=48.0, metadata={"doc": "absence before 8 °C"})
    long_limit_c: float = field(default=8.0, metadata={"doc": "beyond 48 h"})
    recovery_hours: float = field(default=12.0, metadata={"doc": "before reopening, 16 °C"})
    preheat_hours: float = field(default=3.0, metadata={"doc": "before reopening, left out"})
    tolerance_c: float = field(default=1.0, metadata={"doc": "above the limit"})
    hold_hours: int = field(default=24, metadata={"doc": "beyond 48 h: cooling looked at"})
    min_drop_c: float = field(default=0.5, metadata={"doc": "cooling that shows no heating"})
    min_gap_c: float = field(default=5.0, metadata={"doc": "warmer than outdoors"})
    min_hours: int = field(default=12, metadata={"doc": "breaking hours in one absence"})
    min_heating_share: float = field(
        default=0.35, metadata={"doc": "of the occupied hours' heating kWh/h"}
    )


@dataclass(frozen=True)
class Co2Params:
    warn_ppm: float = field(default=800.0, metadata={"doc": "ventilation to improve"})
    alarm_ppm: float = field(default=1500.0, metadata={"doc": "ventilation insufficient"})
    min_hours: int = field(default=2, metadata={"doc": "occupied hours above 800 ppm"})


@dataclass(frozen=True)
class Event:
    start: int  # hour index
    end: int  # hour index after its last hour
    open: bool
    evidence: dict[str, Any]
    critical: bool = False


def setpoint_drift(
    b: BuildingHours, p: SetpointParams, remembered: Mapping[str, float] | None = None
) -> tuple[list[Event], bool, dict[str, float]]:
    """The run of days above the limit and the building's own level still open at the latest
    day that counts; whether that day could be judged (enough history); and the days that
    count with their level, to remember.

    ``remembered`` holds days (ISO date → level) that earlier passes counted: those
    before this window's first day extend the history. Without them a drift starting with the
    heating season (or after a mild spell) would be its own usual level, the lookback holding
    no heated day before it."""
    days, inverse = np.unique(b.local_day, return_inverse=True)
    counted = b.occupied & b.heating_season & np.isfinite(b.indoor_c)
    counted &= _heated_hours(b, counted, p.min_heating_share)
    n_days = len(days)
    hours_in = np.bincount(inverse[counted], minlength=n_days)
    sums = np.bincount(inverse[counted], weights=b.indoor_c[counted], minlength=n_days)
    above_limit = np.bincount(
        inverse[counted], weights=(b.indoor_c[counted] > p.max_c).astype(float), minlength=n_days
    )
    known_out = np.isfinite(b.outdoor_c)
    out_n = np.bincount(inverse[known_out], minlength=n_days)
    out_sum = np.bincount(inverse[known_out], weights=b.outdoor_c[known_out], minlength=n_days)
    # The day's level is its coolest heated occupied hour: the temperature the heating holds.
    # Its mean would count the hours the sun and the occupants warm past the setpoint while
    # the heating barely runs (a mild morning's heated hour, then 21 °C by the afternoon).
    level = np.full(n_days, np.inf)
    np.minimum.at(level, inverse[counted], b.indoor_c[counted])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(hours_in >= p.min_occupied_hours, sums / hours_in, np.nan)
        share = above_limit / hours_in
        outdoor = np.where(out_n > 0, out_sum / out_n, np.nan)
    level[~np.isfinite(mean) | (outdoor > p.max_outdoor_c)] = np.nan  # free gains, not heating
    valid = np.flatnonzero(np.isfinite(level))
    first_day = str(days[0]) if n_days else ""
    earlier = sorted((d, v) for d, v in (remembered or {}).items() if d < first_day)
    keep = p.baseline_days + p.min_days
    prior = np.array([v for _, v in earlier[-keep:]], dtype=float)
    # Walk back from the latest valid day: only a run still open is reported.
    judged = False
    usual: dict[int, float] = {}
    run: list[int] = []
    series = np.concatenate([prior, level[valid]])
    for pos in range(len(valid) - 1, -1, -1):
        k = int(valid[pos])
        at = len(prior) + pos
        history = series[max(0, at - p.min_days - p.baseline_days) : max(0, at - p.min_days)]
        if len(history) < p.min_baseline_days:
            break
        judged = True
        usual[k] = float(np.quantile(history, p.baseline_quantile))
        if not (level[k] > p.max_c + p.tolerance_c and level[k] > usual[k] + p.drift_c):
            break
        run.insert(0, k)
    runs = [run] if run else []
    events = []
    heat = b.heating_kwh()
    for run in runs:
        if len(run) < p.min_days:
            continue
        hours = np.flatnonzero(np.isin(inverse, run) & counted)
        events.append(
            Event(
                int(hours[0]),
                int(hours[-1]) + 1,
                True,
                {
                    "days": [str(days[k]) for k in run],
                    "occupied_mean_c": round(float(np.nanmean(mean[run])), 1),
                    "held_c": round(float(np.nanmean(level[run])), 1),
                    "usual_c": round(float(np.median([usual[k] for k in run])), 1),
                    "limit_c": p.max_c,
                    "share_hours_above_limit": round(float(np.nanmean(share[run])), 2),
                    "heating_kwh_per_day": _per_day(heat, np.isin(inverse, run), len(run)),
                },
            )
        )
    counted_days = dict(earlier[-keep:])
    counted_days.update({str(days[k]): round(float(level[k]), 2) for k in valid.tolist()})
    return events, judged, dict(sorted(counted_days.items())[-keep:])


def _heated_hours(b: BuildingHours, counted: np.ndarray, share: float) -> np.ndarray:
    """Hours whose heating drew at least ``share`` of a busy occupied heating hour above its
    floor: with the heating off, the sun and the occupants warm the rooms past 19 °C
    on a mild day, which says nothing of the setpoint. Every hour when the building has no
    heating meter, or ``share`` is 0 (the rule is off)."""
    heat = b.heating_kwh()
    known = counted & np.isfinite(heat)
    if share <= 0 or not known.any():
        return np.ones(b.n, dtype=bool)
    floor = float(np.quantile(heat[np.isfinite(heat)], 0.1))  # hot water, pilot flames
    # A busy occupied hour (90th percentile), not the median: in a mild month the median
    # occupied hour draws nothing, and a share of nothing would let every hour count.
    busy = float(np.quantile(heat[known], 0.9)) - floor
    above = heat - floor
    return np.asarray(~np.isfinite(heat) | ((above > 0) & (above >= share * max(busy, 0.0))))


def _per_day(heat: np.ndarray, hours: np.ndarray, n_days: int) -> float | None:
    x = heat[hours]
    if not np.isfinite(x).any() or n_days == 0:
        return None
    return round(float(np.nansum(x)) / n_days, 1)


def heated_while_unoccupied(b: BuildingHours, p: UnoccupiedHeatingParams) -> list[Event]:
    """Absences during which the building was heated above the limits (module docstring)."""
    t = b.indoor_c
    age = b.since_open_h
    long_ = (age >= p.long_after_hours) & (b.until_open_h > p.recovery_hours)
    limit = np.where(long_, p.long_limit_c, p.limit_c)
    considered = (
        (~b.occupied)
        & b.heating_season
        & (age >= p.start_hours)
        & (b.until_open_h > p.preheat_hours)
        & np.isfinite(t)
    )
    warm = t > limit + p.tolerance_c
    gap_ok = ~np.isfinite(b.outdoor_c) | (t - b.outdoor_c > p.min_gap_c)
    before = np.full(b.n, np.nan)
    before[p.hold_hours :] = t[: b.n - p.hold_hours] if b.n > p.hold_hours else []
    held = ~long_ | (np.isfinite(before) & (before - t < p.min_drop_c))
    breaking = considered & warm & gap_ok & held
    # An absence is a run of unoccupied hours; its id changes at each occupied hour.
    absence = np.cumsum(b.occupied)
    heat = b.heating_kwh()
    in_use = heat[b.occupied & b.heating_season & np.isfinite(heat)]
    usual_kwh_h = float(np.median(in_use)) if len(in_use) else np.nan
    known = heat[np.isfinite(heat)]
    floor_kwh_h = float(np.quantile(known, 0.1)) if len(known) else 0.0  # hot water, pilot
    events = []
    for a in np.unique(absence[breaking]).tolist():
        hours = np.flatnonzero(breaking & (absence == a))
        if len(hours) < p.min_hours:
            continue
        if np.isfinite(usual_kwh_h) and not float(np.nanmean(heat[hours])) - floor_kwh_h >= (
            p.min_heating_share * max(usual_kwh_h - floor_kwh_h, 0.0)
        ):
            continue
        members = np.flatnonzero((absence == a) & ~b.occupied)
        still = not b.occupied[-1] and int(absence[-1]) == a
        first = int(members[0])
        events.append(
            Event(
                first,
                int(members[-1]) + 1,
                still,
                {
                    "absence_hours": round(float(b.since_open_h[members[-1]]), 0),
                    "hours_above_limit": len(hours),
                    "mean_indoor_c": round(float(np.nanmean(t[hours])), 1),
                    "limits_c": sorted({float(x) for x in limit[hours]}),
                    "mean_outdoor_c": _round(np.nanmean(b.outdoor_c[hours]))
                    if np.isfinite(b.outdoor_c[hours]).any()
                    else None,
                    "heating_kwh": _round(np.nansum(heat[hours]))
                    if np.isfinite(heat[hours]).any()
                    else None,
                    "first_hour_above": int(hours[0]),
                },
            )
        )
    return events


def _round(x: Any) -> float:
    return round(float(x), 1)


def co2_levels(b: BuildingHours, p: Co2Params) -> tuple[list[tuple[int, Event]], set[int]]:
    """Per CO2 sensor (row), an event on the latest occupied day when above; judged rows."""
    occupied_days = b.local_day[b.occupied]
    if len(occupied_days) == 0:
        return [], set()
    day = occupied_days.max()
    hours = np.flatnonzero(b.occupied & (b.local_day == day))
    events = []
    judged: set[int] = set()
    for s in range(len(b.co2_devices)):
        x = b.co2_ppm[s, hours]
        ok = np.isfinite(x)
        if not ok.any():
            continue
        judged.add(s)
        warn = int((x[ok] > p.warn_ppm).sum())
        alarm = int((x[ok] > p.alarm_ppm).sum())
        if warn < p.min_hours:
            continue
        events.append(
            (
                s,
                Event(
                    int(hours[0]),
                    int(hours[-1]) + 1,
                    True,
                    {
                        "day": str(day),
                        "device": b.co2_devices[s],
                        "occupied_hours": int(ok.sum()),
                        "hours_above_800_ppm": warn,
                        "hours_above_1500_ppm": alarm,
                        "max_ppm": round(float(np.nanmax(x)), 0),
                    },
                    critical=alarm > 0,
                ),
            )
        )
    return events, judged
