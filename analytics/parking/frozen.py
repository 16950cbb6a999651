"""Frozen and stale feeds: values unchanged, or samples missing, for implausibly long.

How long a value may stay unchanged depends on when it was set: a count set at 19:00 on a
Friday at a carpool area may hold until Monday morning, one set at 08:00 on a Tuesday changes
within minutes. So the limits are learned per hour of the local week from the feed's own past:
the ``quantile`` of the durations of completed runs (or gaps between samples) that began in the
same hour of the week, ± ``spread_h``, times ``factor``, at least ``floor_s``. Too few of those
(< ``min_count``): the same hour ± spread of days of the same kind (weekdays, weekends), then
every run; none: ``fallback_s``. A run still open at ``now`` that outlasts the limit of the
hour it began in is frozen; an open gap (no sample since) that does, stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.parking.week import PARIS, week_minutes
from core.series import FloatArray

HOURS = 168


@dataclass(frozen=True, slots=True)
class FreezeParams:
    quantile: float = 0.98
    factor: float = 1.5
    floor_s: float = 2 * 3600.0  # never call a value frozen sooner than this
    fallback_s: float = 72 * 3600.0  # with no history: a weekend and a day
    spread_h: int = 1
    min_count: int = 8


@dataclass(frozen=True)
class DurationLimits:
    """The longest plausible duration of something that began in each hour of the local week."""

    limits_s: FloatArray  # 168 hours, Monday 00:00 local first
    zone: str = PARIS

    @classmethod
    def learn(
        cls,
        starts: FloatArray,
        durations: FloatArray,
        zone: str = PARIS,
        params: FreezeParams | None = None,
    ) -> DurationLimits:
        """From past durations (seconds) and the Unix seconds they began at."""
        p = params or FreezeParams()
        hour = (week_minutes(starts, zone) // 60).astype(np.int64)
        limits = np.empty(HOURS)
        for h in range(HOURS):
            pooled = _pooled(hour, durations, h, p)
            raw = float(np.quantile(pooled, p.quantile)) * p.factor if len(pooled) else p.fallback_s
            limits[h] = max(raw, p.floor_s)
        return cls(limits, zone)

    def limit(self, start: datetime) -> timedelta:
        h = int(week_minutes(np.array([start.timestamp()]), self.zone)[0] // 60)
        return timedelta(seconds=float(self.limits_s[h]))

    def exceeded(self, since: datetime, now: datetime) -> bool:
        return now - since > self.limit(since)


# The same limits judge values (frozen) and samples (stale); the names say which.
FreezeLimits = DurationLimits


def _pooled(hour: np.ndarray, durations: FloatArray, h: int, p: FreezeParams) -> FloatArray:
    near = np.zeros(len(hour), dtype=bool)
    for d in range(-p.spread_h, p.spread_h + 1):
        near |= hour == (h + d) % HOURS
    if near.sum() >= p.min_count:
        return np.asarray(durations[near], dtype=np.float64)
    weekend = h >= 5 * 24
    same_kind = (hour >= 5 * 24) == weekend
    of_day = np.abs(((hour % 24) - (h % 24) + 12) % 24 - 12) <= p.spread_h
    if (same_kind & of_day).sum() >= p.min_count:
        return np.asarray(durations[same_kind & of_day], dtype=np.float64)
    return durations


def runs(t: FloatArray, x: FloatArray) -> tuple[FloatArray, FloatArray, float]:
    """Completed runs of an unchanged value (start, duration) and the open run's start.

    A run begins at the first sample with its value and ends at the first sample with another."""
    if len(t) == 0:
        return np.empty(0), np.empty(0), float("nan")
    change = np.flatnonzero(np.diff(x) != 0) + 1
    bounds = np.concatenate([[0], change])
    starts = t[bounds]
    return starts[:-1], np.diff(starts), float(starts[-1])


def gaps(t: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Gaps between consecutive samples: (start, duration)."""
    return t[:-1], np.diff(t)


@dataclass(frozen=True, slots=True)
class FeedJudgement:
    frozen: bool  # the value has not changed for longer than plausible
    stale: bool  # no sample for longer than plausible
    unchanged_since: datetime | None
    last_sample: datetime | None

    @property
    def suspect(self) -> bool:
        return self.frozen or self.stale


def judge_feed(
    t: FloatArray,
    x: FloatArray,
    now: datetime,
    zone: str = PARIS,
    params: FreezeParams | None = None,
) -> FeedJudgement:
    """Is a feed frozen or stale at ``now``, judged against its own past (``t`` sorted, Unix s)?"""
    keep = t <= now.timestamp()
    t, x = t[keep], x[keep]
    if len(t) == 0:
        return FeedJudgement(False, True, None, None)
    run_starts, run_lengths, open_run = runs(t, x)
    gap_starts, gap_lengths = gaps(t)
    held = DurationLimits.learn(run_starts, run_lengths, zone, params)
    quiet = DurationLimits.learn(gap_starts, gap_lengths, zone, params)
    since = _at(open_run)
    last = _at(float(t[-1]))
    return FeedJudgement(held.exceeded(since, now), quiet.exceeded(last, now), since, last)


def space_limits(
    change_times: Sequence[Sequence[datetime]],
    zone: str = PARIS,
    params: FreezeParams | None = None,
) -> DurationLimits:
    """Limits of how long a space keeps a state, pooled over an area's spaces (one space alone
    changes too rarely to learn from): the completed intervals between each space's changes."""
    starts: list[float] = []
    lengths: list[float] = []
    for times in change_times:
        s = np.array([c.timestamp() for c in times])
        starts.extend(s[:-1].tolist())
        lengths.extend(np.diff(s).tolist())
    return DurationLimits.learn(np.array(starts), np.array(lengths), zone, params)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
