"""Consumption from a cumulative register (an index), split over windows, resets and gaps told.

Rule
----
- The register grows between two readings linearly: the consumption of a window is the index
  curve's rise across it, so readings exactly on the windows' edges split the consumption
  exactly, and readings either side of an edge share the interval in proportion to time.
- A reading below the previous one is a reset (meter replaced, counter restarted, register
  wrapped): that interval adds nothing — its consumption is unknowable — and the reset is
  counted. The register then grows again from its new value.
- An interval longer than ``max_gap`` (silent device, lost frames) still adds its whole rise —
  the index difference is exact — but spread evenly over the interval, so its split between
  windows is an estimate: the seconds of such intervals are reported per window.
- Before the first and after the last reading nothing is known: each window reports the share
  of it that lies between the two (``covered_share``); nothing is extrapolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.series import NS, FloatArray, Int64Array

DEFAULT_MAX_GAP_NS = 3 * 3600 * NS


@dataclass(frozen=True, slots=True)
class RegisterUse:
    """One register's consumption per window and what it rests on."""

    use: FloatArray  # consumption in each window, in the register's unit
    covered_share: FloatArray  # share of each window between the first and last readings
    gap_share: FloatArray  # share of each window inside intervals longer than max_gap
    resets: int  # drops of the register in intervals that touch the windows


def clean_index(values: FloatArray) -> tuple[FloatArray, Int64Array]:
    """The register with drops removed: the running sum of its non-negative steps, from 0, and
    the positions of the readings that dropped."""
    steps = np.diff(values)
    drops = np.flatnonzero(steps < 0) + 1
    curve = np.zeros(len(values))
    np.cumsum(np.where(steps < 0, 0.0, steps), out=curve[1:])
    return curve, drops.astype(np.int64)


def register_use(
    times_ns: Int64Array,
    values: FloatArray,
    edges_ns: Int64Array,
    max_gap_ns: int = DEFAULT_MAX_GAP_NS,
) -> RegisterUse:
    """Consumption of one register in each window ``[edges[j], edges[j + 1])``."""
    n = len(edges_ns) - 1
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(v)
    t, v = t[keep], v[keep]
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if len(t) < 2:
        zeros = np.zeros(n)
        return RegisterUse(zeros, zeros.copy(), zeros.copy(), 0)
    curve, drops = clean_index(v)
    # Microseconds from the first reading: exact in a float64 over centuries, and readings
    # carry no finer time.
    x = ((t - t[0]) // 1000).astype(np.float64)
    e = ((np.asarray(edges_ns, dtype=np.int64) - t[0]) // 1000).astype(np.float64)
    at_edges = np.interp(e, x, curve)  # flat before the first and after the last reading
    use = np.diff(at_edges)
    widths = np.diff(e)
    covered = np.clip(np.minimum(e[1:], x[-1]) - np.maximum(e[:-1], x[0]), 0.0, None) / widths
    long = np.flatnonzero(np.diff(t) > max_gap_ns)
    gap = np.zeros(n)
    for i in long.tolist():
        gap += np.clip(np.minimum(e[1:], x[i + 1]) - np.maximum(e[:-1], x[i]), 0.0, None)
    touching = (t[drops] > edges_ns[0]) & (t[drops - 1] < edges_ns[-1])
    return RegisterUse(use, covered, gap / widths, int(touching.sum()))


def hourly_use(
    times_ns: Int64Array, values: FloatArray, edges_ns: Int64Array, max_gap_ns: int
) -> tuple[FloatArray, FloatArray]:
    """Consumption of each hour-long window and whether the hour is measured: fully between the
    first and last readings and touching no interval longer than ``max_gap_ns``."""
    r = register_use(times_ns, values, edges_ns, max_gap_ns)
    measured = (r.covered_share >= 1.0 - 1e-12) & (r.gap_share <= 0.0)
    return r.use, np.asarray(measured, dtype=np.float64)
