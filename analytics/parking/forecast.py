"""Free spaces ahead: the area's time-of-week profile plus its current anomaly, decaying.

The model works on the free share (free / total) so that it survives a change of capacity:

    share(t + h) ≈ profile(t + h) + φ_h · (share(t) − profile(t))

``profile`` is the mean share per ``slot_min`` slot of the local week (interpolated between slot
centres); ``φ_h`` is fitted per horizon by least squares on the training series (0 ≤ φ ≤ 1: the
anomaly decays, it never grows). φ near 1 is persistence corrected by the profile's expected
change (the morning fill); φ near 0 is the time-of-week mean. Where the profile has never seen a
slot (a night with no samples) the forecast falls back to persistence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from analytics.parking.week import WEEK_MIN, Holidays, week_minutes
from core.config import DEFAULT_ZONE
from core.series import FloatArray

HORIZONS_MIN: tuple[int, ...] = (15, 30, 60)


@dataclass(frozen=True, slots=True)
class ForecastPoint:
    horizon_min: int
    at: datetime
    free: float  # expected free spaces


@dataclass(frozen=True)
class Profile:
    """Mean free share per slot of the local week (NaN: a slot never seen)."""

    slot_min: int
    means: FloatArray
    zone: str = DEFAULT_ZONE
    holidays: Holidays | None = None  # days taken as Sundays

    @classmethod
    def learn(
        cls,
        t: FloatArray,
        share: FloatArray,
        zone: str = DEFAULT_ZONE,
        slot_min: int = 30,
        holidays: Holidays | None = None,
    ) -> Profile:
        n = WEEK_MIN // slot_min
        slot = (week_minutes(t, zone, holidays) // slot_min).astype(np.int64)
        ok = np.isfinite(share)
        sums = np.bincount(slot[ok], weights=share[ok], minlength=n)
        counts = np.bincount(slot[ok], minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        return cls(slot_min, means, zone, holidays)

    def at(self, t: FloatArray) -> FloatArray:
        """The profile at each instant, linear between slot centres (NaN where it has no data)."""
        n = len(self.means)
        u = week_minutes(t, self.zone, self.holidays) / self.slot_min - 0.5
        k0 = np.floor(u).astype(np.int64)
        w = u - k0
        a, b = self.means[k0 % n], self.means[(k0 + 1) % n]
        mixed = (1 - w) * a + w * b
        return np.where(np.isfinite(a) & np.isfinite(b), mixed, np.where(np.isfinite(a), a, b))


def value_at(t: FloatArray, x: FloatArray, at: FloatArray, max_gap_s: float) -> FloatArray:
    """``x`` linearly interpolated at ``at`` (``t`` sorted); NaN outside or across a longer gap."""
    n = len(t)
    i = np.searchsorted(t, at, side="right")  # t[i - 1] <= at < t[i]
    lo, hi = np.clip(i - 1, 0, n - 1), np.clip(i, 0, n - 1)
    after_first = i > 0
    exact = after_first & (t[lo] == at)
    gap = t[hi] - t[lo]
    inner = after_first & (i < n) & (gap <= max_gap_s) & (gap > 0)
    w = np.where(inner, (at - t[lo]) / np.where(gap > 0, gap, 1.0), 0.0)
    v = (1 - w) * x[lo] + w * x[hi]
    return np.where(exact, x[lo], np.where(inner, v, np.nan))


@dataclass(frozen=True)
class ForecastModel:
    """A profile and one anomaly decay φ per horizon (minutes)."""

    profile: Profile
    phi: Mapping[int, float]

    @classmethod
    def fit(
        cls,
        t: FloatArray,
        share: FloatArray,
        zone: str = DEFAULT_ZONE,
        horizons: Sequence[int] = HORIZONS_MIN,
        slot_min: int = 30,
        max_gap_s: float = 3600.0,
        holidays: Holidays | None = None,
    ) -> ForecastModel:
        """Learn from a training series (Unix seconds, sorted; free share 0-1)."""
        profile = Profile.learn(t, share, zone, slot_min, holidays)
        base = profile.at(t)
        phi: dict[int, float] = {}
        for h in horizons:
            ahead = t + 60.0 * h
            target = value_at(t, share, ahead, max_gap_s)
            a = share - base
            b = target - profile.at(ahead)
            ok = np.isfinite(a) & np.isfinite(b)
            den = float(np.sum(a[ok] ** 2))
            phi[h] = float(np.clip(np.sum(a[ok] * b[ok]) / den, 0.0, 1.0)) if den > 0 else 1.0
        return cls(profile, phi)

    def predict_share(self, t0: FloatArray, share0: FloatArray, horizon_min: int) -> FloatArray:
        """Expected share at ``t0 + horizon`` for each origin (persistence where no profile)."""
        now_p = self.profile.at(t0)
        then_p = self.profile.at(t0 + 60.0 * horizon_min)
        guess = then_p + self.phi[horizon_min] * (share0 - now_p)
        known = np.isfinite(now_p) & np.isfinite(then_p)
        return np.clip(np.where(known, guess, share0), 0.0, 1.0)

    def predict(self, now: datetime, free: float, total: int) -> tuple[ForecastPoint, ...]:
        """Expected free spaces at each horizon from the area's state at ``now``."""
        if total <= 0:
            return ()
        t0 = np.array([now.timestamp()])
        s0 = np.array([free / total])
        return tuple(
            ForecastPoint(
                h, now + timedelta(minutes=h), float(self.predict_share(t0, s0, h)[0]) * total
            )
            for h in sorted(self.phi)
        )
