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
  factor, at least a floor); a stay far longer is a stuck sensor or an abandoned car;
- a space stuck *free* (``FreeLimits``): time says nothing there (drivers leave far spaces free
  for weeks), the other spaces' cars do. Each car that parked elsewhere while the space was
  shown free could have been its own, with a chance learned from the space's past; when so many
  went elsewhere that receiving none is implausible, the sensor is stuck. Nights and closures
  bring no cars to the others, so they never count against a space.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from analytics.parking.space import Change
from analytics.parking.week import Holidays, week_minutes
from core.config import DEFAULT_ZONE
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
    zone: str = DEFAULT_ZONE
    holidays: Holidays | None = None  # days taken as Sundays

    @classmethod
    def learn(
        cls,
        starts: FloatArray,
        durations: FloatArray,
        zone: str = DEFAULT_ZONE,
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
    zone: str = DEFAULT_ZONE
    holidays: Holidays | None = None

    @classmethod
    def learn(
        cls,
        events: FloatArray,
        start: float,
        end: float,
        zone: str = DEFAULT_ZONE,
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
    zone: str = DEFAULT_ZONE,
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


@dataclass(frozen=True, slots=True)
class FreeParams:
    """How sure a stuck-free judgement must be: flagged when the cars the space should have
    received since it became free exceed ``-ln(alpha)`` (the Poisson chance of it receiving
    none is below ``alpha``), after ``floor_s`` at least; a space with fewer than
    ``min_arrivals`` in the learning window is not judged (its appeal is not known)."""

    alpha: float = 1e-4
    floor_s: float = 2 * 3600.0
    min_arrivals: int = 8


@dataclass(frozen=True)
class Arrivals:
    """Cars arriving on an area's spaces: when, on which space (by key), and the chance each
    space then shown free had of receiving that car if drivers chose uniformly among them
    (1 / the free spaces just before)."""

    times: FloatArray  # Unix s, sorted
    keys: tuple[str, ...]  # the space each car took
    chance: FloatArray
    spaces: tuple[str, ...] = ()  # the columns of ``free``
    free: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))

    @classmethod
    def of(cls, histories: Mapping[str, Sequence[Change]]) -> Arrivals:
        """From each space's shown changes: a change to occupied after a known state is a car
        (the first shown state is where the window began, not an arrival)."""
        merged = sorted(
            (c.time.timestamp(), i, c.occupied)
            for i, shown in enumerate(histories.values())
            for c in shown
        )
        keys = list(histories)
        state: list[bool | None] = [None] * len(keys)  # occupied, free, or not yet known
        times: list[float] = []
        at: list[str] = []
        free: list[list[bool]] = []
        for t, i, occupied in merged:
            if occupied and state[i] is False:
                times.append(t)
                at.append(keys[i])
                free.append([st is False for st in state])
            state[i] = occupied
        shown_free = np.array(free, dtype=bool).reshape(len(free), len(keys))
        chance = 1.0 / np.maximum(shown_free.sum(axis=1), 1)
        return cls(np.array(times, dtype=np.float64), tuple(at), chance, tuple(keys), shown_free)


NO_ARRIVALS = Arrivals(np.empty(0), (), np.empty(0))


@dataclass(frozen=True)
class FreeLimits:
    """A space shown free while the area's other spaces receive cars: each car it could have had
    counts by its chance under a uniform choice among the free spaces, times the space's appeal
    (its cars over those chances in the learning window: a far space drivers avoid counts less,
    the one by the entrance more)."""

    learned: Arrivals  # up to ``until``
    until: float  # the learning window's end (Unix s)
    params: FreeParams = field(default_factory=FreeParams)

    @classmethod
    def learn(
        cls,
        histories: Mapping[str, Sequence[Change]],
        until: datetime,
        params: FreeParams | None = None,
    ) -> FreeLimits:
        return cls(Arrivals.of(histories), until.timestamp(), params or FreeParams())

    def appeal(self, key: str, before: datetime) -> float | None:
        """The space's cars over its chances of them before ``before`` (the free run under
        judgement is no evidence of the space's appeal); None when not judged (too few cars)."""
        a = self.learned
        if key not in a.spaces:
            return None
        earlier = a.times <= before.timestamp()
        own = int(np.sum(earlier & (np.array(a.keys) == key)))
        exposure = float(np.sum(a.chance[earlier] * a.free[earlier, a.spaces.index(key)]))
        if own < self.params.min_arrivals or exposure <= 0:
            return None
        return own / exposure

    def _missed(
        self, key: str, since: datetime, now: datetime, recent: Arrivals
    ) -> tuple[FloatArray, FloatArray]:
        """The others' cars in (since, now] (learned ones up to ``until``, ``recent`` ones
        after) and the space's chance of each, in time order."""
        t0, cut, end = since.timestamp(), self.until, now.timestamp()
        parts = []
        for a, lo, hi in ((self.learned, t0, min(cut, end)), (recent, max(t0, cut), end)):
            keep = (a.times > lo) & (a.times <= hi) & (np.array(a.keys) != key)
            parts.append((a.times[keep], a.chance[keep]))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def expected(
        self, key: str, since: datetime, now: datetime, recent: Arrivals = NO_ARRIVALS
    ) -> float | None:
        """The cars the space should have received since ``since``, None when not judged."""
        appeal = self.appeal(key, since)
        if appeal is None:
            return None
        return appeal * float(self._missed(key, since, now, recent)[1].sum())

    def flagged_at(
        self, key: str, since: datetime, now: datetime, recent: Arrivals = NO_ARRIVALS
    ) -> datetime | None:
        """When a space free since ``since`` became implausibly free, if it did by ``now``."""
        appeal = self.appeal(key, since)
        if appeal is None:
            return None
        times, chance = self._missed(key, since, now, recent)
        due = appeal * np.cumsum(chance)
        over = np.flatnonzero(due > -np.log(self.params.alpha))
        if len(over) == 0:
            return None
        at = max(float(times[over[0]]), since.timestamp() + self.params.floor_s)
        return _at(at) if at <= now.timestamp() else None

    def exceeded(
        self, key: str, since: datetime, now: datetime, recent: Arrivals = NO_ARRIVALS
    ) -> bool:
        return self.flagged_at(key, since, now, recent) is not None


@dataclass(frozen=True)
class SpaceLimits:
    """How long a space plausibly stays occupied, by the hour of the week the stay began,
    pooled over an area's spaces (one space alone changes too rarely to learn from). Stays are
    bounded (a commute, an errand): one far longer is an abandoned car or a sensor stuck
    occupied. A free space is judged by the others' arrivals instead (``free``), not by time:
    drivers leave the far spaces free for weeks."""

    occupied: DurationLimits
    free: FreeLimits | None = None

    @classmethod
    def learn(
        cls,
        histories: Mapping[str, Sequence[Change]],
        zone: str = DEFAULT_ZONE,
        params: FreezeParams | None = None,
        holidays: Holidays | None = None,
        until: datetime | None = None,
        free: FreeParams | None = None,
    ) -> SpaceLimits:
        """From each space's shown changes (``space.changes``) by sensor: the completed stays,
        and (with ``until``, the end of the changes' window) each space's arrivals."""
        starts: list[float] = []
        lengths: list[float] = []
        for shown in histories.values():
            for a, b in itertools.pairwise(shown):
                if a.occupied:
                    starts.append(a.time.timestamp())
                    lengths.append((b.time - a.time).total_seconds())
        limits = DurationLimits.learn(np.array(starts), np.array(lengths), zone, params, holidays)
        return cls(limits, None if until is None else FreeLimits.learn(histories, until, free))

    def exceeded(self, occupied: bool, since: datetime, now: datetime) -> bool:
        return occupied and self.occupied.exceeded(since, now)


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
