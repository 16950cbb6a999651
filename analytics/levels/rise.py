"""Rate of rise of a water level (cm/h) over a sliding window, and rapid-rise episodes.

The rate at a reading is the least-squares slope of the good readings in the ``window_s`` before
it (that reading included), which copes with irregular sampling and with noise better than a
difference of two readings. It is only computed when the window holds ``min_points`` readings
spanning at least ``min_span_fraction`` of it; faulty readings (NaN, from the guard) are left
out, so a jump or a spike the guard masked cannot make a rise.

An episode starts at the first rate ≥ ``rise_cm_h`` and is confirmed once rates have stayed
there for ``min_duration_s``; it ends at the first rate below ``clear_cm_h`` (hysteresis: a
rise easing a little does not end it). Unknown rates (gaps) neither confirm nor end.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from core.series import FloatArray, Int64Array, from_ns

NS_PER_S = 1_000_000_000
NS_PER_H = 3600 * NS_PER_S


@dataclass(frozen=True, slots=True)
class RiseParams:
    rise_cm_h: float = 10.0
    clear_cm_h: float = 5.0
    window_s: float = 2 * 3600.0
    min_points: int = 4
    min_span_fraction: float = 0.5
    min_duration_s: float = 1800.0


@dataclass(frozen=True, slots=True)
class RiseEpisode:
    """A rapid rise: ``start`` is the first rate at or above the threshold, ``end`` the first
    below the clearing rate (None while it lasts)."""

    start: datetime
    confirmed_at: datetime
    max_rise_cm_h: float
    max_at: datetime
    end: datetime | None
    threshold_cm_h: float


@dataclass(slots=True)
class RiseState:
    """Good readings of the last window and the episode being built (serialisable)."""

    window_ns: list[int] = field(default_factory=list)
    window_m: list[float] = field(default_factory=list)
    run_start_ns: int | None = None
    active: bool = False
    confirmed_ns: int = 0
    max_cm_h: float = 0.0
    max_ns: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiseState:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class RiseResult:
    """The rate at each reading given (cm/h, NaN when unknown or faulty), the episodes closed by
    this call, then the open one."""

    rise_cm_h: FloatArray
    episodes: list[RiseEpisode]
    state: RiseState


def _slope_cm_h(times_ns: list[int], level_m: list[float]) -> float:
    """Least-squares slope; plain Python, as windows hold a few readings."""
    t0 = times_ns[0]
    h = [(t - t0) / NS_PER_H for t in times_ns]  # hours from the window's start: small numbers
    n = len(h)
    h_mean = sum(h) / n
    x_mean = sum(level_m) / n
    sxx = sum((a - h_mean) ** 2 for a in h)
    if sxx == 0.0:
        return float("nan")
    sxy = sum((a - h_mean) * (x - x_mean) for a, x in zip(h, level_m, strict=True))
    return sxy / sxx * 100.0


def _episode(st: RiseState, end: int | None, threshold: float) -> RiseEpisode:
    assert st.run_start_ns is not None
    return RiseEpisode(
        from_ns(st.run_start_ns),
        from_ns(st.confirmed_ns),
        st.max_cm_h,
        from_ns(st.max_ns),
        None if end is None else from_ns(end),
        threshold,
    )


def track_rise(
    times_ns: Int64Array,
    level_m: FloatArray,
    params: RiseParams | None = None,
    state: RiseState | None = None,
) -> RiseResult:
    """Rates and rapid-rise episodes over cleaned readings (ascending, NaN = faulty) received
    since ``state``; the given state is not modified."""
    p = params or RiseParams()
    st = copy.deepcopy(state) if state else RiseState()
    times = np.asarray(times_ns, dtype=np.int64).tolist()
    levels = np.asarray(level_m, dtype=np.float64).tolist()
    rates = np.full(len(times), np.nan)
    closed: list[RiseEpisode] = []
    window_ns = int(p.window_s * NS_PER_S)
    for i, (t, x) in enumerate(zip(times, levels, strict=True)):
        if x != x:  # NaN: faulty
            continue
        st.window_ns.append(t)
        st.window_m.append(x)
        drop = 0
        while st.window_ns[drop] < t - window_ns:
            drop += 1
        del st.window_ns[:drop], st.window_m[:drop]
        span = st.window_ns[-1] - st.window_ns[0]
        if len(st.window_ns) < p.min_points or span < p.min_span_fraction * window_ns:
            continue
        rate = _slope_cm_h(st.window_ns, st.window_m)
        rates[i] = rate
        if st.active:
            if rate > st.max_cm_h:
                st.max_cm_h, st.max_ns = rate, t
            if rate < p.clear_cm_h:
                closed.append(_episode(st, t, p.rise_cm_h))
                st.run_start_ns, st.active = None, False
        elif rate >= p.rise_cm_h:
            if st.run_start_ns is None:
                st.run_start_ns, st.max_cm_h, st.max_ns = t, rate, t
            elif rate > st.max_cm_h:
                st.max_cm_h, st.max_ns = rate, t
            if t - st.run_start_ns >= p.min_duration_s * NS_PER_S:
                st.active, st.confirmed_ns = True, t
        else:
            st.run_start_ns = None
    still = [_episode(st, None, p.rise_cm_h)] if st.active else []
    return RiseResult(rates, closed + still, st)
