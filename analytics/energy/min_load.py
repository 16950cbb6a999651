"""Minimum-load watch: a one-sided CUSUM over days of a meter's lowest hourly kWh.

A fault that adds a constant load to every hour (plant left running, a +30 % baseload) moves
the building's minimum by all of it, while its working hours hide it in their noise. The
minimum needs no baseline, so it does not wander with one that fits a meter badly:

- each local day gives its lowest raw kWh (at least ``min_hours`` readings), known at the
  first hour of the next day, and its mean outdoor temperature;
- it is compared with the same minima over the ``history_days`` before it: a line in the
  temperature fitted on them (once more without the days off it by > 3 robust scales), the
  day's excess over that line, in robust scales (1.4826 MAD) of the history's own excesses,
  floored at ``floor_share`` of its median minimum (a register that reads the same every
  night still needs a scale);
- these z-scores, clipped at ``cap`` so that a single odd day weighs little, are accumulated
  one-sided (Page's CUSUM, S = max(0, S + min(z, cap) − ``drift``)): a raised minimum day
  after day alarms when S reaches ``alarm``, i.e. after ``alarm / (cap − drift)`` days at the
  least. The alarm holds ``hold_h`` hours and S starts again from zero.

An excess only: a lower minimum is a saving. Causal: a day is judged against the days before
it, and known once it is over.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
DAY_H = 24


@dataclass(frozen=True, slots=True)
class MinLoadParams:
    """The CUSUM's reference, clip, drift and alarm level (decision 014)."""

    alarm: float = 6.0  # S that alarms: with cap − drift = 1, six raised days at the least
    drift: float = 1.0  # z subtracted each day: a day must exceed it to accumulate
    cap: float = 2.0  # z clipped here: no single day counts for more than cap − drift
    history_days: int = 28  # the minima a day is compared with
    min_history: int = 20  # known days needed in the history before a score
    min_hours: int = 12  # readings a day needs for its minimum to count
    floor_share: float = 0.03  # scale floor, as a share of the history's median minimum
    hold_h: int = DAY_H  # hours an alarm holds

    def __post_init__(self) -> None:
        if self.alarm <= 0 or self.cap <= self.drift or self.drift < 0:
            raise ValueError("need alarm > 0 and cap > drift >= 0")
        if self.min_history < 4 or self.history_days < self.min_history:
            raise ValueError("need 4 <= min_history <= history_days")
        if not 1 <= self.min_hours <= DAY_H or self.hold_h < 1:
            raise ValueError("need 1 <= min_hours <= 24 and hold_h >= 1")


def excess_over_line(
    minima: FloatArray, temps: FloatArray, minimum: float, temp: float, floor_share: float
) -> float:
    """``minimum`` (at mean temperature ``temp``) over a line fitted to the history's minima in
    their temperatures, in robust scales of the history's residuals; NaN without a scale."""
    if not math.isfinite(temp) or (np.isfinite(minima) & np.isfinite(temps)).sum() < 4:
        temps = np.zeros(len(minima))  # no temperature to read: a flat line, the median
        temp = 0.0
    ok = np.isfinite(minima) & np.isfinite(temps)
    x, t = minima[ok], temps[ok]
    level = float(np.median(x))
    design = np.column_stack([np.ones(len(t)), t])
    coef = np.linalg.lstsq(design, x, rcond=None)[0]
    r = x - design @ coef
    spread = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    keep = np.abs(r - np.median(r)) <= 3.0 * spread
    if keep.sum() > len(x) // 2:  # once more without the days far off the line
        coef = np.linalg.lstsq(design[keep], x[keep], rcond=None)[0]
        r = x - design @ coef
    centre = float(np.median(r))
    scale = max(1.4826 * float(np.median(np.abs(r - centre))), floor_share * abs(level))
    if not scale > 0:
        return math.nan
    return (minimum - float(coef[0] + coef[1] * temp) - centre) / scale


@dataclass(slots=True)
class MinLoad:
    """Fed hour by hour (index, local hour of day, raw kWh or NaN, °C or NaN); ``level(i)`` is
    the CUSUM over its alarm level while an alarm is in force at hour ``i`` (≥ 1), else 0."""

    p: MinLoadParams = field(default_factory=MinLoadParams)
    _low: float = math.inf
    _count: int = 0
    _temp_sum: float = 0.0
    _temp_count: int = 0
    _last_hour: int = -1
    # The last ``history_days`` days' minima and mean temperatures (set in __post_init__).
    _minima: deque[float] = field(init=False)
    _temps: deque[float] = field(init=False)
    _cusum: float = 0.0
    _alarm_at: int = -1
    _alarm_level: float = 0.0

    def __post_init__(self) -> None:
        self._minima = deque(maxlen=self.p.history_days)
        self._temps = deque(maxlen=self.p.history_days)

    def step(self, i: int, hour_of_day: int, kwh: float, temp: float) -> None:
        """Account hour ``i``; a day ends when the local hour of day goes back."""
        if 0 <= hour_of_day < self._last_hour:
            self._close(i)
        self._last_hour = hour_of_day
        if math.isfinite(kwh):
            self._low = min(self._low, kwh)
            self._count += 1
        if math.isfinite(temp):
            self._temp_sum += temp
            self._temp_count += 1

    def level(self, i: int) -> float:
        """The CUSUM over its alarm level when it alarmed, while the alarm holds; else 0."""
        if self._alarm_at < 0 or not 0 <= i - self._alarm_at < self.p.hold_h:
            return 0.0
        return self._alarm_level

    @property
    def cusum(self) -> float:
        return self._cusum

    def forget(self) -> None:
        """A change of use was confirmed and the norm re-anchored on it: the minima before it
        no longer say what is normal, nor does what they accumulated."""
        self._minima.clear()
        self._temps.clear()
        self._cusum, self._alarm_at, self._alarm_level = 0.0, -1, 0.0

    def _close(self, i: int) -> None:
        low = self._low if self._count >= self.p.min_hours else math.nan
        temp = self._temp_sum / self._temp_count if self._temp_count else math.nan
        self._low, self._count, self._temp_sum, self._temp_count = math.inf, 0, 0.0, 0
        if not math.isfinite(low):
            return  # a day without enough readings neither counts nor resets
        minima = np.fromiter(self._minima, dtype=np.float64)
        temps = np.fromiter(self._temps, dtype=np.float64)
        self._minima.append(low)  # judged against the days before it, then joins them
        self._temps.append(temp)
        if np.isfinite(minima).sum() < self.p.min_history:
            return
        z = excess_over_line(minima, temps, low, temp, self.p.floor_share)
        if not math.isfinite(z):
            return
        self._cusum = max(0.0, self._cusum + min(z, self.p.cap) - self.p.drift)
        if self._cusum >= self.p.alarm:
            self._alarm_at, self._alarm_level = i, self._cusum / self.p.alarm
            self._cusum = 0.0
