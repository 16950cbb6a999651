"""The water detectors scored against a simulated run's ground truth (``vigie evaluate water``).

Protocol
--------
The period is the truth's run, ``[start, start + days)``. Each detector reads the stores the way
the periodic runner would (``analytics.water.loading``) and its alerts are matched to the faults
of its kind:

- *household continuous flow* on household meters (hourly litres) against ``household_leak``;
  the target applies to leaks of at least 10 L/h: recall ≥ 0.9, precision ≥ 0.9, median time
  to detect ≤ 48 h. Recall is also given by leak size (5-10, 10-20, ≥ 20 L/h).
- *building continuous flow* and *building night flow* on building meters against
  ``building_leak`` (no target in the issue; the night-flow rule cannot judge a leak starting in
  its first ``min_baseline_nights`` nights, nor the continuous-flow rule one starting in its
  first ``min_reference_nights``, before it can tell whether the building is always on: see
  :mod:`analytics.water.building`).
- *sector leak steps* (day and night) on each sector's net inflow as measured (interval flows)
  against ``sector_leak``, scored by :mod:`analytics.evaluation.sector` (warm-up,
  eligibility ≥ 2 % of mean inflow, found within 7 days, false alarms per sector-month): recall
  ≥ 0.8 and ≤ 1 false alarm a sector-month, judged on the leaks that reach 2 % of the inflow
  within the week (an incipient leak growing over months cannot be seen in a week by any rule;
  the recall over every leak is given below it).
- *sector bursts* on each sector's net volume per 15-minute step against ``burst`` (no target;
  bursts in the detector's first ``min_history_weeks`` are not judged).

Customer and burst alerts are scored by :func:`analytics.evaluation.scoring.score` (customer
leaks: found within 7 days, 24 h of grace after the leak's end; bursts: 24 h and 2 h): an alert
explains a fault on its subject when it falls between the fault's start and its end plus the
grace; a fault is found when explained within the delay; faults too close to the run's end are
censored. A fault is judged only when its subject has a meter whose data is known for at least
half of the fault's first delay (a meter that fell silent cannot be scored) and, for rules with
a warm-up, when it starts after it; an alert explaining no fault of its kind, judged or not, is
a false alarm. An alert's time is the end of the step that raised it: time in the data, before
any transmission delay. Household meters send their hours once a day, so with the replay's
arrival times the household delay target is judged *on arrival*: an alert counts from the first
uplink of its meter at or after that time."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from analytics.evaluation.scoring import Detected, Injected, Score, score
from analytics.evaluation.sector import (
    InjectedLeak,
    SectorEvaluation,
    SectorInflow,
    evaluate_sector_detector,
)
from analytics.water.axis import HourlyAxis
from analytics.water.building import (
    AlwaysOnParams,
    NightFlowParams,
    building_continuous_flow,
    detect_night_flow,
)
from analytics.water.burst import SECTOR_BURST_PARAMS, detect_bursts
from analytics.water.household import detect_continuous_flow
from analytics.water.loading import (
    BUILDING_HOURLY_RULES,
    WaterMeters,
    register_matrix,
    sector_inflow,
    sector_matrix,
)
from analytics.water.meter_hours import MeterHours
from core.series import Int64Array, from_ns, to_ns
from core.timeseries import TimeSeriesStore

Arrivals = Mapping[str, Int64Array]  # DevEUI → uplink arrival times, ns UTC, ascending

CUSTOMER_DELAY = timedelta(days=7)
CUSTOMER_GRACE = timedelta(hours=24)
BURST_DELAY = timedelta(hours=24)
BURST_GRACE = timedelta(hours=2)
SIZES: tuple[tuple[str, float, float], ...] = (
    ("5-10 L/h", 0.0, 10.0),
    ("10-20 L/h", 10.0, 20.0),
    (">= 20 L/h", 20.0, float("inf")),
)


@dataclass(frozen=True)
class Fault:
    kind: str
    subject: str
    start: datetime
    end: datetime | None
    magnitude: float
    details: dict[str, Any]


@dataclass(frozen=True)
class Run:
    start: datetime
    end: datetime
    seed: int | None
    territory: str | None
    faults: list[Fault]

    def of(self, kind: str) -> list[Fault]:
        return [f for f in self.faults if f.kind == kind]


@dataclass
class Row:
    """One line of the table: a detector against one kind (or size) of fault."""

    detector: str
    faults: str
    injected: int
    found: int
    recall: float | None
    median_delay_h: float | None
    detections: int | None = None
    false_alarms: int | None = None
    precision: float | None = None
    false_alarms_per_sector_month: float | None = None
    censored: int = 0
    target: str = ""
    result: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


class _Event(Protocol):
    @property
    def meter(self) -> int: ...
    @property
    def alert(self) -> int: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int | None: ...


def read_truth(path: Path) -> Run:
    doc = json.loads(path.read_text(encoding="utf-8"))
    run = doc["run"]
    start = datetime.fromisoformat(run["start"])
    faults = [
        Fault(
            f["kind"],
            f["subject"],
            _when(f["start"]),
            _when(f["end"]) if f["end"] else None,
            float(f["magnitude"] or 0.0),
            dict(f.get("details") or {}),
        )
        for f in doc["faults"]
    ]
    return Run(
        start, start + timedelta(days=run["days"]), run.get("seed"), run.get("territory"), faults
    )


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _alerts(subjects: Sequence[str], axis: HourlyAxis, events: Sequence[_Event]) -> list[Detected]:
    """Detections with times: an alert at the end of the step that raised it."""
    t = axis.utc.astype("datetime64[s]").astype(np.int64)
    step = int(t[1] - t[0]) if t.size > 1 else 3600

    def at(col: int) -> datetime:
        return datetime.fromtimestamp(int(t[0]) + col * step, UTC)

    return [
        Detected(
            subjects[e.meter],
            at(e.alert + 1),
            at(e.start),
            None if e.end is None else at(e.end),
        )
        for e in events
    ]


def _on_arrival(detected: Sequence[Detected], arrivals: Arrivals) -> list[Detected]:
    """Each alert at the first arrival of its meter's frames at or after it; an alert whose
    data had not arrived by the end of the run is dropped."""
    out: list[Detected] = []
    for d in detected:
        times = arrivals.get(d.subject)
        if times is None:
            continue
        k = int(np.searchsorted(times, to_ns(d.alert)))
        if k < times.size:
            out.append(replace(d, alert=from_ns(int(times[k]))))
    return out


def _observed(
    faults: Sequence[Fault], subjects: Sequence[str], mh: MeterHours, run: Run, span: timedelta
) -> tuple[list[Fault], dict[str, int]]:
    """Faults a detector could see: their subject has a meter (row of ``mh``, named by
    ``subjects``) whose data is known for at least half of the fault's first ``span``."""
    rows: dict[str, list[int]] = {}
    for r, subject in enumerate(subjects):
        rows.setdefault(subject, []).append(r)
    t = mh.axis.utc.astype("datetime64[s]").astype(np.int64)
    known = np.isfinite(mh.volume_l)
    seen: list[Fault] = []
    for f in faults:
        if f.subject not in rows:
            continue
        stop = min(f.end or run.end, f.start + span, run.end)
        a, b = np.searchsorted(t, [f.start.timestamp(), stop.timestamp()])
        if b > a and known[rows[f.subject], a:b].any(axis=0).mean() >= 0.5:
            seen.append(f)
    metered = sum(f.subject in rows for f in faults)
    return seen, {"no_meter": len(faults) - metered, "no_data": metered - len(seen)}


def _injected(faults: Sequence[Fault]) -> list[Injected]:
    return [Injected(f.subject, f.start, f.end, f.magnitude) for f in faults]


@dataclass(frozen=True)
class _Judge:
    """:func:`analytics.evaluation.scoring.score` with one run's end, delay and grace. Recall is
    over the faults judged; an alert is a false alarm only when it explains none of ``every``
    fault of the kind (a leak in a warm-up or on a meter short of data is not judged, yet real)."""

    run_end: datetime
    max_delay: timedelta
    grace: timedelta
    every: Sequence[Fault]

    def __call__(self, judged: Sequence[Fault], detected: Sequence[Detected]) -> Score:
        found = self._score(judged, detected)
        return replace(found, false_alarms=self._score(self.every, detected).false_alarms)

    def _score(self, faults: Sequence[Fault], detected: Sequence[Detected]) -> Score:
        return score(
            _injected(faults), detected, self.run_end, max_delay=self.max_delay, grace=self.grace
        )

    def false_alarms(self, detected: Sequence[Detected]) -> list[str]:
        """``subject@alert`` of each detection that explains no fault (for the JSON report)."""
        return [
            f"{d.subject}@{d.alert:%Y-%m-%dT%H:%MZ}"
            for d in detected
            if self._score(self.every, [d]).false_alarms
        ]


def _row(detector: str, faults: str, s: Score, **extra: Any) -> Row:
    return Row(
        detector,
        faults,
        injected=s.injected,
        found=s.found,
        recall=s.recall,
        median_delay_h=s.median_delay_h,
        detections=s.detections,
        false_alarms=s.false_alarms,
        precision=s.precision,
        censored=s.censored,
        **extra,
    )


def _verdict(injected: int, ok: bool) -> str:
    return "n/a" if injected == 0 else "PASS" if ok else "MISS"


def household_rows(
    store: TimeSeriesStore, meters: WaterMeters, run: Run, arrivals: Arrivals | None = None
) -> list[Row]:
    """Continuous flow on household meters: the ≥ 10 L/h target, then recall by leak size.

    With ``arrivals`` the delay target is judged when the alert could be known: when the frame
    holding the hour that raised it arrived (household meters send their hours once a day)."""
    subjects = meters.households
    if not subjects:
        return []
    mh = register_matrix(store, subjects, run.start, run.end)
    ax = mh.axis
    events = detect_continuous_flow(mh.volume_l, ax.local_hour, ax.local_date)
    detected = _alerts(subjects, ax, events)
    leaks, unseen = _observed(run.of("household_leak"), subjects, mh, run, CUSTOMER_DELAY)
    judge = _Judge(run.end, CUSTOMER_DELAY, CUSTOMER_GRACE, run.of("household_leak"))
    every = judge(leaks, detected)
    big_leaks = [f for f in leaks if f.magnitude >= 10.0]
    big = judge(big_leaks, detected)
    known = None if arrivals is None else judge(big_leaks, _on_arrival(detected, arrivals))
    delay_h = big.median_delay_h if known is None else known.median_delay_h
    ok = (
        (big.recall or 0.0) >= 0.9
        and (every.precision or 0.0) >= 0.9
        and delay_h is not None
        and delay_h <= 48.0
    )
    head = Row(
        "household continuous flow",
        "household_leak >= 10 L/h",
        injected=big.injected,
        found=big.found,
        recall=big.recall,
        median_delay_h=big.median_delay_h,
        detections=every.detections,
        false_alarms=every.false_alarms,  # precision and false alarms: leaks of every size
        precision=every.precision,
        censored=big.censored,
        target="recall>=0.9 precision>=0.9 median<=48h" + ("" if known is None else " on arrival"),
        result=_verdict(big.injected, ok),
        notes={
            "meters": len(subjects),
            "unknown_hours_share": round(float(np.isnan(mh.volume_l).mean()), 4),
            **unseen,
            "false_alarms": judge.false_alarms(detected),
        },
    )
    rows = [head]
    if known is not None:
        rows.append(_row("  known on arrival", "household_leak >= 10 L/h", known))
    rows.append(_row("household continuous flow", "household_leak, every size", every))
    for label, lo, hi in SIZES:
        s = judge([f for f in leaks if lo <= f.magnitude < hi], detected)
        rows.append(
            Row(
                "  by size",
                f"household_leak {label}",
                s.injected,
                s.found,
                s.recall,
                s.median_delay_h,
                censored=s.censored,
            )
        )
    return rows


def building_rows(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Continuous flow and night flow on building meters against ``building_leak``."""
    devices = list(meters.buildings)
    if not devices:
        return []
    subjects = [meters.buildings[d] for d in devices]
    mh = register_matrix(store, devices, run.start, run.end, rules=BUILDING_HOURLY_RULES)
    ax = mh.axis
    declared = [meters.continuous_use.get(d) for d in devices]
    continuous = building_continuous_flow(mh.volume_l, ax, declared)
    flow = _alerts(subjects, ax, continuous.alerts)
    nights = _alerts(subjects, ax, detect_night_flow(mh.volume_l, ax))
    leaks, unseen = _observed(run.of("building_leak"), subjects, mh, run, CUSTOMER_DELAY)
    judge = _Judge(run.end, CUSTOMER_DELAY, CUSTOMER_GRACE, run.of("building_leak"))
    # A leak in the first nights is unjudged by either rule: no baseline, no reference yet.
    reference = run.start + timedelta(days=AlwaysOnParams().min_reference_nights + 1)
    warmup = run.start + timedelta(days=NightFlowParams().min_baseline_nights + 1)
    early = [f for f in leaks if f.start < warmup]
    return [
        _row(
            "building continuous flow",
            "building_leak",
            judge([f for f in leaks if f.start >= reference], flow),
            notes={
                "meters": len(devices),
                **unseen,
                "in_warmup": sum(f.start < reference for f in leaks),
                "always_on": sorted({subjects[e.meter] for e in continuous.always_on}),
                "unjudged": sorted({subjects[e.meter] for e in continuous.unjudged}),
                "unknown_hours_share": round(float(np.isnan(mh.volume_l).mean()), 4),
                "false_alarms": judge.false_alarms(flow),
            },
        ),
        _row(
            "building night flow",
            "building_leak",
            judge([f for f in leaks if f.start >= warmup], nights),
            notes={"in_warmup": len(early), "false_alarms": judge.false_alarms(nights)},
        ),
        _row("building, either detector", "building_leak", judge(leaks, flow + nights)),
    ]


def sector_rows(store: TimeSeriesStore, meters: WaterMeters, run: Run) -> list[Row]:
    """Leak steps and bursts on each sector's net inflow."""
    sectors = {c: m for c, m in meters.sectors.items() if m.inflow}
    if not sectors:
        return []
    codes = list(sectors)
    inflows: list[SectorInflow] = []
    for code, m in sectors.items():
        times, flow = sector_inflow(store, m, run.start, run.end)
        if times.size > 1:  # a sector without data has no night to judge
            inflows.append(SectorInflow(code, times, flow))
    leaks = [
        InjectedLeak(
            f.subject,
            f.start,
            f.end,
            f.magnitude,
            str(f.details.get("onset", "abrupt")),
            _when(f.details["peak"]) if f.details.get("peak") else None,
        )
        for f in run.of("sector_leak")
    ] + [InjectedLeak(f.subject, f.start, f.end, f.magnitude, "burst") for f in run.of("burst")]
    ev = evaluate_sector_detector(inflows, [lk for lk in leaks if lk.sector in sectors])
    rows = [_sector_row(ev, kind) for kind in ("visible", "all", "abrupt", "incipient")]
    mh = sector_matrix(store, list(sectors.values()), run.start, run.end)
    bursts = _alerts(codes, mh.axis, detect_bursts(mh.volume_l, mh.axis, SECTOR_BURST_PARAMS))
    warmup = run.start + timedelta(weeks=SECTOR_BURST_PARAMS.min_history_weeks)
    judge = _Judge(run.end, BURST_DELAY, BURST_GRACE, run.of("burst"))
    mine, unseen = _observed(run.of("burst"), codes, mh, run, BURST_DELAY)
    rows.append(
        _row(
            "sector bursts",
            "burst",
            judge([f for f in mine if f.start >= warmup], bursts),
            notes={
                "in_warmup": sum(f.start < warmup for f in mine),
                **unseen,
                "false_alarms": judge.false_alarms(bursts),
            },
        )
    )
    return rows


def _sector_row(ev: SectorEvaluation, kind: str) -> Row:
    k = ev.by_kind[kind]
    if kind != "visible":
        label = "sector_leak >= 2 % of inflow" if kind == "all" else f"sector_leak {kind}"
        return Row(
            "  every leak" if kind == "all" else "  by onset",
            label,
            k.eligible,
            k.found_within,
            k.recall,
            k.median_delay_h,
        )
    wrong = ev.false_alarms + ev.burst_alarms
    ok = k.recall is not None and k.recall >= 0.8 and ev.false_alarms_per_sector_month <= 1.0
    return Row(
        "sector leak steps",
        "sector_leak >= 2 % within 7 d",
        injected=k.eligible,
        found=k.found_within,
        recall=k.recall,
        median_delay_h=k.median_delay_h,
        detections=ev.events,
        false_alarms=ev.false_alarms,
        precision=(ev.events - wrong) / ev.events if ev.events else None,
        false_alarms_per_sector_month=ev.false_alarms_per_sector_month,
        target="recall>=0.8 in 7 d, <=1 FA/sector-month",
        result=_verdict(k.eligible, ok),
        notes={
            "burst_alarms": ev.burst_alarms,
            "duplicates": ev.duplicates,
            "growth": ev.growth,
            "sector_months": round(ev.sector_months, 2),
            "found_any": k.found_any,
            "median_onset_error_h": k.median_onset_error_h,
            "median_flow_error_pct": k.median_flow_error_pct,
        },
    )


def evaluate_water(
    store: TimeSeriesStore, meters: WaterMeters, run: Run, arrivals: Arrivals | None = None
) -> list[Row]:
    """Every water detector scored over the run (see the module docstring); ``arrivals`` (the
    replay's uplink times per DevEUI) adds the household delay counted from data arrival."""
    return [
        *household_rows(store, meters, run, arrivals),
        *building_rows(store, meters, run),
        *sector_rows(store, meters, run),
    ]
