"""Score a sector leak detector against injected leaks: recall, delay and false alarms.

Protocol
--------
- Each sector's inflow series runs through the detector (by default
  :func:`analytics.water.sector_days.sector_days` then :func:`detect_sector_leaks`).
- A leak is *eligible* when its flow is at least ``min_share`` of the sector's mean inflow, it
  starts after the detector's warm-up (``warmup`` from the series start) and at least ``within``
  before the series end.  Bursts are never eligible: they are another detector's job.  An
  eligible leak is *visible within the week* when the flow it reaches ``within`` after its
  start is at least ``min_share`` of the mean inflow: every abrupt leak, and the incipient
  ones that grow fast enough (the ``visible`` pool: no rule can see the others in a week).
- A detected leak *explains* an injected one when its onset falls in
  ``[leak start − onset_slack, leak start + ramp_slack]`` and before the leak's end.  Each event
  is credited to the latest-starting leak it explains that no earlier event took; an event that
  only explains leaks already taken is a *duplicate*; one whose onset falls while an incipient
  leak is still growing (from its start to its peak) is *growth* of it; one explaining no leak
  but a burst (onset within ``onset_slack`` of it) is a *burst alarm*; any other event is a
  *false alarm*.
- A leak is *found within* ``within`` when its event is detected no later than ``within`` after
  the leak's start; delay = ``detected_at`` − start.  The lenient count (``found_any``) also
  takes a leak as found when any event, even one credited to another leak (leaks starting the
  same days merge into one step), has its onset from ``onset_slack`` before the leak's start
  and is detected within ``within`` of it.
- Sector-months = observed days after warm-up / (365.25 / 12), summed over sectors.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

import numpy as np

from analytics.water.sector import SectorLeakParams, detect_sector_leaks
from analytics.water.sector_days import sector_days
from core.config import DEFAULT_ZONE
from core.series import NS, FloatArray, Int64Array

DAYS_PER_MONTH = 365.25 / 12


class Event(Protocol):
    """What a sector detector reports: an onset, when it knew, the flow it added."""

    @property
    def start(self) -> datetime: ...
    @property
    def detected_at(self) -> datetime: ...
    @property
    def flow_m3h_estimate(self) -> float: ...


@dataclass(frozen=True)
class InjectedLeak:
    """A leak put into a simulated sector: kind ``abrupt``, ``incipient`` or ``burst``;
    ``peak`` is when an incipient leak reaches its flow."""

    sector: str
    start: datetime
    end: datetime | None
    flow_m3h: float
    kind: str
    peak: datetime | None = None


@dataclass(frozen=True)
class SectorInflow:
    """One sector's inflow series: sample times (ns UTC) and flow in m³/h."""

    sector: str
    times_ns: Int64Array
    flow_m3h: FloatArray


Detector = Callable[[SectorInflow], Sequence[Event]]


@dataclass(frozen=True)
class KindScore:
    """Recall and delays for one kind of leak (``all`` pools the kinds)."""

    kind: str
    eligible: int
    found_within: int
    recall: float | None
    found_any: int
    recall_any: float | None
    median_delay_h: float | None
    median_onset_error_h: float | None
    median_flow_error_pct: float | None


@dataclass(frozen=True)
class SectorEvaluation:
    """The detector's score over every sector of a run."""

    by_kind: dict[str, KindScore]
    events: int
    false_alarms: int
    burst_alarms: int
    duplicates: int
    growth: int
    sector_months: float
    false_alarms_per_sector_month: float


@dataclass
class _Match:
    leak: InjectedLeak
    event: Event


def sector_detector(params: SectorLeakParams | None = None, tz: str = DEFAULT_ZONE) -> Detector:
    """The production rule as a :data:`Detector`."""

    def run(inflow: SectorInflow) -> Sequence[Event]:
        return detect_sector_leaks(sector_days(inflow.times_ns, inflow.flow_m3h, tz), params)

    return run


def evaluate_sector_detector(
    inflows: Sequence[SectorInflow],
    leaks: Sequence[InjectedLeak],
    detector: Detector | None = None,
    within: timedelta = timedelta(days=7),
    min_share: float = 0.02,
    warmup: timedelta = timedelta(days=14),
    onset_slack: timedelta = timedelta(days=1),
    ramp_slack: timedelta = timedelta(days=7),
) -> SectorEvaluation:
    """Run the detector on every sector and score it against the injected leaks."""
    detect = detector or sector_detector()
    matches: list[_Match] = []
    eligible: list[InjectedLeak] = []
    seen: list[tuple[str, Event]] = []
    counts = {"events": 0, "false": 0, "burst": 0, "duplicate": 0, "growth": 0}
    months = 0.0
    means: dict[str, float] = {}
    for inflow in inflows:
        t0, t1 = _utc(int(inflow.times_ns.min())), _utc(int(inflow.times_ns.max()))
        months += max(0.0, (t1 - t0 - warmup) / timedelta(days=1)) / DAYS_PER_MONTH
        mean = means[inflow.sector] = float(np.nanmean(inflow.flow_m3h))
        mine = [lk for lk in leaks if lk.sector == inflow.sector]
        network = sorted((lk for lk in mine if lk.kind != "burst"), key=lambda lk: lk.start)
        bursts = [lk for lk in mine if lk.kind == "burst"]
        eligible += [
            lk
            for lk in network
            if lk.flow_m3h >= min_share * mean and t0 + warmup <= lk.start <= t1 - within
        ]
        events = detect(inflow)
        counts["events"] += len(events)
        seen += [(inflow.sector, e) for e in events]
        taken: set[int] = set()
        for e in events:
            explains = [
                k
                for k, lk in enumerate(network)
                if lk.start - onset_slack <= e.start <= lk.start + ramp_slack
                and (lk.end is None or e.start < lk.end)
            ]
            free = [k for k in explains if k not in taken]
            if free:
                k = free[-1]
                taken.add(k)
                matches.append(_Match(network[k], e))
            elif explains:
                counts["duplicate"] += 1
            elif any(_growing(e, lk, onset_slack) for lk in network):
                counts["growth"] += 1
            elif any(_near_burst(e, b, onset_slack) for b in bursts):
                counts["burst"] += 1
            else:
                counts["false"] += 1
    by_kind = {
        kind: _score(
            kind,
            [lk for lk in eligible if kind in ("all", lk.kind)],
            matches,
            seen,
            within,
            onset_slack,
        )
        for kind in ("abrupt", "incipient", "all")
    }
    by_kind["visible"] = _score(
        "visible",
        [lk for lk in eligible if _reached(lk, within) >= min_share * means[lk.sector]],
        matches,
        seen,
        within,
        onset_slack,
    )
    return SectorEvaluation(
        by_kind=by_kind,
        events=counts["events"],
        false_alarms=counts["false"],
        burst_alarms=counts["burst"],
        duplicates=counts["duplicate"],
        growth=counts["growth"],
        sector_months=months,
        false_alarms_per_sector_month=counts["false"] / months if months else float("nan"),
    )


def _reached(leak: InjectedLeak, after: timedelta) -> float:
    """The flow a leak adds ``after`` its start (incipient leaks grow linearly to the peak)."""
    if leak.kind != "incipient" or leak.peak is None or leak.peak <= leak.start:
        return leak.flow_m3h
    return leak.flow_m3h * min(1.0, after / (leak.peak - leak.start))


def _growing(e: Event, leak: InjectedLeak, slack: timedelta) -> bool:
    """The event's onset falls while an incipient leak grows (start to peak, before its end)."""
    if leak.kind != "incipient":
        return False
    top = leak.peak or leak.end
    return leak.start - slack <= e.start and (top is None or e.start <= top + slack)


def _near_burst(e: Event, burst: InjectedLeak, slack: timedelta) -> bool:
    end = burst.end or burst.start
    return burst.start - slack <= e.start <= end + slack


def _score(
    kind: str,
    eligible: list[InjectedLeak],
    matches: list[_Match],
    seen: list[tuple[str, Event]],
    within: timedelta,
    onset_slack: timedelta,
) -> KindScore:
    by_leak = {id(m.leak): m.event for m in matches}
    delays: list[float] = []
    onsets: list[float] = []
    flows: list[float] = []
    found = 0
    found_any = sum(
        any(
            sector == lk.sector
            and e.start >= lk.start - onset_slack
            and lk.start <= e.detected_at <= lk.start + within
            for sector, e in seen
        )
        for lk in eligible
    )
    for lk in eligible:
        e = by_leak.get(id(lk))
        if e is None:
            continue
        delay = e.detected_at - lk.start
        if delay <= within:
            found += 1
            delays.append(delay / timedelta(hours=1))
            onsets.append((e.start - lk.start) / timedelta(hours=1))
            flows.append(100.0 * (e.flow_m3h_estimate - lk.flow_m3h) / lk.flow_m3h)
    return KindScore(
        kind=kind,
        eligible=len(eligible),
        found_within=found,
        recall=found / len(eligible) if eligible else None,
        found_any=found_any,
        recall_any=found_any / len(eligible) if eligible else None,
        median_delay_h=float(np.median(delays)) if delays else None,
        median_onset_error_h=float(np.median(onsets)) if onsets else None,
        median_flow_error_pct=float(np.median(flows)) if flows else None,
    )


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns / NS, UTC)
