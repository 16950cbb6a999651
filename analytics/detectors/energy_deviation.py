"""Sustained deviation of a building's energy registers from their own baseline
(``analytics.energy.deviation``): an excess, or a drop nobody explained.

Each pass scores every register over the last ``LOOKBACK`` (the deviation learns for
``min_train_days`` before its first score, refits monthly on a year) and reports, per building
and direction, the register whose event is running at the window's end or ended within
``ended_within_h``, the largest by kWh; an event worth less than ``min_share`` of what the
register was expected to use over it, in its own direction, is not reported (a sharp score
over a sliver of kWh). A building is judged when one of its registers was scored in the
window's last day; learning, unusable or silent registers judge nothing. A drop whose
anomalous hours all fall in a scheduled closure longer than ``closure_h`` is the closure: not
reported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analytics.detectors.base import Detection, Pass, Spec, Window, WindowKind
from analytics.detectors.energy_feeds import BUILDING_HOURS, BUILDINGS
from analytics.energy.building_hours import HOUR_NS, BuildingHours
from analytics.energy.days_off import days_off
from analytics.energy.deviation import (
    DeviationEvent,
    DeviationParams,
    MeterDeviation,
    State,
    score_meter,
)
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from core.calendar import DayKind, FrenchCalendar
from core.config import KpiSettings
from core.series import from_ns

EXCESS = AlertType("energy_excess", "Surconsommation par rapport à la référence", Severity.WARNING)
DROP = AlertType(
    "energy_drop", "Baisse de consommation inexpliquée (fermeture ou compteur ?)", Severity.INFO
)
LOOKBACK = timedelta(days=400)  # min_train_days of learning, then a year of monthly refits
PRICES = KpiSettings().prices_eur_kwh  # the default prices: evidence, not an invoice
CALENDAR = FrenchCalendar()
DAY_H = 24
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EnergyDeviationParams:
    deviation: DeviationParams = field(
        default_factory=DeviationParams, metadata={"doc": "the scoring of each register"}
    )
    ended_within_h: int = field(
        default=24, metadata={"doc": "an event ended this recently is still reported"}
    )
    min_share: float = field(
        default=0.05, metadata={"doc": "|excess| ÷ expected kWh over the event, to be reported"}
    )
    closure_h: int = field(
        default=96, metadata={"doc": "a drop only in closures this long is explained"}
    )
    every_h: int = field(
        default=6, metadata={"doc": "data hours between two scorings (a scoring reads 400 days)"}
    )


UNITS = {
    "deviation.train_days": "days",
    "deviation.min_train_days": "days",
    "deviation.holdout_days": "days",
    "deviation.min_refit_days": "days",
    "deviation.level_days": "days",
    "deviation.half_life_h": "h",
    "deviation.slow_half_life_h": "h",
    "deviation.threshold": "σ",
    "deviation.slow_threshold": "σ",
    "deviation.night_threshold": "σ",
    "deviation.night_count": "1",
    "deviation.night_first_hour": "h",
    "deviation.night_last_hour": "h",
    "deviation.min_load_alarm": "σ·days",
    "deviation.history_days": "days",
    "deviation.min_history_days": "days",
    "deviation.clip_sigmas": "σ",
    "deviation.scale_floor": "1",
    "deviation.level_floor": "1",
    "deviation.merge_gap_h": "h",
    "deviation.shift_confirm_h": "h",
    "deviation.max_holdout_cv_rmse": "1",
    "deviation.zero_run_hours": "h",
    "deviation.price_eur_per_kwh": "€/kWh",
    "ended_within_h": "h",
    "min_share": "1",
    "closure_h": "h",
    "every_h": "h",
}


def closed_days(b: BuildingHours) -> Callable[[date], bool]:
    """Public holidays, and the closures the building's schedule would have opened in (a
    school's holidays, with their weekends and Wednesdays; a bridge): the days the deviation's
    baseline counts as days off (:mod:`analytics.energy.days_off`)."""
    days = b.local_day.astype("datetime64[D]")
    unique = np.unique(days)
    open_days = set(days[b.occupied].tolist())
    weekdays_open = {d.weekday() for d in open_days}
    all_days = [d for d in unique.tolist() if isinstance(d, date)]
    closed = days_off(all_days, [d in open_days for d in all_days], weekdays_open)

    def holiday(day: date) -> bool:
        return day in closed or CALENDAR.day_kind(day) is DayKind.PUBLIC_HOLIDAY

    return holiday


def score_registers(b: BuildingHours, params: DeviationParams) -> list[MeterDeviation | None]:
    """Each register of ``b`` scored over its hours; None for one the scoring failed on (a
    register whose hours all read alike has no scale: one meter must not stop the pass)."""
    hours = b.hours_ns.astype("datetime64[ns]").astype("datetime64[s]")
    holidays = closed_days(b)
    out: list[MeterDeviation | None] = []
    for r in range(len(b.registers)):
        try:
            with np.errstate(divide="ignore", invalid="ignore"):
                out.append(
                    score_meter(
                        hours,
                        b.kwh[r],
                        b.outdoor_c,
                        zone=ZoneInfo(b.zone),
                        params=params,
                        holidays=holidays,
                    )
                )
        except (ArithmeticError, ValueError) as exc:
            log.warning(
                "energy_deviation: %s %s not scored: %r", b.code, b.registers[r].device, exc
            )
            out.append(None)
    return out


def reportable(dev: MeterDeviation, end_ns: int, p: EnergyDeviationParams) -> list[DeviationEvent]:
    """The events of a register worth an alert in a pass whose data end at ``end_ns``: running
    or ended within ``ended_within_h``, and deviating by ``min_share`` of the expected kWh or
    more in their own direction, now, or at one of their anomalous hours so far and still their
    way: an alert raised stays while its event runs, rather than clear and open again each time
    the event's share wavers about ``min_share``."""
    recent_ns = end_ns - p.ended_within_h * HOUR_NS
    out = []
    for e in dev.events:
        recent = e.end is None or _ns(e.end) + HOUR_NS > recent_ns
        # signed: an excess whose hours used less than expected overall (a night above its
        # norm, a day below) is not one
        worth = e.direction * e.excess_kwh
        if recent and (
            worth >= p.min_share * _expected_kwh(dev, e)
            or (worth > 0 and _was_worth(dev, e, p.min_share))
        ):
            out.append(e)
    return out


def _span(dev: MeterDeviation, e: DeviationEvent) -> tuple[int, int]:
    """Hour indices of the event, from its onset to its end (or now), end excluded."""
    lo = int(np.searchsorted(dev.hours, e.onset))
    hi = len(dev.hours) if e.end is None else int(np.searchsorted(dev.hours, e.end)) + 1
    return lo, hi


def _was_worth(dev: MeterDeviation, e: DeviationEvent, min_share: float) -> bool:
    """Whether the event deviated by ``min_share`` of the expected kWh, in its direction, from
    its onset to one of its anomalous hours (what a pass at that hour judged it on)."""
    lo, hi = _span(dev, e)
    excess = np.cumsum(np.nan_to_num(dev.kwh[lo:hi] - dev.expected_kwh[lo:hi]))
    expected = np.cumsum(np.nan_to_num(dev.expected_kwh[lo:hi]))
    flagged = dev.anomalous[lo:hi]
    return bool(np.any(e.direction * excess[flagged] >= min_share * expected[flagged]))


def _expected_kwh(dev: MeterDeviation, e: DeviationEvent) -> float:
    """What the register was expected to use from the event's onset to its end (or now): a
    deviation that is a sliver of it, however sharp its score, is not worth an alert."""
    lo, hi = _span(dev, e)
    return float(np.nansum(dev.expected_kwh[lo:hi]))


def _in_closure(b: BuildingHours, dev: MeterDeviation, e: DeviationEvent, closure_h: int) -> bool:
    """Whether every anomalous hour of a drop lies in a scheduled closure of ``closure_h`` or
    more (school holidays, a bridge): the deviation's week counts a closed day as a Sunday, but
    a building heated at frost protection for a fortnight uses less than on a Sunday."""
    lo, hi = _span(dev, e)
    flagged = dev.anomalous[lo:hi]
    closed = (~b.occupied[lo:hi]) & (b.since_open_h[lo:hi] + b.until_open_h[lo:hi] >= closure_h)
    return bool(flagged.any()) and bool(closed[flagged].all())


def _ns(t: np.datetime64) -> int:
    return int(t.astype("datetime64[ns]").astype(np.int64))


def _utc(t: np.datetime64) -> str:
    return f"{np.datetime_as_string(t.astype('datetime64[s]'), unit='s')}Z"


class EnergyDeviation:
    spec = Spec(
        name="energy_deviation",
        description="An energy register above or below its own weather-corrected baseline",
        alert_types=(EXCESS, DROP),
        params=EnergyDeviationParams(),
        units=UNITS,
        subjects=BUILDINGS,
        reads=BUILDING_HOURS,
        window=Window(WindowKind.LOOKBACK, lookback=LOOKBACK),
        evidence=(
            "device",
            "channel",
            "carrier",
            "onset",
            "detected_at",
            "end",
            "excess_kwh",
            "excess_eur",
            "peak_score",
            "level_shift",
            "registers_deviating",
        ),
    )

    def detect(self, run: Pass) -> Detection:
        p: EnergyDeviationParams = run.params
        out = Detection(
            counts={"subjects": len(run.subjects), "registers_scored": 0, "registers_failed": 0}
        )
        # Scoring rereads 400 days of every register (~0.7 s each) for a signal whose slow mean
        # has a three-day half-life: between scorings, judge nothing, so open alerts stay open.
        last = run.state.get("scored_until")
        if last is not None and run.end < datetime.fromisoformat(last) + timedelta(hours=p.every_h):
            out.state = dict(run.state)
            out.counts["skipped"] = 1
            return out
        out.state = {"scored_until": run.end.isoformat()}
        for b in run.data:
            if b.n == 0 or not b.registers:
                continue
            end_ns = int(b.hours_ns[-1]) + HOUR_NS
            scored = score_registers(b, p.deviation)
            events: dict[int, list[tuple[int, DeviationEvent]]] = {1: [], -1: []}
            judged = False
            for r, dev in enumerate(scored):
                if dev is None:
                    out.counts["registers_failed"] += 1
                    continue
                if not (dev.state[-DAY_H:] == State.SCORED).any():
                    continue  # learning, unusable or silent: no word on this register
                judged = True
                out.counts["registers_scored"] += 1
                for e in reportable(dev, end_ns, p):
                    if e.direction < 0 and _in_closure(b, dev, e, p.closure_h):
                        continue
                    events[e.direction].append((r, e))
            if not judged:
                continue
            for direction, t in ((1, EXCESS), (-1, DROP)):
                out.judged.add((t.code, b.code))
                if events[direction]:
                    out.findings.append(_finding(t, b, events[direction], end_ns))
        out.counts["findings"] = len(out.findings)
        return out


def _finding(
    t: AlertType, b: BuildingHours, events: list[tuple[int, DeviationEvent]], end_ns: int
) -> Finding:
    r, e = max(events, key=lambda re: abs(re[1].excess_kwh))
    register = b.registers[r]
    price = PRICES.get(register.carrier)
    excess_eur = e.excess_eur if price is None else e.excess_kwh * price
    return Finding(
        type=t.code,
        tenant=b.tenant,
        subject_kind=SubjectKind.BUILDING,
        subject=b.code,
        start=datetime.fromtimestamp(_ns(e.onset) / 1e9, UTC),
        observed_at=from_ns(end_ns),
        evidence={
            "device": register.device,
            "channel": register.channel,
            "carrier": register.carrier,
            "onset": _utc(e.onset),
            "detected_at": _utc(e.detected_at),
            "end": None if e.end is None else _utc(e.end),
            "excess_kwh": round(e.excess_kwh, 1),
            "excess_eur": round(excess_eur, 0) if math.isfinite(excess_eur) else None,
            "peak_score": round(e.peak_score, 2),
            "level_shift": e.level_shift,
            "registers_deviating": len({i for i, _ in events}),
        },
    )


DETECTOR = EnergyDeviation()
