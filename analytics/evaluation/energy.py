"""The energy and comfort detectors scored against injected faults (``vigie evaluate energy``).

Protocol
--------
The detectors run as the watch runs them: one pass every ``pass_hours`` over the last
``lookback`` of each building's hours (:class:`BuildingHours`, as the feed would build them from
the store), each through its ``DETECTOR.detect`` with the state its previous pass left. Alerts
follow the alert engine's rule: a finding opens an alert on (type, subject) unless one is open;
a pass that judges the subject without a finding resolves it; a pass that does not judge it
leaves it as it is.

Matching. Each fault kind is scored against one alert type:

============================  ====================================  ===========
fault (ground truth)          alert type                            subject
============================  ====================================  ===========
``heating_on_holiday``        ``comfort_unoccupied_heating``        building
``setpoint_excess``           ``comfort_setpoint_drift``            building
``baseload_increase``         ``energy_unoccupied_excess``          building
meter ``frozen``              ``energy_meter_frozen``               meter
meter ``reset``               ``energy_meter_reset``                meter
meter ``jump``                ``energy_meter_jump``                 meter
meter ``zeros``               ``energy_meter_zeros``                meter
============================  ====================================  ===========

An alert *explains* a fault when it is on the fault's subject and it was raised between the
fault's start and its end plus ``GRACE`` (48 h: a daily rule needs its last day to be seen). A
fault is *found* when an alert of its type explains it; its delay is from its start to the first
such alert. Recall = found / judged faults of the kind. Precision of a type = its alerts that
explain at least one fault of the kinds it is scored against / all its alerts — except that
``energy_unoccupied_excess`` is also right when it explains a ``heating_on_holiday`` (heating
an empty building *is* consumption in an unoccupied period above the baseload); those alerts
are counted apart in the table. A fault is *judged* unless the caller marked it unobservable
(with the reason: e.g. an injected "excess" setpoint below the building's own setpoint, or a
setpoint fault without an occupied heating day in its window) — the unjudged are listed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from statistics import median
from typing import Any

import numpy as np

from analytics.detectors.base import Detector, Pass, Subject
from analytics.energy.building_hours import HOUR_NS, BuildingHours, Register
from core.series import from_ns, to_ns

GRACE = timedelta(hours=48)
TYPE_OF_FAULT = {
    "heating_on_holiday": "comfort_unoccupied_heating",
    "setpoint_excess": "comfort_setpoint_drift",
    "baseload_increase": "energy_unoccupied_excess",
    "meter_frozen": "energy_meter_frozen",
    "meter_reset": "energy_meter_reset",
    "meter_jump": "energy_meter_jump",
    "meter_zeros": "energy_meter_zeros",
}
ALSO_EXPLAINS = {"energy_unoccupied_excess": ("heating_on_holiday",)}
METER_KINDS = ("meter_frozen", "meter_reset", "meter_jump", "meter_zeros")


@dataclass(frozen=True)
class InjectedFault:
    kind: str  # a key of TYPE_OF_FAULT
    subject: str  # building code, or the meter's DevEUI
    start: datetime
    end: datetime
    judged: bool = True
    why_not: str = ""


@dataclass
class Alert:
    type: str
    subject: str
    raised: datetime
    start: datetime  # the finding's start: when the condition began
    resolved: datetime | None = None
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Row:
    fault: str
    alert_type: str
    injected: int
    judged: int
    found: int
    recall: float | None
    alerts: int
    true_alerts: int
    precision: float | None
    median_delay_h: float | None
    notes: dict[str, Any] = field(default_factory=dict)


def run_passes(
    detectors: Mapping[str, Detector],
    subjects: Sequence[Subject],
    hours: Sequence[BuildingHours],
    first: datetime,
    last: datetime,
    *,
    pass_hours: int = 24,
    lookback: timedelta = timedelta(days=35),
) -> list[Alert]:
    """Every alert the detectors raise on passes every ``pass_hours`` from ``first`` to
    ``last`` (the buildings' hours must cover ``[first − lookback, last)``)."""
    open_: dict[tuple[str, str], Alert] = {}
    done: list[Alert] = []
    t = first
    params = {n: d.spec.params for n, d in detectors.items()}
    states: dict[str, dict[str, Any]] = {n: {} for n in detectors}
    since: datetime | None = None
    while t <= last:
        windows = [_window(b, t - lookback, t) for b in hours]
        for name, detector in detectors.items():
            run = Pass(subjects, windows, params[name], t - lookback, t, since, states[name])
            detection = detector.detect(run)
            states[name] = detection.state
            holding = {(f.type, f.subject) for f in detection.findings}
            for f in detection.findings:
                key = (f.type, f.subject)
                if key not in open_:
                    open_[key] = Alert(f.type, f.subject, t, f.start, evidence=f.evidence)
            for key in sorted(detection.judged - holding):
                if key in open_:
                    alert = open_.pop(key)
                    alert.resolved = t
                    done.append(alert)
        since = t
        t += timedelta(hours=pass_hours)
    return sorted(done + list(open_.values()), key=lambda a: (a.raised, a.type, a.subject))


def _window(b: BuildingHours, start: datetime, end: datetime) -> BuildingHours:
    lo = int(np.searchsorted(b.hours_ns, to_ns(start)))
    hi = int(np.searchsorted(b.hours_ns, to_ns(end)))
    return b.window(lo, max(hi, lo + 1)) if hi > lo else b.window(lo, lo + 1)


def explains(alert: Alert, fault: InjectedFault) -> bool:
    """Same subject, raised between the fault's start and its end plus the grace."""
    return alert.subject == fault.subject and fault.start <= alert.raised <= fault.end + GRACE


def score(faults: Sequence[InjectedFault], alerts: Sequence[Alert]) -> list[Row]:
    """One row per fault kind (meter kinds also pooled), with the precision of its alert type."""
    rows = []
    for kind, type_ in TYPE_OF_FAULT.items():
        rows.append(_row(kind, type_, [f for f in faults if f.kind == kind], faults, alerts))
    meter = [r for r in rows if r.fault in METER_KINDS]
    rows.append(_pooled("meter faults", "energy_meter_*", meter))
    return rows


def _row(
    kind: str,
    type_: str,
    mine: Sequence[InjectedFault],
    faults: Sequence[InjectedFault],
    alerts: Sequence[Alert],
) -> Row:
    typed = [a for a in alerts if a.type == type_]
    judged = [f for f in mine if f.judged]
    delays = []
    for f in judged:
        hits = [a for a in typed if explains(a, f)]
        if hits:
            delays.append((min(a.raised for a in hits) - f.start).total_seconds() / 3600)
    kinds = (kind, *ALSO_EXPLAINS.get(type_, ()))
    by_other = 0
    true = 0
    for a in typed:
        mine_hit = any(explains(a, f) for f in faults if f.kind == kind)
        other_hit = any(explains(a, f) for f in faults if f.kind in kinds and f.kind != kind)
        true += mine_hit or other_hit
        by_other += other_hit and not mine_hit
    notes: dict[str, Any] = {}
    if by_other:
        notes["explained_by_heating_on_holiday"] = by_other
    unjudged = [f.why_not for f in mine if not f.judged]
    if unjudged:
        notes["not_judged"] = sorted(set(unjudged))
    return Row(
        kind,
        type_,
        len(mine),
        len(judged),
        len(delays),
        len(delays) / len(judged) if judged else None,
        len(typed),
        true,
        true / len(typed) if typed else None,
        median(delays) if delays else None,
        notes,
    )


def _pooled(name: str, type_: str, rows: Sequence[Row]) -> Row:
    judged = sum(r.judged for r in rows)
    found = sum(r.found for r in rows)
    alerts = sum(r.alerts for r in rows)
    true = sum(r.true_alerts for r in rows)
    return Row(
        name,
        type_,
        sum(r.injected for r in rows),
        judged,
        found,
        found / judged if judged else None,
        alerts,
        true,
        true / alerts if alerts else None,
        None,
    )


# -- meter faults injected into registers -------------------------------------------------------

METER_FAULT_KINDS = ("frozen", "reset", "jump", "zeros")


def inject_meter_fault(
    register: Register, kind: str, at: datetime, days: float, rng: np.random.Generator
) -> tuple[Register, datetime]:
    """The register as the store would hold it with the fault from ``at``; and the fault's end.

    frozen: the index repeats its value at ``at`` for ``days`` (a stuck device, still sending);
    reset: the index restarts from 0 at ``at``; jump: from ``at`` on the index is higher by
    50-200 × the register's mean hourly kWh (at least 500 kWh: a register rewritten, a wrong
    multiplier on one frame); zeros: one to three consecutive readings at 0.
    """
    t, v = register.times_ns, register.index_kwh.copy()
    i = int(np.searchsorted(t, to_ns(at)))
    if i >= len(t) - 4:
        raise ValueError("the fault starts after the register's last readings")
    end = at
    if kind == "frozen":
        j = int(np.searchsorted(t, to_ns(at + timedelta(days=days))))
        rise = v[j:] - v[max(j - 1, i)] if j < len(v) else v[j:]
        v[i:j] = v[i]
        v[j:] = v[i] + rise  # a blocked pulse input: the frozen days' consumption is lost
        end = from_ns(int(t[min(j, len(t) - 1)]))
    elif kind == "reset":
        v[i:] = v[i:] - v[i]
    elif kind == "jump":
        hours = max((t[-1] - t[0]) / HOUR_NS, 1.0)
        mean = float(v[-1] - v[0]) / hours
        v[i:] = v[i:] + max(500.0, mean * float(rng.uniform(50, 200)))
    elif kind == "zeros":
        n = int(rng.integers(1, 4))
        v[i : i + n] = 0.0
        end = from_ns(int(t[i + n]))
    else:
        raise ValueError(f"unknown meter fault {kind!r}")
    return replace(register, index_kwh=v), end


def render(rows: Iterable[Row]) -> str:
    head = (
        f"{'fault':<20} {'alert type':<28} {'found/judged':>12} {'recall':>6} "
        f"{'true/alerts':>11} {'precision':>9} {'median h':>8}"
    )
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(
            f"{r.fault:<20} {r.alert_type:<28} {f'{r.found}/{r.judged}':>12} "
            f"{_f(r.recall):>6} {f'{r.true_alerts}/{r.alerts}':>11} {_f(r.precision):>9} "
            f"{_f(r.median_delay_h, '.0f'):>8}" + (f"  {_notes(r.notes)}" if r.notes else "")
        )
    return "\n".join(lines)


def _f(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None else format(x, spec)


def _notes(notes: Mapping[str, Any]) -> str:
    return "; ".join(f"{k}: {v}" for k, v in notes.items())


Judge = Callable[[InjectedFault], InjectedFault]
