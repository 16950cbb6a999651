"""Burst detector: flow far above a meter's own envelope for its local hour of the week.

Input is a ``[meters, steps]`` matrix of litres per step (hourly, or any regular step such as
15 min; household, building or sector meters), ``NaN`` for unknown, with its axis
(``hourly_axis`` or ``meter_hours.step_axis``; zones whose UTC offsets are whole hours).

Rule (issue 5, design brief §5 Water)
-------------------------------------
1. *Envelope* of a step: the highest flow (L/h) the meter had at the same local wall time in
   each of the previous ``history_weeks`` weeks, widened to the steps within ``pool_h`` hours of
   it (so a shower taken at 7:40 instead of 8:10 does not count as new). The same local time
   means the same wall-clock time: across a DST change the week is 167 or 169 hours long. Steps
   already found in a burst are left out of later envelopes. The envelope needs at least
   ``min_history_weeks`` weeks with data, else the step is not assessed.
2. *Threshold* = max(``factor`` × envelope, envelope + ``floor_lph``): far above the usual both
   relatively and absolutely (a meter whose nights are dry gets the floor).
3. A *burst* is a run of at least ``min_duration_h`` of consecutive steps above the threshold;
   it starts at its first step, the alert is raised at the step completing the minimum duration,
   and it ends at the first step back inside the envelope or unknown (``end`` exclusive, ``None``
   when still running at the last step). Unknown steps do not count towards the duration; two
   bursts separated by unknown steps only are one burst.
4. *Excess flow* = mean over the burst's known steps of flow − typical flow (the median of the
   same history, excluding bursts); *volume lost* = excess flow × the burst's duration.

Bursts are sudden and large (8-40 m³/h on a sector): slow leaks are the continuous-flow and
night-flow detectors' job. A lasting rise of flow keeps being a burst, being kept out of its own
envelope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics.water.axis import HourlyAxis

WEEK_S = 7 * 86400


@dataclass(frozen=True)
class BurstParams:
    """Parameters of the burst rule; defaults for customer (household, building) meters."""

    history_weeks: int = 6
    min_history_weeks: int = 2
    pool_h: float = 1.0
    factor: float = 2.0
    floor_lph: float = 300.0
    min_duration_h: float = 2.0
    chunk_meters: int = 8192


# Sector inflow: a burst (8-40 m³/h) against background leakage and a sector leak (up to 3 m³/h).
SECTOR_BURST_PARAMS = BurstParams(factor=1.5, floor_lph=5000.0, min_duration_h=1.0)


@dataclass(frozen=True)
class BurstEvent:
    """One burst on one meter (indices are columns of the input matrix)."""

    meter: int
    start: int
    alert: int
    end: int | None
    excess_flow_lph: float
    peak_flow_lph: float
    volume_l: float


def _step_s(axis: HourlyAxis) -> int:
    utc = axis.utc.astype("datetime64[s]").astype(np.int64)
    return int(utc[1] - utc[0]) if utc.size > 1 else 3600


def week_back(axis: HourlyAxis, weeks: int) -> NDArray[np.int64]:
    """For each column, the column at the same local wall time ``weeks`` weeks earlier (or -1)."""
    utc = axis.utc.astype("datetime64[s]").astype(np.int64)
    days = axis.local_date.astype("datetime64[D]").astype(np.int64)
    wall = days * 86400 + axis.local_hour * 3600 + utc % 3600
    order = np.argsort(wall, kind="stable")  # the repeated autumn hour: its first pass wins
    target = wall - weeks * WEEK_S
    pos = np.searchsorted(wall[order], target)
    pos = np.minimum(pos, wall.size - 1)
    hit = wall[order][pos] == target
    return np.where(hit, order[pos], -1).astype(np.int64)


def _pooled(flow: NDArray[np.floating], p: int) -> NDArray[np.floating]:
    """Highest flow within ``p`` steps either side (NaN ignored)."""
    out = flow.copy()
    for d in range(1, p + 1):
        np.fmax(out[:, d:], flow[:, :-d], out=out[:, d:])
        np.fmax(out[:, :-d], flow[:, d:], out=out[:, :-d])
    return out


def _fmax_into(env: NDArray[np.floating], a: NDArray[np.floating], cols: NDArray[np.int64]) -> None:
    """``env = fmax(env, a[:, cols])`` ignoring ``cols == -1``, by contiguous slices (no gather)."""
    brk = np.flatnonzero((np.diff(cols) != 1) | (cols[1:] < 0) | (cols[:-1] < 0)) + 1
    for lo, hi in zip([0, *brk.tolist()], [*brk.tolist(), cols.size], strict=True):
        c0 = int(cols[lo])
        if c0 < 0:
            continue
        np.fmax(env[:, lo:hi], a[:, c0 : c0 + hi - lo], out=env[:, lo:hi])


def detect_bursts(
    volume_l: NDArray[np.floating], axis: HourlyAxis, params: BurstParams | None = None
) -> list[BurstEvent]:
    """Scan every meter (row) and return its bursts."""
    p = params or BurstParams()
    x = np.asarray(volume_l)
    if x.ndim != 2 or x.shape[1] != len(axis.utc):
        raise ValueError("volume_l must be [meters, steps] on the axis")
    step_s = _step_s(axis)
    back = [week_back(axis, k) for k in range(1, p.history_weeks + 1)]
    events: list[BurstEvent] = []
    for lo in range(0, x.shape[0], p.chunk_meters):
        events.extend(_scan_chunk(x[lo : lo + p.chunk_meters], lo, back, step_s, p))
    return events


def _scan_chunk(
    x: NDArray[np.floating],
    offset: int,
    back: list[NDArray[np.int64]],
    step_s: int,
    p: BurstParams,
) -> list[BurstEvent]:
    step_h = step_s / 3600.0
    dtype = np.dtype(x.dtype) if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    flow = np.array(x, dtype=dtype)
    if step_h != 1.0:
        flow *= dtype.type(1.0 / step_h)
    with np.errstate(invalid="ignore"):
        flow[flow < 0] = np.nan
    m, n = flow.shape
    n_min = max(1, round(p.min_duration_h / step_h))
    pool = round(p.pool_h / step_h)
    pooled = _pooled(flow, pool)  # bursts are removed from it as they are found
    burst = np.zeros((m, n), dtype=bool)
    run = np.zeros(m, dtype=np.int64)  # length of the run of exceedance ending before the block
    week = WEEK_S // step_s
    for b0 in range(0, n, week):
        b1 = min(n, b0 + week)
        sources = [bk[b0:b1] for bk in back if np.any(bk[b0:b1] >= 0)]
        if len(sources) < p.min_history_weeks:
            run[:] = 0
            continue
        env = np.full((m, b1 - b0), np.nan, dtype=dtype)
        for src in sources:
            _fmax_into(env, pooled, src)
        with np.errstate(invalid="ignore"):
            exc = (flow[:, b0:b1] > env * dtype.type(p.factor)) & (
                flow[:, b0:b1] > env + dtype.type(p.floor_lph)
            )
        rows = np.flatnonzero(exc.any(axis=1) | (run > 0))
        if rows.size == 0:
            run[:] = 0
            continue
        exc_r = exc[rows]
        # Enough weeks of history behind each exceedance (checked where it matters only).
        ri, ci = np.nonzero(exc_r)
        weeks = np.zeros(ri.size, dtype=np.int64)
        for src in sources:
            col = src[ci]
            weeks += (col >= 0) & np.isfinite(pooled[rows[ri], np.maximum(col, 0)])
        exc_r[ri[weeks < p.min_history_weeks], ci[weeks < p.min_history_weeks]] = False
        rl = _run_lengths(exc_r, run[rows])
        run[:] = 0
        run[rows] = rl[:, -1]
        ri, ci = np.nonzero(rl == n_min)
        hit = rl >= n_min
        if not hit.any():
            continue
        burst[rows, b0:b1] |= hit
        for d in range(1, n_min):  # the first steps of each run, possibly last week's
            burst[rows[ri], b0 + ci - d] = True
        new = rows[hit.any(axis=1)]
        pooled[new] = _pooled(np.where(burst[new], np.nan, flow[new]), pool)
    rows = np.flatnonzero(burst.any(axis=1))
    if rows.size == 0:
        return []
    flow, burst = flow[rows], burst[rows]
    history = np.where(burst, np.nan, flow)
    return _events(flow, history, burst, back, offset + rows, n_min, step_h)


def _run_lengths(exc: NDArray[np.bool_], carry: NDArray[np.int64]) -> NDArray[np.int64]:
    """Length of the run of True ending at each step (0 where False), runs carried in."""
    idx = np.arange(exc.shape[1], dtype=np.int64)
    last = np.maximum.accumulate(np.where(exc, -1, idx), axis=1)
    rl = np.where(last < 0, idx + 1 + carry[:, None], idx - last)
    rl[~exc] = 0
    return rl


def _events(
    flow: NDArray[np.floating],
    history: NDArray[np.floating],
    burst: NDArray[np.bool_],
    back: list[NDArray[np.int64]],
    meters: NDArray[np.int64],
    n_min: int,
    step_h: float,
) -> list[BurstEvent]:
    m, n = burst.shape
    pad = np.zeros((m, 1), dtype=np.int8)
    edge = np.diff(np.concatenate([pad, burst.astype(np.int8), pad], axis=1), axis=1)
    sr, sc = np.nonzero(edge == 1)
    _, ec = np.nonzero(edge == -1)  # same row-major order as the starts
    runs: list[tuple[int, int, int]] = []
    for r, a, b in zip(sr.tolist(), sc.tolist(), ec.tolist(), strict=True):
        if runs and runs[-1][0] == r and np.isnan(flow[r, runs[-1][2] : a]).all():
            runs[-1] = (r, runs[-1][1], b)  # only unknown steps between: one burst
        else:
            runs.append((r, a, b))
    out: list[BurstEvent] = []
    for r, a, b in runs:
        cols = np.arange(a, b)
        past = np.stack([history[r, np.maximum(bk[cols], 0)] for bk in back])
        past[np.stack([bk[cols] < 0 for bk in back])] = np.nan
        typical = np.zeros(cols.size)
        seen = np.isfinite(past).any(axis=0)
        typical[seen] = np.nanmedian(past[:, seen], axis=0)
        over = float(np.nanmean(flow[r, a:b].astype(np.float64) - typical))
        out.append(
            BurstEvent(
                meter=int(meters[r]),
                start=a,
                alert=a + n_min - 1,
                end=None if b >= n else b,
                excess_flow_lph=over,
                peak_flow_lph=float(np.nanmax(flow[r, a:b])),
                volume_l=over * (b - a) * step_h,
            )
        )
    return out
