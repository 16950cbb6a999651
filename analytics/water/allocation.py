"""Spreading each interval's consumption between two register readings over regular steps."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def allocate_midpoint(
    m: IntArray,
    t0: IntArray,
    t1: IntArray,
    vol: FloatArray,
    good: NDArray[np.bool_],
    edges_s: IntArray,
    rows: int,
    min_coverage: float,
) -> FloatArray:
    """Each interval's volume to the step holding its midpoint; steps covered enough are known."""
    n_steps = edges_s.size - 1
    j = np.searchsorted(edges_s, (t0 + t1) // 2, side="right") - 1
    sel = good & (j >= 0) & (j < n_steps)
    flat = m[sel] * n_steps + j[sel]
    size = rows * n_steps
    vol_sum = np.asarray(np.bincount(flat, vol[sel], size), dtype=np.float64)
    cover = np.asarray(np.bincount(flat, (t1 - t0)[sel], size), dtype=np.float64)
    known = cover.reshape(rows, n_steps) >= min_coverage * np.diff(edges_s)[None, :]
    return np.where(known, vol_sum.reshape(rows, n_steps), np.nan)


def allocate_uniform(
    m: IntArray,
    t0: IntArray,
    t1: IntArray,
    vol: FloatArray,
    good: NDArray[np.bool_],
    edges_s: IntArray,
    rows: int,
) -> FloatArray:
    """Each interval's volume shared among the steps it overlaps, in proportion to time.

    Equivalently, the meter's cumulative clean volume, linear between readings, is read at the
    step edges. A second cumulative counts the seconds not covered by a good interval (bad
    intervals, and the stretch between one meter's last reading and the next meter's first):
    a step is known when none of them falls inside it. One sortable key holds meter and time.
    """
    n_steps = edges_s.size - 1
    base = min(int(t0.min()), int(edges_s[0]))
    span = max(int(t1.max()), int(edges_s[-1])) - base + 1
    key_start = m * span + (t0 - base)
    key_end = m * span + (t1 - base)
    first = np.concatenate([[True], m[1:] != m[:-1]])
    gap = np.where(first, key_start - np.concatenate([[key_start[0]], key_end[:-1]]), 0)
    clean = np.where(good, vol, 0.0)
    bad_s = np.where(good, 0, t1 - t0) + gap
    cum, bad_cum = np.cumsum(clean), np.cumsum(bad_s).astype(np.float64)
    # Knots: every interval end, and the start of each meter's first interval just before it.
    n_first = np.cumsum(first)
    size = key_end.size + int(n_first[-1])
    knot = np.empty(size, dtype=np.float64)
    at_c = np.empty(size)
    at_bad = np.empty(size)
    end_pos = np.arange(key_end.size) + n_first
    knot[end_pos], at_c[end_pos], at_bad[end_pos] = key_end, cum, bad_cum
    start_pos = end_pos[first] - 1
    knot[start_pos] = key_start[first]
    at_c[start_pos] = (cum - clean)[first]
    at_bad[start_pos] = (bad_cum - np.where(good, 0, t1 - t0))[first]
    grid = np.arange(rows, dtype=np.int64)[:, None] * span + (edges_s - base)[None, :]
    g = grid.ravel().astype(np.float64)
    c = np.interp(g, knot, at_c).reshape(rows, n_steps + 1)
    bad = np.interp(g, knot, at_bad, left=np.nan, right=np.nan).reshape(rows, n_steps + 1)
    known = np.diff(bad, axis=1) == 0
    return np.where(known, np.diff(c, axis=1), np.nan)
