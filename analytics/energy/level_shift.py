"""Changes of use inside a fit window: the day a meter's level stepped up or down for good.

A building that got a new tenant, lost a department or replaced its lighting in the middle of
the window has two levels; a regression fitted across both predicts neither, and a baseline
that averages them alarms on every following day. The step is found on the daily means of a
first fit's residuals: the split of the days into before and after that best separates their
means (binary segmentation, as CUSUM change-point tests do). It is kept when

- that best split leaves ``min_days`` before and ``min_days_after`` after it (a step more recent
  than that cannot be told from a vacation or an outage yet);
- the two means differ by ``min_share`` of the meter's mean and by ``min_t`` standard errors
  of daily means;
- the median days differ as much, the same way (a closure of a week or two moves the means of
  a side, not its median).

Days, not hours, are the unit of evidence because the hours of one day move together.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class LevelShift:
    """A step of the residual level: from ``at`` on (UTC seconds), ``kwh`` per hour more."""

    at_s: int
    kwh: float
    t: float  # separation in standard errors of daily means


def find_level_shift(
    utc_s: NDArray[np.int64],
    residual: FloatArray,
    mean_kwh: float,
    *,
    min_days: int,
    min_days_after: int,
    min_share: float,
    min_t: float,
) -> LevelShift | None:
    """The strongest lasting step of ``residual`` (known hours only), or None."""
    if residual.size == 0 or not mean_kwh > 0:
        return None
    day = utc_s // 86_400
    days, inv = np.unique(day, return_inverse=True)
    n = np.bincount(inv)
    full = n >= 12  # a day with half its hours known says something about its level
    d = (np.bincount(inv, weights=residual) / n)[full]
    starts = days[full]
    k = d.size
    if k < min_days + min_days_after:
        return None
    c = np.cumsum(d)
    cut = np.arange(1, k)  # first day after the step
    gap = (c[-1] - c[cut - 1]) / (k - cut) - c[cut - 1] / cut
    best = int(np.argmax(np.abs(gap) * np.sqrt(cut * (k - cut) / k)))
    i = int(cut[best])
    if i < min_days or k - i < min_days_after:
        return None
    spread = np.concatenate([d[:i] - d[:i].mean(), d[i:] - d[i:].mean()])
    sd = float(spread.std(ddof=2))
    se = sd * np.sqrt(1 / i + 1 / (k - i)) if sd > 0 else np.inf
    t = float(abs(gap[best]) / se) if np.isfinite(se) else np.inf
    if abs(gap[best]) < min_share * mean_kwh or t < min_t:
        return None
    # Means are moved by a closure of a week or two near either end (Christmas, an outage);
    # a change of use moves the median day as well.
    median_gap = float(np.median(d[i:]) - np.median(d[:i]))
    if median_gap * gap[best] <= 0 or abs(median_gap) < min_share * mean_kwh:
        return None
    return LevelShift(int(starts[i]) * 86_400, float(gap[best]), t)
