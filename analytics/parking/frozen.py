"""Frozen and stale feeds: values unchanged, or samples missing, for implausibly long.

Whether stillness is implausible depends on the hours it spans: a count unchanged from 19:00 on
a Friday to Monday morning is a carpool area at rest, the same count unchanged from 08:00 to
noon on a Tuesday is a broken feed. Both judgements learn from the feed's own past, per hour of
the local week (public holidays as Sundays):

- an area's count feed (``judge_feed``): how many value changes, and how many samples, each hour
  of the week usually brings (``EventRates``); frozen when the changes due since the value was
  set make seeing none implausible, stale likewise for samples since the last one — nights and
  closures bring none, so they never count against a feed;
- a space (``SpaceLimits``): how long stays that begin at that hour of the week last, pooled over
  the area's spaces (``DurationLimits``: a high quantile of the completed durations, times a
  factor, at least a floor); a stay far longer is a stuck sensor or an abandoned car.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.parking.space import Change
from analytics.parking.week import PARIS, Holidays, week_minutes
from core.series import FloatArray

HOURS = 168


@dataclass(frozen=True, slots=True)
class FreezeParams:
    """How duration limits are drawn from past durations."""

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
    holidays: Holidays | None = None  # days taken as Sundays

    @classmethod
    def learn(
        cls,
        starts: FloatArray,
        durations: FloatArray,
        zone: str = PARIS,
        params: FreezeParams | None = None,
        holidays: Holidays | None = None,
    ) -> DurationLimits:
        """From past durations (seconds) and the Unix seconds they began at."""
        p = params or FreezeParams()
        hour = (week_minutes(starts, zone, holidays) // 60).astype(np.int64)
        limits = np.empty(HOURS)
        for h in range(HOURS):
            pooled = _pooled(hour, durations, h, p)
            raw = float(np.quantile(pooled, p.quantile)) * p.factor if len(pooled) else p.fallback_s
            limits[h] = max(raw, p.floor_s)
        return cls(limits, zone, holidays)

    def limit(self, start: datetime) -> timedelta:
        h = int(week_minutes(np.array([start.timestamp()]), self.zone, self.holidays)[0] // 60)
        return timedelta(seconds=float(self.limits_s[h]))

    def exceeded(self, since: datetime, now: datetime) -> bool:
        return now - since > self.limit(since)


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


@dataclass(frozen=True, slots=True)
class FeedParams:
    """How sure a feed judgement must be: flagged when, at ``shrink`` times the activity usually
    seen over the same hours of the week, the chance (Poisson) of seeing nothing is below
    ``alpha``. With 1.0 and 1e-3: no frozen flag in 2,688 hourly judgements of 8 simulated
    areas (holidays and weekends included) nor in 4,856 of the 30 Birmingham car parks, and a
    count frozen on a weekday flagged after 2.5-9 h (0.5: 5-24 h)."""

    alpha: float = 1e-3
    shrink: float = 1.0  # < 1 judges against quieter days than usual
    floor_s: float = 2 * 3600.0  # never flag a shorter stillness or silence
    min_history_s: float = 86_400.0  # less history: ``fallback_s`` of stillness flags
    fallback_s: float = 72 * 3600.0
    prior_h: float = 2.0  # weight (hours) of the pooled hour-of-day rate in each week hour


@dataclass(frozen=True)
class EventRates:
    """Expected events (value changes, or samples) per hour of the local week, learned as counts
    over exposure; each week hour leans on the same hour of days of the same kind (weekdays,
    weekends and holidays) by ``prior_h`` hours, so that a few weeks suffice."""

    per_hour: FloatArray  # 168, Monday 00:00 local first
    zone: str = PARIS
    holidays: Holidays | None = None

    @classmethod
    def learn(
        cls,
        events: FloatArray,
        start: float,
        end: float,
        zone: str = PARIS,
        holidays: Holidays | None = None,
        prior_h: float = 2.0,
    ) -> EventRates:
        """From event instants (Unix s) seen over [start, end]."""
        hours, weights = _hours(start, end, zone, holidays)
        exposure = np.bincount(hours, weights=weights, minlength=HOURS)
        inside = events[(events >= start) & (events <= end)]
        at = (week_minutes(inside, zone, holidays) // 60).astype(np.int64)
        counts = np.bincount(at, minlength=HOURS).astype(np.float64)
        kind = np.arange(HOURS) >= 5 * 24
        pooled = np.empty(HOURS)
        for h in range(HOURS):
            same = (kind == kind[h]) & (np.arange(HOURS) % 24 == h % 24)
            e = exposure[same].sum()
            pooled[h] = counts[same].sum() / e if e > 0 else 0.0
        return cls((counts + prior_h * pooled) / (exposure + prior_h), zone, holidays)

    def expected(self, start: float, end: float) -> float:
        """Events expected over [start, end]."""
        if end <= start:
            return 0.0
        hours, weights = _hours(start, end, self.zone, self.holidays)
        return float(np.sum(self.per_hour[hours] * weights))


def _hours(
    start: float, end: float, zone: str, holidays: Holidays | None
) -> tuple[np.ndarray, FloatArray]:
    """The week hours [start, end] crosses and how much of each (hours; offsets are whole hours)."""
    first, last = int(start // 3600), int(np.ceil(end / 3600))
    edges = np.arange(first, last + 1, dtype=np.float64) * 3600
    lo, hi = np.maximum(edges[:-1], start), np.minimum(edges[1:], end)
    week_hour = (week_minutes(edges[:-1], zone, holidays) // 60).astype(np.int64)
    return week_hour, np.maximum(hi - lo, 0.0) / 3600


@dataclass(frozen=True, slots=True)
class FeedJudgement:
    frozen: bool  # samples kept coming with one value for longer than plausible
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
    params: FeedParams | None = None,
    holidays: Holidays | None = None,
) -> FeedJudgement:
    """Is a count feed frozen or stale at ``now``, judged against its own past?

    ``t`` sorted Unix seconds, ``x`` the values. Frozen: from the value's first sample to the
    last sample, so many changes were due at those hours of the week that seeing none is
    implausible; stale: the same for samples since the last one. Nights and closed weekends,
    when nothing usually changes or comes, add nothing to what is due."""
    p = params or FeedParams()
    keep = t <= now.timestamp()
    t, x = t[keep], x[keep]
    if len(t) == 0:
        return FeedJudgement(False, True, None, None)
    _, _, since = runs(t, x)
    last, end = float(t[-1]), now.timestamp()
    changed = t[1:][np.diff(x) != 0]
    due = -np.log(p.alpha)
    if since - t[0] >= p.min_history_s:
        rates = EventRates.learn(changed, float(t[0]), since, zone, holidays, p.prior_h)
        frozen = p.shrink * rates.expected(since, last) > due
    else:
        frozen = last - since > p.fallback_s
    if last - t[0] >= p.min_history_s:
        rates = EventRates.learn(t, float(t[0]), last, zone, holidays, p.prior_h)
        stale = p.shrink * rates.expected(last, end) > due
    else:
        stale = end - last > p.fallback_s
    frozen = bool(frozen) and last - since > p.floor_s
    stale = bool(stale) and end - last > p.floor_s
    return FeedJudgement(frozen, stale, _at(since), _at(last))


@dataclass(frozen=True)
class SpaceLimits:
    """How long a space plausibly stays occupied, by the hour of the week the stay began,
    pooled over an area's spaces (one space alone changes too rarely to learn from). Stays are
    bounded (a commute, an errand): one far longer is an abandoned car or a sensor stuck
    occupied. A free space is not judged: drivers leave the far spaces free for weeks."""

    occupied: DurationLimits

    @classmethod
    def learn(
        cls,
        histories: Sequence[Sequence[Change]],
        zone: str = PARIS,
        params: FreezeParams | None = None,
        holidays: Holidays | None = None,
    ) -> SpaceLimits:
        """From each space's shown changes (``space.changes``): the completed stays."""
        starts: list[float] = []
        lengths: list[float] = []
        for shown in histories:
            for a, b in itertools.pairwise(shown):
                if a.occupied:
                    starts.append(a.time.timestamp())
                    lengths.append((b.time - a.time).total_seconds())
        limits = DurationLimits.learn(np.array(starts), np.array(lengths), zone, params, holidays)
        return cls(limits)

    def exceeded(self, occupied: bool, since: datetime, now: datetime) -> bool:
        return occupied and self.occupied.exceeded(since, now)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
