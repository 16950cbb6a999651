"""The sector detector's fast test: the last hours against the usual hour of the day.

A leak adds the same flow to every hour.  A large one need not wait for its water day to end:
hour by hour, the median excess of the last ``hours`` hours over each hour's usual level (the
median of that hour over the reference days, all net of confirmed level changes and of the
kind of day) is compared with how such medians spread over the reference days themselves
(1.4826 × MAD, so the within-day memory of demand is in the scale).  A median, not a mean: one
hour of unusual use moves it little, a flow added to every hour moves it whole.  The onset is
the split of the last two days' excess that best fits it as zero then a new level (least
absolute deviations), so it is dated to the hour.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from core.series import FloatArray

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class FastRise:
    """A rise found within a day: ``hour`` of the day when it held (0: the first hour after
    the day's start), onset ``onset`` hours from the start of the previous day (0-47)."""

    hour: int
    onset: int
    size_m3h: float
    z: float


def fast_rise(
    previous: FloatArray | None,
    today: FloatArray,
    reference: FloatArray,
    hours: int,
    sigmas: float,
    floor_m3h: float,
    low_ratio: float = 0.0,
    ceiling_m3h: float = math.inf,
) -> FastRise | None:
    """The first hour of ``today`` (24 hourly flows, NaN not seen yet) whose last ``hours``
    hours stand ``sigmas`` above the usual and by ``floor_m3h`` at least.  ``previous`` is the
    day before (None when it cannot be compared), ``reference`` the reference days (k × 24),
    all net of level changes and kind-of-day offsets; a rise above ``ceiling_m3h`` is not
    one (a burst)."""
    if reference.shape[0] < 7:
        return None
    usual = np.nanmedian(reference, axis=0)
    ref_windows = _window_medians((reference - usual).ravel(), hours)
    ref_windows = ref_windows[np.isfinite(ref_windows)]
    if ref_windows.size < 24:
        return None
    center = float(np.median(ref_windows))
    # Inflated by about one standard error of the scale (few reference days).
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(ref_windows - center)))
    sigma *= 1.0 + 1.0 / math.sqrt(reference.shape[0])
    if not sigma > 0:
        return None
    before = previous - usual if previous is not None else np.full(24, np.nan)
    excess = np.concatenate([before, today - usual]) - center
    # The day's quietest quarter of hours (by their usual flow), on both days.
    quiet = np.tile(usual <= np.quantile(usual, 0.25), 2)
    medians = _window_medians(excess, hours)[24:]  # the windows ending today
    for h in np.flatnonzero(np.isfinite(today)).tolist():
        m = medians[h]
        if np.isfinite(m) and m >= floor_m3h and m >= sigmas * sigma:
            if m > ceiling_m3h:
                continue  # a burst: another detector's, and no level to re-anchor on
            if low_ratio > 0:
                w = slice(24 + h + 1 - hours, 24 + h + 1)
                low = excess[w][quiet[w]]
                low = low[np.isfinite(low)]
                if low.size < 2 or not np.median(low) >= low_ratio * m:
                    continue  # a leak adds to the quiet hours too; more use mostly not
            onset = _onset(excess[: 24 + h + 1])
            size = float(np.median(excess[onset : 24 + h + 1]))
            return FastRise(h, onset, size, float(m / sigma))
    return None


def _window_medians(x: FloatArray, hours: int) -> FloatArray:
    """Median of each run of ``hours`` values ending at each index (NaN when under three
    quarters of it is known)."""
    if x.size < hours:
        return np.full(x.size, np.nan)
    w = sliding_window_view(x, hours)
    known = np.isfinite(w).sum(axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows give NaN
        med = np.nanmedian(w, axis=1)
    med = np.where(known >= 0.75 * hours, med, np.nan)
    return np.concatenate([np.full(hours - 1, np.nan), med])


def _onset(excess: FloatArray) -> int:
    """The split that best fits ``excess`` as zero then one level (ties to the latest)."""
    x = np.where(np.isfinite(excess), excess, 0.0)
    best, split = math.inf, x.size - 1
    for k in range(x.size):
        tail = x[k:]
        cost = float(np.abs(x[:k]).sum() + np.abs(tail - np.median(tail)).sum())
        if cost <= best:
            best, split = cost, k
    return split
