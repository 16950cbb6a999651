"""Vectorised household/building continuous-flow leak detector.

Input is a 2-D array of hourly consumption in litres, shape ``[meters, hours]``, one column per
UTC hour, ``NaN`` for a missing hour, together with the local (Europe/Paris) hour of day and
local date of every column (see :func:`hourly_axis`).  All meters are scanned at once with numpy.

Rule (issue 5, design brief §5 Water)
-------------------------------------
1. Cleaning: a value that is not finite, negative, or above ``max_hourly_l`` (register resets
   show up as ±248,5xx L diffs, reverse flow as negative diffs) is treated as *missing*.
   Missing hours count neither as zero nor as non-zero.
2. A *break* is a valid hour with zero consumption (``<= zero_eps``), or a gap of more than
   ``max_gap_hours`` consecutive missing hours (a long gap ends the evidence).
3. A *continuous run* is the stretch of hours since the last break.  Its *onset* is the first
   hour after that break.  This is the sliding form of "a day with no zero hour": a run that
   has lasted ``min_run_valid_hours`` valid hours covers a full day without a zero hour.
4. *Nights* are the local hours ``[night_start_hour, night_end_hour)`` of each local date
   (01:00-05:00 by default; a DST night has 3 or 5 hours).  A night with at least
   ``min_night_valid_hours`` valid hours has a *night minimum* (lowest hourly flow).  It is
   *leaky* when that minimum is ``>= min_night_flow_lph``, *quiet* otherwise.
5. Alert at the first hour ``h`` of a run where: the run holds at least ``min_run_valid_hours``
   valid hours, at least ``min_nights`` complete nights inside the run are leaky (persistence
   over consecutive nights), no complete night inside the run is quiet, and hour ``h`` is valid.
6. The event lasts until the run ends (next zero hour or long gap; ``end`` is exclusive) or
   stays open (``end is None``).  A new event on the same meter starting within
   ``merge_gap_hours`` of the previous one's end updates that alert (one open alert per meter)
   instead of raising a new one.  Leak flow (L/h) = lowest night minimum over the run's
   complete nights; volume lost = flow x hours from onset to end (or to the last column).

Events are column indices; map them to times with the axis returned by :func:`hourly_axis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

PARIS = "Europe/Paris"


@dataclass(frozen=True)
class ContinuousFlowParams:
    """Parameters of the continuous-flow rule (defaults tuned on DAIAD, see evaluation)."""

    zero_eps: float = 0.5
    max_hourly_l: float = 3000.0
    max_gap_hours: int = 6
    night_start_hour: int = 1
    night_end_hour: int = 5
    min_night_valid_hours: int = 2
    min_night_flow_lph: float = 3.0
    min_nights: int = 2
    min_run_valid_hours: int = 24
    merge_gap_hours: int = 72
    chunk_meters: int = 8192


@dataclass(frozen=True)
class ContinuousFlowEvent:
    """One continuous-flow alert on one meter (indices are columns of the input matrix)."""

    meter: int
    start: int
    alert: int
    end: int | None
    flow_lph_estimate: float
    volume_l: float


@dataclass(frozen=True)
class HourlyAxis:
    """UTC hour of each column and its local hour of day and local date."""

    utc: NDArray[np.datetime64]
    local_hour: NDArray[np.int64]
    local_date: NDArray[np.datetime64]


def hourly_axis(start_utc: datetime, n_hours: int, tz: str = PARIS) -> HourlyAxis:
    """Build the column axis of ``n_hours`` UTC hours starting at ``start_utc`` (aware)."""
    if start_utc.tzinfo is None:
        raise ValueError("start_utc must be timezone-aware")
    zone = ZoneInfo(tz)
    hours: list[int] = []
    dates: list[str] = []
    for i in range(n_hours):
        local = (start_utc + timedelta(hours=i)).astimezone(zone)
        hours.append(local.hour)
        dates.append(local.date().isoformat())
    base = np.datetime64(start_utc.replace(tzinfo=None) - start_utc.utcoffset(), "h")  # type: ignore[operator]
    return HourlyAxis(
        utc=base + np.arange(n_hours).astype("timedelta64[h]"),
        local_hour=np.asarray(hours, dtype=np.int64),
        local_date=np.asarray(dates, dtype="datetime64[D]"),
    )


def night_windows(
    local_hour: NDArray[np.integer], local_date: NDArray[np.datetime64], start: int, end: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Column ranges ``[s, e)`` of each local night (hours ``[start, end)`` of one local date)."""
    lh = np.asarray(local_hour)
    ld = np.asarray(local_date)
    mask = (lh >= start) & (lh < end)
    prev_mask = np.concatenate([[False], mask[:-1]])
    new_date = np.concatenate([[True], ld[1:] != ld[:-1]])
    starts = np.flatnonzero(mask & (~prev_mask | new_date))
    nxt_mask = np.concatenate([mask[1:], [False]])
    date_ends = np.concatenate([ld[1:] != ld[:-1], [True]])
    ends = np.flatnonzero(mask & (~nxt_mask | date_ends)) + 1
    return starts.astype(np.int64), ends.astype(np.int64)


def detect_continuous_flow(
    flow: NDArray[np.floating],
    local_hour: NDArray[np.integer],
    local_date: NDArray[np.datetime64],
    params: ContinuousFlowParams | None = None,
) -> list[ContinuousFlowEvent]:
    """Scan every meter (row) of ``flow`` and return its continuous-flow events."""
    p = params or ContinuousFlowParams()
    x = np.asarray(flow)
    if x.ndim != 2:
        raise ValueError("flow must be 2-D [meters, hours]")
    if len(local_hour) != x.shape[1] or len(local_date) != x.shape[1]:
        raise ValueError("local_hour/local_date must have one entry per column")
    ns, ne = night_windows(local_hour, local_date, p.night_start_hour, p.night_end_hour)
    events: list[ContinuousFlowEvent] = []
    for lo in range(0, x.shape[0], p.chunk_meters):
        events.extend(_scan_chunk(x[lo : lo + p.chunk_meters], lo, ns, ne, p))
    return _merge(events, p.merge_gap_hours)


def _merge(events: list[ContinuousFlowEvent], gap: int) -> list[ContinuousFlowEvent]:
    """One alert per meter: an event starting within ``gap`` hours of the previous one's end
    on the same meter updates that alert instead of raising a new one."""
    out: list[ContinuousFlowEvent] = []
    for e in events:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.meter == e.meter
            and prev.end is not None
            and e.start <= prev.end + gap
        ):
            flows = [f for f in (prev.flow_lph_estimate, e.flow_lph_estimate) if f == f]
            out[-1] = ContinuousFlowEvent(
                meter=e.meter,
                start=prev.start,
                alert=prev.alert,
                end=e.end,
                flow_lph_estimate=min(flows) if flows else float("nan"),
                volume_l=prev.volume_l + e.volume_l,
            )
            continue
        out.append(e)
    return out


def _scan_chunk(
    x: NDArray[np.floating],
    offset: int,
    ns: NDArray[np.int64],
    ne: NDArray[np.int64],
    p: ContinuousFlowParams,
) -> list[ContinuousFlowEvent]:
    m, n_h = x.shape
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(x) & (x >= 0) & (x <= p.max_hourly_l)
    zero = valid & (x <= p.zero_eps)
    g = p.max_gap_hours + 1
    cm = np.cumsum(~valid, axis=1, dtype=np.int32)
    gap = np.zeros_like(valid)
    if n_h >= g:
        roll = cm[:, g - 1 :].copy()
        roll[:, 1:] -= cm[:, : n_h - g]
        gap[:, g - 1 :] = roll == g
    del cm
    brk = zero | gap
    idx = np.arange(n_h, dtype=np.int32)
    last = np.where(brk, idx, np.int32(-1))
    np.maximum.accumulate(last, axis=1, out=last)

    cvp = np.zeros((m, n_h + 1), dtype=np.int32)
    np.cumsum(valid, axis=1, dtype=np.int32, out=cvp[:, 1:])
    run_valid = cvp[:, 1:] - np.take_along_axis(cvp, last + 1, axis=1)
    del cvp

    n_n = len(ns)
    nmin = np.full((m, n_n), np.nan, dtype=np.float64)
    ncnt = np.zeros((m, n_n), dtype=np.int32)
    xv = np.where(valid, x, np.inf)
    for k in range(n_n):
        seg = xv[:, ns[k] : ne[k]]
        ncnt[:, k] = valid[:, ns[k] : ne[k]].sum(axis=1)
        nmin[:, k] = seg.min(axis=1)
    del xv
    has = ncnt >= p.min_night_valid_hours
    nmin[~has] = np.nan
    ok = has & (nmin >= p.min_night_flow_lph)
    bad = has & ~ok
    cok = np.zeros((m, n_n + 1), dtype=np.int32)
    np.cumsum(ok, axis=1, dtype=np.int32, out=cok[:, 1:])
    cbad = np.zeros((m, n_n + 1), dtype=np.int32)
    np.cumsum(bad, axis=1, dtype=np.int32, out=cbad[:, 1:])
    k_done = np.searchsorted(ne, idx + 1, side="right")  # nights ended by hour h
    j_first = np.searchsorted(ns, last, side="right").astype(np.int32)  # first night after break
    ok_cnt = cok[:, k_done] - np.take_along_axis(cok, j_first, axis=1)
    bad_cnt = cbad[:, k_done] - np.take_along_axis(cbad, j_first, axis=1)
    cond = valid & (run_valid >= p.min_run_valid_hours) & (ok_cnt >= p.min_nights) & (bad_cnt <= 0)
    del ok_cnt, bad_cnt, run_valid
    mi, hi = np.nonzero(cond)
    if mi.size == 0:
        return []
    key = last[mi, hi]
    first = np.ones(mi.size, dtype=bool)
    first[1:] = (mi[1:] != mi[:-1]) | (key[1:] != key[:-1])
    mi, hi, key = mi[first], hi[first], key[first]
    bm, bh = np.nonzero(brk)
    flat = bm.astype(np.int64) * n_h + bh
    pos = np.searchsorted(flat, mi.astype(np.int64) * n_h + hi, side="right")
    out: list[ContinuousFlowEvent] = []
    for i in range(mi.size):
        r, h, onset = int(mi[i]), int(hi[i]), int(key[i]) + 1
        end: int | None = None
        if pos[i] < flat.size and flat[pos[i]] // n_h == r:
            b = int(flat[pos[i]] % n_h)
            end = b - p.max_gap_hours if gap[r, b] and not zero[r, b] else b
        stop = n_h if end is None else end
        sel = (ns >= onset) & (ne <= stop)
        mins = nmin[r, sel]
        mins = mins[np.isfinite(mins)]
        flow = float(mins.min()) if mins.size else float("nan")
        out.append(
            ContinuousFlowEvent(
                meter=offset + r,
                start=onset,
                alert=h,
                end=end,
                flow_lph_estimate=flow,
                volume_l=flow * (stop - onset),
            )
        )
    return out
