"""A flow series averaged into fixed cells: the binning the night and water-day tables share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.series import NS, FloatArray, Int64Array

CELL_CHOICES_S: tuple[int, ...] = (900, 1200, 1800, 3600)


@dataclass(frozen=True)
class FlowGrid:
    """Cell means of a flow series on a grid aligned on the Unix epoch; ``times_ns`` holds the
    finite samples, sorted, so a window's last sample can be looked up."""

    times_ns: Int64Array
    t0_ns: int  # start of the first cell
    step_ns: int  # cell length
    cell_s: int
    means: FloatArray  # NaN where ``has`` is False
    has: NDArray[np.bool_]

    @property
    def last_ns(self) -> int:
        return int(self.times_ns[-1])


def cell_seconds(times_ns: Int64Array) -> int:
    """Grid cell length for a series: the shortest choice not finer than its sampling."""
    t = np.unique(np.asarray(times_ns, dtype=np.int64))
    if t.size < 2:
        return CELL_CHOICES_S[0]
    interval_s = float(np.median(np.diff(t))) / NS
    for cell in CELL_CHOICES_S:
        if interval_s <= cell:
            return cell
    raise ValueError(
        f"sampling every {interval_s / 3600:.1f} h is too coarse for a night minimum; "
        "hourly or finer is needed"
    )


def flow_grid(times_ns: Int64Array, flow_m3h: FloatArray) -> FlowGrid:
    """Average the finite samples into cells (a sample counts in the cell holding its time)."""
    t = np.asarray(times_ns, dtype=np.int64)
    v = np.asarray(flow_m3h, dtype=np.float64)
    if t.shape != v.shape or t.ndim != 1:
        raise ValueError("times_ns and flow_m3h must be 1-D arrays of one length")
    keep = np.isfinite(v)
    t, v = t[keep], v[keep]
    if t.size == 0:
        raise ValueError("no finite flow sample")
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    cell = cell_seconds(t)
    step = cell * NS
    t0 = int(t[0]) - int(t[0]) % step
    idx = (t - t0) // step
    n_cells = int(idx[-1]) + 1
    counts = np.bincount(idx, minlength=n_cells)
    sums = np.bincount(idx, weights=v, minlength=n_cells)
    has = counts > 0
    means = np.where(has, sums / np.maximum(counts, 1), np.nan)
    return FlowGrid(t, t0, step, cell, means, has)
