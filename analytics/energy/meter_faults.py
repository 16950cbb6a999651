"""Faults of an energy register read from its raw readings: frozen, reset, impossible jump, zeros.

A register (``energy_kwh``, a cumulative index) only rises. On one register's readings, in time
order:

- **zeros**: a reading at 0 (within ``zero_kwh``) after a non-zero index, followed by a reading
  back at the previous level: the meter or its gateway sent a zero, nothing was consumed or lost;
- **rollover**: a drop that is a plausible rise once a power of ten is added (the register
  wrapped) is consumption, not a fault;
- **reset**: any other drop beyond ``reverse_tolerance_kwh`` (counter restarted, meter replaced):
  the consumption of that interval is unknown;
- **jump**: a rise at a mean power above ``jump_factor`` × the register's own 99th percentile of
  hourly kWh (over the window, or the highest such value of earlier windows) and of at least
  ``min_jump_kwh``: an impossible consumption;
- **frozen**: the index unchanged over at least ``min_flat_hours`` with at least
  ``min_flat_readings`` readings (the device keeps reporting the same value: a stuck sensor, a
  blocked pulse input) while the building was occupied for at least ``min_occupied_hours`` of it,
  on a register that normally moves when occupied (median occupied hourly kWh > 0 outside the run).
  A silent device is not frozen: without readings nothing is said.

An event's ``end`` is None while it lasts at the end of the readings (frozen), else the time of
the reading that ended it; instantaneous events (reset, jump) end where they start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from analytics.energy.building_hours import HOUR_NS, BoolArray
from core.series import FloatArray, Int64Array


@dataclass(frozen=True)
class MeterFaultParams:
    reverse_tolerance_kwh: float = field(default=0.01, metadata={"doc": "drop ignored"})
    zero_kwh: float = field(default=0.001, metadata={"doc": "index read as zero"})
    jump_factor: float = field(default=10.0, metadata={"doc": "× the register's p99 hourly kWh"})
    min_jump_kwh: float = field(default=50.0, metadata={"doc": "smallest rise called a jump"})
    min_flat_hours: float = field(default=12.0, metadata={"doc": "shortest frozen run"})
    min_flat_readings: int = field(default=4, metadata={"doc": "readings in a frozen run"})
    min_occupied_hours: int = field(default=3, metadata={"doc": "occupied hours in the run"})
    recent_hours: float = field(
        default=24.0, metadata={"doc": "an ended event is reported this long"}
    )


@dataclass(frozen=True)
class MeterFault:
    kind: str  # frozen, reset, jump, zeros
    start_ns: int
    end_ns: int | None
    evidence: dict[str, Any]


def register_faults(
    times_ns: Int64Array,
    index_kwh: FloatArray,
    hours_ns: Int64Array,
    occupied: BoolArray,
    hourly_kwh: FloatArray,
    p: MeterFaultParams,
    reference_kwh_h: float = 0.0,
) -> list[MeterFault]:
    """Every fault of one register over its readings (see the module docstring);
    ``reference_kwh_h``: the highest hourly use known from earlier windows (a boiler starting in
    autumn after a summer of hot water only is not a jump)."""
    keep = np.isfinite(index_kwh)
    t = np.asarray(times_ns, dtype=np.int64)[keep]
    v = np.asarray(index_kwh, dtype=np.float64)[keep]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if len(t) < 2:
        return []
    out: list[MeterFault] = []
    d = np.diff(v)
    dt_h = np.diff(t) / HOUR_NS
    p99 = max(usual_max(hourly_kwh), reference_kwh_h)
    limit_kwh_h = max(p.jump_factor * p99, 0.0)
    skip: set[int] = set()
    for i in np.flatnonzero(d < -p.reverse_tolerance_kwh).tolist():
        j = i + 1  # the reading that dropped
        if j in skip:
            continue
        before = float(v[i])
        if abs(v[j]) <= p.zero_kwh and before > p.zero_kwh:
            back = j + 1
            while back < len(v) and abs(v[back]) <= p.zero_kwh:
                back += 1
            if back < len(v) and v[back] >= before - p.reverse_tolerance_kwh:
                out.append(
                    MeterFault(
                        "zeros",
                        int(t[j]),
                        int(t[back]),
                        {"readings_at_zero": back - j, "index_kwh": round(before, 3)},
                    )
                )
                skip.update(range(j, back + 1))
                continue
        if i >= 1 and _was_jump(v, t, i, limit_kwh_h, p):
            continue  # the drop back after a spike: reported as the jump
        if _rollover(before, float(v[j]), max(limit_kwh_h, p.min_jump_kwh) * max(dt_h[i], 1.0)):
            continue
        out.append(
            MeterFault(
                "reset",
                int(t[j]),
                int(t[j]),
                {"index_before_kwh": round(before, 3), "index_after_kwh": round(float(v[j]), 3)},
            )
        )
    rate = d / np.maximum(dt_h, 1.0)
    for i in np.flatnonzero((d >= p.min_jump_kwh) & (rate > limit_kwh_h)).tolist():
        if i + 1 in skip:
            continue
        out.append(
            MeterFault(
                "jump",
                int(t[i + 1]),
                int(t[i + 1]),
                {
                    "rise_kwh": round(float(d[i]), 1),
                    "over_hours": round(float(dt_h[i]), 2),
                    "usual_max_kwh_per_h": round(p99, 2),
                },
            )
        )
    out.extend(_frozen(t, v, hours_ns, occupied, hourly_kwh, p))
    return sorted(out, key=lambda f: f.start_ns)


def usual_max(hourly_kwh: FloatArray) -> float:
    """The 99th percentile of the known hourly kWh (0 when none is known)."""
    known = hourly_kwh[np.isfinite(hourly_kwh)]
    return float(np.percentile(known, 99)) if len(known) else 0.0


def _rollover(before: float, after: float, plausible_kwh: float) -> bool:
    """A register wrapping at a power of ten (99,999 → 0) is consumption, not a reset."""
    for k in range(3, 10):
        cap = 10.0**k
        if before < cap <= 10 * before and 0 <= after + cap - before <= plausible_kwh:
            return True
    return False


def _was_jump(v: FloatArray, t: Int64Array, i: int, limit: float, p: MeterFaultParams) -> bool:
    rise = float(v[i] - v[i - 1])
    dt_h = max(float(t[i] - t[i - 1]) / HOUR_NS, 1.0)
    return rise >= p.min_jump_kwh and rise / dt_h > limit


def _frozen(
    t: Int64Array,
    v: FloatArray,
    hours_ns: Int64Array,
    occupied: BoolArray,
    hourly_kwh: FloatArray,
    p: MeterFaultParams,
) -> list[MeterFault]:
    same = np.diff(v) == 0
    if not same.any() or len(hours_ns) == 0:
        return []
    # Runs of equal consecutive readings: readings [a, b] all equal.
    edges = np.diff(np.concatenate([[0], same.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        hours = (t[b] - t[a]) / HOUR_NS
        if hours < p.min_flat_hours or b - a + 1 < p.min_flat_readings:
            continue
        lo = int(np.searchsorted(hours_ns, t[a]))
        hi = int(np.searchsorted(hours_ns, t[b]))
        if int(occupied[lo:hi].sum()) < p.min_occupied_hours:
            continue
        outside = np.ones(len(hours_ns), dtype=bool)
        outside[lo:hi] = False
        usual = hourly_kwh[outside & occupied & np.isfinite(hourly_kwh)]
        if len(usual) == 0 or float(np.median(usual)) <= 0:
            continue
        last = b == len(t) - 1
        out.append(
            MeterFault(
                "frozen",
                int(t[a]),
                None if last else int(t[b]),
                {
                    "frozen_hours": round(hours, 1),
                    "index_kwh": round(float(v[a]), 3),
                    "occupied_hours": int(occupied[lo:hi].sum()),
                    "usual_occupied_kwh_per_h": round(float(np.median(usual)), 2),
                },
            )
        )
    return out


def recent(faults: list[MeterFault], end_ns: int, p: MeterFaultParams) -> list[MeterFault]:
    """The faults still to report at ``end_ns``: lasting, or ended within ``recent_hours``."""
    horizon = end_ns - int(p.recent_hours * HOUR_NS)
    return [f for f in faults if f.end_ns is None or f.end_ns >= horizon]
