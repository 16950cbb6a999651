"""Baseload watch: a meter's mean residual over its night hours, a few nights at a time.

A fault that adds a constant load (plant left running, a +30 % baseload) is a fraction of a
working hour's noise but a large share of a night's load, and nights are the hours a baseline
predicts best. An hourly weighted mean dilutes the nights with the day; this keeps them apart:

- each night (local hours ``hours`` of one local day) gives the mean residual of its scored
  hours, known at the first hour after the night;
- the mean of the last ``nights`` nights is compared with the same means over the
  ``history_days`` before it: (mean − their median) / their robust scale (1.4826 MAD). The
  history is the meter's own, out of sample, so a meter whose nights wander is judged by how
  much they wander;
- the score holds until the next night is known (a day), and lapses after ``hold_h`` hours
  without one (a meter that went silent).

Causal: a night is judged against nights before it only.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

DAY_H = 24


@dataclass(frozen=True, slots=True)
class NightParams:
    """Which hours are the night and how many nights are averaged."""

    first_hour: int = 0  # local hour the night begins (inclusive) …
    last_hour: int = 5  # … and ends (inclusive)
    nights: int = 2  # nights averaged: a fault of a weekend or a week lasts two or more
    history_days: int = 91  # the night means the latest is compared with
    min_history: int = 40  # night means needed before a score
    min_hours: int = 3  # scored hours a night needs to count
    hold_h: int = 30  # a score lapses this long after its night ended

    def __post_init__(self) -> None:
        if not 0 <= self.first_hour <= self.last_hour < DAY_H:
            raise ValueError("need 0 <= first_hour <= last_hour < 24")
        if self.nights < 1 or self.min_hours < 1 or self.min_history < 4:
            raise ValueError("nights, min_hours must be >= 1 and min_history >= 4")


@dataclass(slots=True)
class NightLevel:
    """Fed hour by hour (index, local hour of day, residual kWh or NaN); ``score(i)`` is the
    standardised mean of the last nights as known at hour ``i``, NaN when there is none."""

    p: NightParams = field(default_factory=NightParams)
    _sum: float = 0.0
    _count: int = 0
    _in_night: bool = False
    _nights: deque[float] = field(default_factory=deque)  # last night means (NaN: unknown)
    _history: deque[float] = field(default_factory=deque)  # trailing means of ``nights``
    _score: float = math.nan
    _known_at: int = -1  # hour index the score became known

    def step(self, i: int, hour_of_day: int, residual: float) -> None:
        """Account hour ``i``; a night ends at its first hour past ``last_hour``."""
        night = self.p.first_hour <= hour_of_day <= self.p.last_hour
        if night:
            self._in_night = True
            if math.isfinite(residual):
                self._sum += residual
                self._count += 1
        elif self._in_night:
            self._close(i)

    def score(self, i: int) -> float:
        """The score in force at hour ``i`` (NaN: none, or lapsed)."""
        if self._known_at < 0 or i - self._known_at > self.p.hold_h:
            return math.nan
        return self._score

    def forget(self) -> None:
        """A change of use was confirmed and the expectation re-anchored on it: the last nights,
        measured against the old level, no longer count (their spread still does)."""
        self._nights.clear()
        self._score, self._known_at = math.nan, -1

    def _close(self, i: int) -> None:
        value = self._sum / self._count if self._count >= self.p.min_hours else math.nan
        self._sum, self._count, self._in_night = 0.0, 0, False
        self._nights.append(value)
        while len(self._nights) > self.p.nights:
            self._nights.popleft()
        known = [v for v in self._nights if math.isfinite(v)]
        if len(known) < max(1, self.p.nights - 1) or not math.isfinite(value):
            self._score, self._known_at = math.nan, -1
            return
        mean = sum(known) / len(known)
        hist = np.fromiter(self._history, dtype=np.float64)
        self._history.append(mean)  # judged against the nights before it, then joins them
        while len(self._history) > self.p.history_days:
            self._history.popleft()
        if len(hist) < self.p.min_history:
            self._score, self._known_at = math.nan, -1
            return
        median = float(np.median(hist))
        scale = 1.4826 * float(np.median(np.abs(hist - median)))
        self._score = (mean - median) / scale if scale > 0 else math.nan
        self._known_at = i
