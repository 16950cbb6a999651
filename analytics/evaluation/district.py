"""Score a sector detector on a district whose leaks are labelled (L-Town, BattLeDIM 2020).

Protocol (issue 11)
-------------------
- The leaks judged are those starting in the scored period (``since`` to the series' end):
  a leak is *found* when an event's onset lies between 24 h before its start and 7 days after,
  and the event's ``detected_at`` is at most 7 days after the start; each event is credited to
  one leak (the latest-starting one it explains that no earlier event took).  Delay =
  ``detected_at`` − start, over the leaks found.
- An event explaining a leak already taken is a *duplicate*; one explaining a leak only after
  7 days, or whose onset falls while an incipient leak still grows (from its start to its peak,
  or its end, or the series' end when neither is known), is *late*; any other event matches no
  leak: a *false alarm*.  Only events with an onset in the scored period count.
- The reference is the plain rule of the issue, :func:`daily_mean_rule`: a local day's mean
  flow above the median of the 14 days before it by more than 2 robust sigmas (1.4826 × the
  median absolute deviation of those days); a run of such days is one event, its onset the
  start of its first day and its ``detected_at`` that day's last sample.

Labels: the L-Town file's columns ``leak_id,start_utc,end_utc,leak_type,peak_time_utc`` (times
``YYYY-MM-DD HH:MM`` in UTC, ``end_utc`` empty while the leak runs).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from analytics.evaluation.sector import Event
from core.config import DEFAULT_ZONE
from core.series import NS, FloatArray, Int64Array, from_ns

WITHIN = timedelta(days=7)
EARLY = timedelta(hours=24)


@dataclass(frozen=True)
class LabelledLeak:
    leak_id: str
    start: datetime
    end: datetime | None
    kind: str  # abrupt or incipient
    peak: datetime | None


@dataclass(frozen=True)
class RuleEvent:
    """An event of the reference rule (the :class:`Event` protocol)."""

    start: datetime
    detected_at: datetime
    flow_m3h_estimate: float


@dataclass(frozen=True)
class LeakOutcome:
    leak: LabelledLeak
    event: Event | None  # the event credited with it
    found: bool


@dataclass
class DistrictScore:
    outcomes: list[LeakOutcome] = field(default_factory=list)
    false_alarms: list[Event] = field(default_factory=list)
    late: list[Event] = field(default_factory=list)
    duplicates: list[Event] = field(default_factory=list)

    @property
    def leaks(self) -> int:
        return len(self.outcomes)

    @property
    def found(self) -> int:
        return sum(o.found for o in self.outcomes)

    @property
    def delays_h(self) -> list[float]:
        return [(o.event.detected_at - o.leak.start) / timedelta(hours=1) for o in self.outcomes
                if o.found and o.event is not None]  # fmt: skip

    @property
    def median_delay_h(self) -> float | None:
        d = self.delays_h
        return float(np.median(d)) if d else None


def read_leak_labels(path: Path) -> list[LabelledLeak]:
    """The labelled leaks of a district (see the module docstring for the columns)."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        return [
            LabelledLeak(
                row["leak_id"],
                _utc(row["start_utc"]),
                _utc(row["end_utc"]) if row.get("end_utc") else None,
                row["leak_type"],
                _utc(row["peak_time_utc"]) if row.get("peak_time_utc") else None,
            )
            for row in csv.DictReader(f)
        ]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.strip()).replace(tzinfo=UTC)


def score_district(
    events: Sequence[Event], labels: Sequence[LabelledLeak], since: datetime, until: datetime
) -> DistrictScore:
    """Score the events with an onset in ``[since, until]`` against the leaks starting then."""
    judged = sorted((lk for lk in labels if since <= lk.start <= until), key=lambda lk: lk.start)
    taken: dict[str, Event] = {}
    score = DistrictScore()
    for e in sorted(events, key=lambda e: e.detected_at):
        if not since <= e.start <= until:
            continue
        explains = [lk for lk in judged if lk.start - EARLY <= e.start <= lk.start + WITHIN]
        free = [lk for lk in explains if lk.leak_id not in taken]
        if free and e.detected_at - free[-1].start <= WITHIN:
            taken[free[-1].leak_id] = e
        elif free:
            score.late.append(e)
        elif explains:
            score.duplicates.append(e)
        elif any(_growing(e, lk, until) for lk in labels):
            score.late.append(e)
        else:
            score.false_alarms.append(e)
    score.outcomes = [LeakOutcome(lk, taken.get(lk.leak_id), lk.leak_id in taken) for lk in judged]
    return score


def _growing(e: Event, leak: LabelledLeak, until: datetime) -> bool:
    if leak.kind != "incipient":
        return False
    top = leak.peak or leak.end or until
    return leak.start - EARLY <= e.start <= top


def daily_mean_rule(
    times_ns: Int64Array,
    flow_m3h: FloatArray,
    tz: str = DEFAULT_ZONE,
    window_days: int = 14,
    sigmas: float = 2.0,
    min_coverage: float = 0.75,
) -> list[RuleEvent]:
    """The reference rule of the module docstring over local days of ``tz``."""
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(flow_m3h, dtype=np.float64)
    keep = np.isfinite(v)
    t, v = t[keep], v[keep]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    zone = ZoneInfo(tz)
    local = np.array([datetime.fromtimestamp(int(x) // NS, zone).date() for x in t])
    days, first = np.unique(local, return_index=True)
    last = np.append(first[1:], t.size) - 1
    sums = np.add.reduceat(v, first)
    counts = np.diff(np.append(first, t.size))
    step = float(np.median(np.diff(t))) if t.size > 1 else 3600.0 * NS
    full = counts >= min_coverage * (86400 * NS / step)
    mean = np.where(full, sums / counts, np.nan)
    events: list[RuleEvent] = []
    alarm_before = False
    for i in range(len(days)):
        ref = mean[max(0, i - window_days) : i]
        ref = ref[np.isfinite(ref)]
        if not np.isfinite(mean[i]) or ref.size < window_days // 2:
            alarm_before = False
            continue
        med = float(np.median(ref))
        mad = 1.4826 * float(np.median(np.abs(ref - med)))
        alarm = bool(mean[i] > med + sigmas * mad)
        if alarm and not alarm_before:
            events.append(
                RuleEvent(_day_start(days[i], zone), from_ns(int(t[last[i]])), mean[i] - med)
            )
        alarm_before = alarm
    return events


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, datetime.min.time(), zone).astimezone(UTC)
