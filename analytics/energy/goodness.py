"""Goodness of a baseline against measured energy: ASHRAE Guideline 14 CV(RMSE) and NMBE.

Guideline 14 (2014, §4.3.2.4 and Annex B) defines, over the n hours where both the measure y and
the model's prediction ŷ are known, with p the number of fitted parameters and ȳ the mean of y:

- CV(RMSE) = sqrt(Σ (y − ŷ)² / (n − p)) / ȳ
- NMBE = Σ (y − ŷ) / ((n − p) · ȳ)

NMBE is positive when the model predicts less than was measured. Both are returned as fractions
(0.18 for 18 %). An hourly model is calibrated when CV(RMSE) ≤ 30 % and |NMBE| ≤ 10 %. On hours
the model did not see (a test period) the parameters cost no degrees of freedom: score those
with ``n_params=0``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

HOURLY_CV_RMSE_MAX = 0.30
HOURLY_NMBE_MAX = 0.10


@dataclass(frozen=True, slots=True)
class Goodness:
    """How well a baseline reproduces a meter (fractions; NaN when it cannot be computed)."""

    cv_rmse: float
    nmbe: float
    n: int  # hours where both the measure and the prediction are known
    passes_g14: bool  # hourly Guideline 14: CV(RMSE) ≤ 30 % and |NMBE| ≤ 10 %


def goodness(actual: ArrayLike, predicted: ArrayLike, n_params: int = 0) -> Goodness:
    """Guideline 14 CV(RMSE) and NMBE of ``predicted`` against ``actual`` (NaN hours skipped).

    Undefined (NaN, not passing) when fewer than ``n_params + 1`` hours are known or the mean
    measure is not positive: a relative error of a meter that used nothing means nothing."""
    y = np.asarray(actual, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    if y.shape != f.shape:
        raise ValueError(f"actual {y.shape} and predicted {f.shape} differ in shape")
    if n_params < 0:
        raise ValueError("n_params must be ≥ 0")
    known = np.isfinite(y) & np.isfinite(f)
    n = int(known.sum())
    dof = n - n_params
    mean = float(y[known].mean()) if n else math.nan
    if dof <= 0 or not mean > 0:
        return Goodness(math.nan, math.nan, n, False)
    r = y[known] - f[known]
    cv = math.sqrt(float(r @ r) / dof) / mean
    nmbe = float(r.sum()) / (dof * mean)
    return Goodness(cv, nmbe, n, cv <= HOURLY_CV_RMSE_MAX and abs(nmbe) <= HOURLY_NMBE_MAX)
