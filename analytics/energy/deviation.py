"""Sustained deviation of a meter from its own baseline, scored hour by hour and causally.

The score of hour ``t`` reads nothing after ``t`` (cut the input after any hour: the scores up
to it do not change). At the first hour of every UTC month the baseline (time of week + outdoor
temperature, :class:`analytics.energy.baseline.Baseline`) is refitted on the trailing
``train_days`` before it, leaving out the hours this detector found anomalous; nothing is
scored before ``min_train_days`` of history.

- Expected kWh = the baseline + what it got wrong lately: the median residual of each hour of
  day (weekdays, weekends apart) over the last ``level_days`` of normal hours, re-measured
  every day. Real buildings drift and change schedules from one year to the next; a fault of
  a weekend or a week stands out against the weeks just before it.
- Each hour's residual is divided by the robust scale of its local hour of week (nights are
  quieter than working hours, so a weekend left heated is seen at night), clipped at
  ``clip_sigmas``, then averaged by two exponentially weighted means: a fast one (half-life
  ``half_life_h``, a weekend) and a slow one (``slow_half_life_h``, a week). Each is divided
  by the scale it really had, out of sample: over its own last ``history_days`` once it has
  them, before that on ``holdout_days`` that a second baseline did not see. ``score`` is the
  stronger of the two, the slow one rescaled so that ``|score| ≥ threshold`` flags the hour
  for both; above zero an excess, below an unexplained drop (a closure, a failing meter).
- Nights apart (:mod:`analytics.energy.night_level`): the mean residual of the local hours
  ``night_first_hour``-``night_last_hour`` over the last ``night_count`` nights, against the
  same means over the trailing quarter. A constant added load (plant left on, a higher
  baseload) is a large share of a night and a sliver of a working day. It flags an excess
  (held a day) at ``night_threshold``, and is rescaled into ``score`` like the slow mean.
- The minimum apart (:mod:`analytics.energy.min_load`): each local day's lowest raw kWh against
  the same minima over the four weeks before (a line in the temperature), accumulated by a
  one-sided CUSUM that alarms at ``min_load_alarm``; the alarm holds a day. It needs no
  baseline, so it does not wander where the residuals of a badly fitted meter do: a +30 %
  baseload for a week is a step in the minimum, and it adds up over the days.
- Flagged hours of one sign, merged over gaps of up to ``merge_gap_h``, are events; an event
  begins where the fast score last rose past 1 before it and carries its excess kWh and €.
  The slow mean forgets an event once the fast one falls below half of it, so an event ends
  about a day after the fault does.
- A baseline that cannot hold says so rather than alarming for a year: an event flagged for
  ``shift_confirm_h`` is a confirmed level shift (a change of use), reported once; the level
  since its onset becomes the norm and, once ``min_refit_days`` of it exist, the baseline is
  fitted on them alone. A month whose held-out CV(RMSE) exceeds ``max_holdout_cv_rmse`` is
  ``UNUSABLE``: no score, no alarm.
- Exact zeros are missing readings (runs of ``zero_run_hours``; by default a single hour: a
  building's meter that reads 0 kWh was not read); meter faults are another detector's job.

Pure: arrays and parameters in, arrays and events out; no I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import IntEnum
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from analytics.energy.baseline import Baseline, BaselineError, BaselineParams
from analytics.energy.hourly_file import mask_zero_runs
from analytics.energy.min_load import MinLoad, MinLoadParams
from analytics.energy.night_level import NightLevel, NightParams
from analytics.energy.week_hours import HOURS_PER_WEEK, week_hours

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
HourArray = npt.NDArray[np.datetime64]
Holidays = Callable[[date], bool] | None
HOUR = np.timedelta64(3600, "s")
DAY_H = 24


# The baseline this detector's parameters were measured with (decision 014): one profile for
# every holiday and the hour's temperature only. The closure profiles and the lagged
# temperature of decision 013 fit buildings better, but move the residuals its offsets, scales
# and closure rule were set on (a school's frost nights late in its holidays, under-predicted by
# a few kWh, become an excess): not taken until measured on the detector's own bench.
DEVIATION_BASELINE = BaselineParams(closure_days=None, lag_half_lives_h=())
SCORE_SCALE_FLOOR = 0.05  # in hourly scales: binds only on a register without noise


class State(IntEnum):
    """What the detector could say about an hour."""

    LEARNING = 0  # not enough history for a baseline yet
    SCORED = 1
    MISSING = 2  # no reading (or no temperature) that hour
    UNUSABLE = 3  # the baseline does not hold: no score, no alarm


@dataclass(frozen=True, slots=True)
class DeviationParams:
    """Defaults tuned on half of 25 real buildings, measured on the other half
    (docs/decisions/014-energy-anomalies.md)."""

    train_days: int = 365  # trailing training window of each monthly refit
    min_train_days: int = 150  # valid days needed before the first score
    holdout_days: int = 42  # held out at each refit to measure the score's own scale
    min_refit_days: int = 28  # after a level shift: valid days before a baseline of their own
    level_days: int = 28  # the baseline follows what it got wrong over these trailing days
    half_life_h: float = 12.0  # of the fast weighted mean of residuals (a weekend) …
    slow_half_life_h: float = 72.0  # … and of the slow one (a week)
    threshold: float = 5.75  # |score| that makes an hour anomalous
    slow_threshold: float = 4.25  # the slow mean's own, in its scales (the score is rescaled)
    night_threshold: float = 4.0  # the nights' own (excess only); 0 turns them off
    night_count: int = 2  # nights averaged
    night_first_hour: int = 0  # local hours of the night, inclusive
    night_last_hour: int = 5
    min_load_alarm: float = 6.0  # the daily minimum's CUSUM alarm level (excess only); 0: off
    history_days: int = 91  # the score's scale is re-measured on its own trailing history …
    min_history_days: int = 56  # … once it has this many scored days
    clip_sigmas: float = 8.0  # hourly residuals clipped at this many hourly scales
    scale_floor: float = 0.25  # an hour's scale is at least this share of the median one
    level_floor: float = 0.01  # … and this share of the meter's mean hourly kWh
    merge_gap_h: int = 24  # anomalous runs of one sign this close form one event
    shift_confirm_h: int = 14 * DAY_H  # an event this long is a change of use
    max_holdout_cv_rmse: float = 0.6  # beyond: the baseline is not usable that month
    zero_run_hours: int = 1  # runs of this many exact zeros are missing readings
    price_eur_per_kwh: float = 0.20

    def __post_init__(self) -> None:
        positive = (self.half_life_h, self.slow_half_life_h, self.threshold)
        if min(*positive, self.slow_threshold, self.clip_sigmas) <= 0:
            raise ValueError("half-lives, thresholds and clip_sigmas must be > 0")
        if self.night_threshold < 0 or self.min_load_alarm < 0:
            raise ValueError("night_threshold and min_load_alarm must be >= 0 (0: off)")
        if not 0 < self.holdout_days < self.min_train_days <= self.train_days:
            raise ValueError("need 0 < holdout_days < min_train_days <= train_days")


@dataclass(frozen=True, slots=True)
class DeviationEvent:
    """A sustained deviation: ``direction`` +1 excess, −1 drop; times are hour starts (UTC)."""

    onset: np.datetime64  # when the deviation began, as far as the score can tell
    detected_at: np.datetime64  # the first anomalous hour: the rule knew at its end
    end: np.datetime64 | None  # last anomalous hour; None while it runs
    direction: int
    level_shift: bool  # confirmed change of use: the baseline was re-anchored
    excess_kwh: float  # Σ (kWh − expected) from onset to end (negative for a drop)
    excess_eur: float
    peak_score: float


@dataclass(slots=True)
class MeterDeviation:
    """Per hour: expected kWh, score, anomalous flag, state; and the meter's events."""

    hours: HourArray
    kwh: FloatArray  # as scored: exact zeros made missing
    expected_kwh: FloatArray
    score: FloatArray
    anomalous: npt.NDArray[np.bool_]
    state: npt.NDArray[np.int8]
    events: list[DeviationEvent] = field(default_factory=list)

    def as_of(self, k: int, p: DeviationParams) -> MeterDeviation:
        """The scoring as it stood once hour ``k`` was scored (what a pass then saw): every
        array ends at ``k`` and each event is cut there, since the scoring is causal."""
        cut = slice(0, k + 1)
        out = MeterDeviation(
            self.hours[cut],
            self.kwh[cut],
            self.expected_kwh[cut],
            self.score[cut],
            self.anomalous[cut],
            self.state[cut],
        )
        firsts = [int(np.searchsorted(self.hours, e.detected_at)) for e in self.events]
        for n, e in enumerate(self.events):
            first = firsts[n]
            if first > k:
                break
            onset = int(np.searchsorted(self.hours, e.onset))
            last = len(self.hours) - 1 if e.end is None else int(np.searchsorted(self.hours, e.end))
            last_k = first + int(np.flatnonzero(self.anomalous[first : min(last, k) + 1])[-1])
            # the hour the event closed: at its last flag for a level shift, at the next
            # event's first flag (a change of sign) or once the merge gap ran out
            following = firsts[n + 1] if n + 1 < len(firsts) else math.inf
            closed_at = (
                math.inf
                if e.end is None
                else last
                if e.level_shift
                else min(following, last + p.merge_gap_h + 1)
            )
            sl = slice(onset, last_k + 1)
            excess = float(np.nansum(self.kwh[sl] - self.expected_kwh[sl]))
            out.events.append(
                DeviationEvent(
                    onset=e.onset,
                    detected_at=e.detected_at,
                    end=self.hours[last_k] if closed_at <= k else None,
                    direction=e.direction,
                    level_shift=e.level_shift and closed_at <= k,
                    excess_kwh=excess,
                    excess_eur=excess * p.price_eur_per_kwh,
                    peak_score=float(np.nanmax(np.abs(self.score[sl]))) * e.direction,
                )
            )
        return out


def hold_temperature(temperature_c: FloatArray, max_gap_h: int = 6) -> FloatArray:
    """Carry the last temperature forward over gaps of up to ``max_gap_h`` hours (causal)."""
    out = temperature_c.astype(np.float64, copy=True)
    last, age = math.nan, 0
    for i, v in enumerate(out):
        if math.isfinite(v):
            last, age = float(v), 0
        else:
            age += 1
            if age <= max_gap_h:
                out[i] = last
    return out


@dataclass(slots=True)
class _Fit:
    baseline: Baseline
    hour_scale: FloatArray  # robust scale of one hour's residual, per local hour of week
    sigma_score: tuple[float, float]  # robust scales of the fast and slow weighted means
    usable: bool


def hour_scales(
    residual: FloatArray, how: IntArray, floor_share: float, minimum: float = 0.0
) -> FloatArray:
    """Robust scale (1.4826 MAD) of the residuals of each local hour of week, floored at
    ``floor_share`` of their median so that a quiet hour does not turn noise into alarms, and
    at ``minimum`` (kWh) so that a register the baseline predicts exactly (all hours alike)
    still has a scale to divide by."""
    ok = np.isfinite(residual)
    scale = np.full(HOURS_PER_WEEK, np.nan)
    for h in range(HOURS_PER_WEEK):
        r = residual[ok & (how == h)]
        if len(r) >= 4:
            scale[h] = 1.4826 * float(np.median(np.abs(r - np.median(r))))
    typical = float(np.nanmedian(scale)) if np.isfinite(scale).any() else math.nan
    scale = np.where(np.isfinite(scale), np.maximum(scale, floor_share * typical), typical)
    floor = minimum if minimum > 1e-9 else 1e-9  # False for NaN
    return np.asarray(np.fmax(scale, floor), dtype=np.float64)


def _robust_scale(x: FloatArray) -> float:
    """Robust scale of a weighted mean of hourly z-scores, floored: on a register the baseline
    predicts exactly, the mean never moves and any rounding would score as an alarm."""
    x = x[np.isfinite(x)]
    if len(x) < 24:
        return math.nan
    return max(float(1.4826 * np.median(np.abs(x))), SCORE_SCALE_FLOOR)


def _ewma(residual: FloatArray, half_life_h: float) -> FloatArray:
    """Exponentially weighted mean that skips missing hours (keeps its value over them)."""
    alpha = 1.0 - 0.5 ** (1.0 / half_life_h)
    out = np.full(len(residual), np.nan)
    m, seen = 0.0, False
    for i, r in enumerate(residual):
        if math.isfinite(r):
            m = r if not seen else m + alpha * (r - m)
            seen = True
            out[i] = m
    return out


Fitter = Callable[[int, int], Baseline | None]  # a baseline on hours [lo, hi), or None


def _fit(
    fit_on: Fitter,
    hours: HourArray,
    kwh: FloatArray,
    temp: FloatArray,
    how: IntArray,
    group: IntArray,
    lo: int,
    hi: int,
    p: DeviationParams,
    *,
    holdout: bool,
) -> _Fit | None:
    """Baseline on [lo, hi); its scales from a fit that did not see the last holdout days."""
    if np.isfinite(kwh[lo:hi]).sum() < p.min_refit_days * DAY_H:
        return None
    baseline = fit_on(lo, hi)
    if baseline is None:
        return None
    minimum = p.level_floor * float(np.nanmean(np.abs(kwh[lo:hi])))
    scale = hour_scales(
        kwh[lo:hi] - baseline.predict(hours[lo:hi], temp[lo:hi]), how[lo:hi], p.scale_floor, minimum
    )
    if not holdout:
        return _Fit(baseline, scale, (math.nan, math.nan), True)
    cut = hi - p.holdout_days * DAY_H
    early = fit_on(lo, cut)
    if early is None:
        return _Fit(baseline, scale, (math.nan, math.nan), False)
    w = p.level_days * DAY_H
    e0 = max(lo, cut - w)
    early_kwh = early.predict(hours[lo:hi], temp[lo:hi])
    early_scale = hour_scales(
        kwh[lo:cut] - early_kwh[: cut - lo], how[lo:cut], p.scale_floor, minimum
    )
    r = _offset_residuals(kwh[e0:hi], early_kwh[e0 - lo :], group[e0:hi], cut - e0, w)
    z = np.clip(r / early_scale[how[cut:hi]], -p.clip_sigmas, p.clip_sigmas)
    sigma_score = (
        _robust_scale(_ewma(z, p.half_life_h)),
        _robust_scale(_ewma(z, p.slow_half_life_h)),
    )
    ok = np.isfinite(r)
    mean_kwh = float(np.mean(kwh[cut:hi][ok])) if ok.any() else math.nan
    cv = float(np.sqrt(np.mean(r[ok] ** 2)) / mean_kwh) if mean_kwh > 0 else math.inf
    usable = min(sigma_score) > 0 and cv <= p.max_holdout_cv_rmse  # False when NaN
    return _Fit(baseline, scale, sigma_score, usable)


def day_groups(how: IntArray) -> IntArray:
    """Hour of day, apart for weekdays (0-23) and weekends or holidays (24-47)."""
    return np.where(how // 24 >= 5, 24, 0) + how % 24


def recent_offset(residual: FloatArray, group: IntArray) -> FloatArray:
    """The median residual of each hour of day (weekdays, weekends) over a recent window: what
    the baseline gets wrong lately, from a schedule changed since last year to a new level."""
    ok = np.isfinite(residual)
    out = np.zeros(2 * DAY_H)
    if ok.sum() < 7 * DAY_H:
        return out
    r, g = residual[ok], group[ok]
    order = np.lexsort((r, g))  # by group, then by value: medians by position
    r, g = r[order], g[order]
    counts = np.bincount(g, minlength=2 * DAY_H)
    first = np.concatenate(([0], np.cumsum(counts)[:-1]))
    has = counts >= 3
    lo = first + np.maximum(counts - 1, 0) // 2
    hi = first + counts // 2
    out[:] = float(np.median(residual[ok]))
    out[has] = 0.5 * (r[lo[has]] + r[np.minimum(hi[has], len(r) - 1)])
    return out


def _offset_residuals(
    y: FloatArray, model: FloatArray, group: IntArray, start: int, w: int
) -> FloatArray:
    """Residuals from ``start`` on, against the model plus the offsets of the ``w`` hours before
    each day."""
    r = np.full(len(y) - start, np.nan)
    for d in range(start, len(y), DAY_H):
        j = max(0, d - w)
        off = recent_offset(y[j:d] - model[j:d], group[j:d])
        k = slice(d, d + DAY_H)
        r[d - start : d - start + DAY_H] = y[k] - model[k] - off[group[k]]
    return r


def _month_starts(hours: HourArray) -> list[int]:
    """Indices of the first hour of every UTC month in ``hours`` (and 0)."""
    months = hours.astype("datetime64[M]")
    idx = np.flatnonzero(months[1:] != months[:-1]) + 1
    return [0, *idx.tolist()]


def score_meter(
    hours: HourArray,
    kwh: FloatArray,
    temperature_c: FloatArray,
    *,
    zone: ZoneInfo,
    params: DeviationParams | None = None,
    baseline: BaselineParams | None = None,
    holidays: Holidays = None,
) -> MeterDeviation:
    """Score one meter's hourly kWh (a regular, increasing UTC hourly grid; NaN = missing)."""
    p = params or DeviationParams()
    n = len(hours)
    if len(kwh) != n or len(temperature_c) != n:
        raise ValueError("hours, kwh and temperature_c must have the same length")
    if n > 1 and np.any(np.diff(hours.astype("datetime64[s]")) != HOUR):
        raise ValueError("hours must be a regular hourly grid without gaps")
    hours = hours.astype("datetime64[s]")
    y = mask_zero_runs(np.asarray(kwh, dtype=np.float64), p.zero_run_hours)
    temp = hold_temperature(temperature_c)
    out = MeterDeviation(
        hours=hours,
        kwh=y,
        expected_kwh=np.full(n, np.nan),
        score=np.full(n, np.nan),
        anomalous=np.zeros(n, dtype=bool),
        state=np.full(n, State.LEARNING, dtype=np.int8),
    )
    bp = baseline or DEVIATION_BASELINE
    train = y
    how = week_hours(hours, zone, holidays).hour_of_week
    group = day_groups(how)

    def fit_on(lo: int, hi: int) -> Baseline | None:
        try:
            return Baseline.fit(
                hours[lo:hi], train[lo:hi], temp[lo:hi], zone=zone, params=bp, holidays=holidays
            )
        except BaselineError:
            return None

    alpha = 1.0 - 0.5 ** (1.0 / p.half_life_h)
    beta = 1.0 - 0.5 ** (1.0 / p.slow_half_life_h)
    rescale = p.threshold / p.slow_threshold
    night_rescale = p.threshold / p.night_threshold if p.night_threshold > 0 else 0.0
    night = NightLevel(NightParams(p.night_first_hour, p.night_last_hour, p.night_count))
    low = MinLoad(MinLoadParams(alarm=p.min_load_alarm)) if p.min_load_alarm > 0 else None
    hour_of_day = how % DAY_H  # local; a holiday's slots are hours of a day too
    window_h = p.level_days * DAY_H
    starts = _month_starts(hours)
    bounds = [*starts[1:], n]
    model = np.full(n, np.nan)  # the baseline in force, before its recent offsets
    mean_z = np.full((2, n), np.nan)  # the weighted means of scaled residuals, fast and slow
    normal = np.zeros(n, dtype=bool)  # hours that set the level: scored, not anomalous
    fit: _Fit | None = None
    anchor = 0  # data before a confirmed level shift no longer trains the baseline
    offset = np.zeros(2 * DAY_H)
    fast, slow, seen = 0.0, 0.0, False
    score = math.nan
    run = _Run()
    for m0, m1 in zip(starts, bounds, strict=True):
        lo = max(anchor, m0 - p.train_days * DAY_H)
        # what the detector found anomalous does not teach the baseline what is normal
        train = np.where(out.anomalous & ~normal, np.nan, y)
        valid_days = np.isfinite(train[lo:m0]).sum() / DAY_H
        if valid_days >= p.min_train_days:
            fit = _fit(fit_on, hours, train, temp, how, group, lo, m0, p, holdout=True)
        elif anchor > 0 and valid_days >= p.min_refit_days and fit is not None:
            new = _fit(fit_on, hours, train, temp, how, group, lo, m0, p, holdout=False)
            if new is not None:  # keep the scales measured out of sample before the shift
                fit = _Fit(new.baseline, new.hour_scale, fit.sigma_score, fit.usable)
        if fit is None or m1 <= m0:
            continue
        h0 = max(0, m0 - p.history_days * DAY_H)
        if np.isfinite(mean_z[0, h0:m0]).sum() >= p.min_history_days * DAY_H:
            # the scales the means really had over the last months, out of sample
            fit.sigma_score = (_robust_scale(mean_z[0, h0:m0]), _robust_scale(mean_z[1, h0:m0]))
            fit.usable = fit.usable and min(fit.sigma_score) > 0
        w0 = max(0, m0 - window_h)  # the level window is re-predicted by the model in force
        model[w0:m1] = fit.baseline.predict(hours[w0:m1], temp[w0:m1])
        for i in range(m0, m1):
            if i == m0 or (i - m0) % DAY_H == 0:
                j = max(w0, i - window_h, anchor)
                offset = recent_offset(
                    np.where(normal[j:i], y[j:i] - model[j:i], np.nan), group[j:i]
                )
            e = float(model[i]) + float(offset[group[i]])
            out.expected_kwh[i] = e
            known = math.isfinite(y[i]) and math.isfinite(e) and fit.usable
            night.step(i, int(hour_of_day[i]), float(y[i]) - e if known else math.nan)
            if low is not None:
                low.step(i, int(hour_of_day[i]), float(y[i]), float(temp[i]))
            if not fit.usable:
                out.state[i] = State.UNUSABLE
                run.close(out, p)
                seen = False
                continue
            if not (math.isfinite(y[i]) and math.isfinite(e)):
                out.state[i] = State.MISSING
                if seen:
                    out.score[i] = score
                continue
            z = (float(y[i]) - e) / float(fit.hour_scale[how[i]])
            r = min(max(z, -p.clip_sigmas), p.clip_sigmas)
            fast = r if not seen else fast + alpha * (r - fast)
            slow = r if not seen else slow + beta * (r - slow)
            mean_z[0, i], mean_z[1, i] = fast, slow
            seen = True
            s_fast = fast / fit.sigma_score[0]
            if run.direction and (fast - 0.5 * slow) * run.direction < 0:
                slow = fast  # the fast mean says the deviation is fading: the slow one follows
            s_slow = slow / fit.sigma_score[1] * rescale
            # the nights watch for an excess only: a lower baseload is a saving, and the hourly
            # means already see a building that stopped
            s_night = night.score(i) * night_rescale
            s_night = s_night if s_night > 0 else 0.0  # False for NaN: no night known
            s_low = low.level(i) * p.threshold if low is not None else 0.0
            score = s_fast if abs(s_fast) >= abs(s_slow) else s_slow
            score = max(s_night, s_low) if max(s_night, s_low) > abs(score) else score
            # the slow mean, the nights and the minimum lag: they flag only while the fast mean
            # leans their way
            flag = (
                abs(s_fast) >= p.threshold
                or (abs(s_slow) >= p.threshold and s_fast * math.copysign(1.0, s_slow) >= 0)
                or (s_night >= p.threshold and s_fast >= 0)
                or (s_low >= p.threshold and s_fast >= 0)
            )
            s = score
            out.score[i] = s
            out.state[i] = State.SCORED
            shifted = run.step(i, s, s_fast, flag, out, p)
            normal[i] = not out.anomalous[i]
            if shifted:  # a confirmed level shift: the new level is the norm from its onset
                on = run.shifted_from
                normal[on : i + 1] = out.state[on : i + 1] == State.SCORED
                j = max(on, i + 1 - window_h)
                offset = recent_offset(y[j : i + 1] - model[j : i + 1], group[j : i + 1])
                anchor, fast, slow = on, 0.0, 0.0
                night.forget()
                if low is not None:
                    low.forget()
    run.close(out, p, running=n - 1 - run.last <= p.merge_gap_h)
    return out


@dataclass(slots=True)
class _Run:
    """The event being built: its sign, onset, first and last anomalous hours."""

    direction: int = 0
    onset: int = -1
    first: int = -1
    last: int = -1
    calm_up: int = -1  # the last hour the fast score was below +1: an excess began after it
    calm_down: int = -1  # … above −1: a drop began after it
    shifted_from: int = -1  # onset of the last confirmed level shift
    closed: int = -1  # last hour of the last event: the next one begins after it

    def step(
        self, i: int, s: float, s_fast: float, flag: bool, out: MeterDeviation, p: DeviationParams
    ) -> bool:
        """Account hour ``i`` (score ``s``, fast score ``s_fast``, anomalous or not); True when
        the event became a level shift."""
        sign = 1 if s > 0 else -1 if s < 0 else 0
        if s_fast < 1.0:
            self.calm_up = i
        if s_fast > -1.0:
            self.calm_down = i
        if self.direction and i - self.last > p.merge_gap_h:
            self.close(out, p)
        if not flag:
            return False
        out.anomalous[i] = True
        if self.direction and sign != self.direction:
            self.close(out, p)
        if not self.direction:
            self.direction, self.first = sign, i
            calm = self.calm_up if sign > 0 else self.calm_down
            self.onset = min(i, max(calm + 1, self.closed + 1))
        self.last = i
        if i - self.first + 1 >= p.shift_confirm_h:
            self.shifted_from = self.onset
            self.close(out, p, level_shift=True)
            return True
        return False

    def close(
        self,
        out: MeterDeviation,
        p: DeviationParams,
        *,
        level_shift: bool = False,
        running: bool = False,
    ) -> None:
        if not self.direction:
            return
        sl = slice(self.onset, self.last + 1)
        diff = out.kwh[sl] - out.expected_kwh[sl]
        excess = float(np.nansum(diff))
        out.events.append(
            DeviationEvent(
                onset=out.hours[self.onset],
                detected_at=out.hours[self.first],
                end=None if running else out.hours[self.last],
                direction=self.direction,
                level_shift=level_shift,
                excess_kwh=excess,
                excess_eur=excess * p.price_eur_per_kwh,
                peak_score=float(np.nanmax(np.abs(out.score[sl]))) * self.direction,
            )
        )
        self.closed = self.last
        self.direction, self.onset, self.first, self.last = 0, -1, -1, -1
