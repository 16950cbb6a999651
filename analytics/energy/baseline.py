"""A meter's energy baseline: time-of-week and temperature regression (CalTRACK hourly TOWT).

For each hour, kWh = α[slot] + Σ_j β[mode, j] · f_j(T) + Σ_k λ[mode, k] · (T̄_k − T)
+ Σ_h (μ[mode, h] + ν[mode, h] · T) · S_h, where the slot is the hour of week in the building's
local time, or the hour of a day off (a holiday; in a long closure, its first days, middle, last
day, and the day it reopens: see :func:`slots`), f_j is a piecewise-linear basis of the outdoor
temperature T with knots at CalTRACK's 30, 45, 55, 65, 75, 90 °F (bins holding fewer than
``min_bin_hours`` hours are merged into a neighbour), T̄_k its exponential means over the hours
before (``lag_half_lives_h``), S_h the exponential mean of the hours a long closure has left
unheated (``state_half_lives_h``: how far the structure has cooled, through frost protection
and the days after it reopens), and ``mode`` is occupied or unoccupied.
As in CalTRACK, occupancy is inferred per hour of week: fit kWh on heating and cooling degree
hours alone (balance points 50 °F and 65 °F); an hour of week is occupied when the meter is above
that fit at least 65 % of the time.

Fitting: weighted least squares, the α absorbed by within-slot demeaning (Frisch-
Waugh), so a year of hours costs a small k × k solve; optionally Huber-robust (a few IRLS passes:
a week of outage or a one-off event bends the baseline less), and weighted for recency
(``half_life_days``). With ``segments="month3"`` (CalTRACK's three-month weighted segments) one
model per calendar month is fitted on that month (weight 1) and its two neighbours (0.5) of the
trailing window, so a building whose schedule follows terms or seasons gets each month's
schedule. Only the last ``window_days`` of the data are used.

A prediction is never below the least kWh of the fit window (``floor_at_minimum``): the linear
terms extrapolated to a warm or frost-protected day can fall far below zero, a meter cannot.

Missing hours (NaN kWh, runs of ≥ ``zero_run_hours`` exact zeros, NaN temperature after
interpolating gaps of up to ``max_temperature_gap_hours``) are left out of the fit, and their
prediction is NaN when the temperature is unknown.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from analytics.energy.goodness import Goodness, goodness
from analytics.energy.hourly_file import mask_zero_runs
from analytics.energy.level_shift import LevelShift, find_level_shift
from analytics.energy.week_hours import HOURS_PER_WEEK, SUNDAY, WeekHours, week_hours

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

# The hours of the week, then 24 hours of each kind of day off: a holiday, and in a long
# closure its first days, its middle, its last day, and the day it reopens.
HOLIDAY, CLOSURE_FIRST, CLOSURE_MIDDLE, CLOSURE_LAST, REOPENING = range(5)
SLOTS = HOURS_PER_WEEK + 24 * 5
_HOD = np.arange(SLOTS) % 24
# Where an unseen slot borrows its level: a closure's days from a holiday, a holiday from a
# Sunday, a reopening day from a Monday.
_PARENT = np.concatenate(
    [
        np.arange(HOURS_PER_WEEK),
        SUNDAY * 24 + _HOD[:24],
        np.tile(HOURS_PER_WEEK + _HOD[:24], 3),
        _HOD[:24],
    ]
)
CALTRACK_KNOTS_C = tuple(round((f - 32) / 1.8, 2) for f in (30, 45, 55, 65, 75, 90))
HEATING_BALANCE_C, COOLING_BALANCE_C = 10.0, 18.33  # 50 °F and 65 °F


@dataclass(frozen=True)
class BaselineParams:
    """How a baseline is fitted; the defaults are the ones measured in decision 013."""

    knots_c: tuple[float, ...] = CALTRACK_KNOTS_C  # temperature bin edges, °C
    min_bin_hours: int = 20  # CalTRACK: a bin with fewer hours is merged
    occupied_share: float = 0.65  # CalTRACK: share of positive residuals making an hour occupied
    window_days: int = 365  # trailing fit window
    half_life_days: float | None = 90.0  # recency weight 2^(-age / half-life); None = uniform
    segments: Literal["none", "month3"] = "month3"
    holiday_profile: Literal["sunday", "own"] = "own"  # a holiday's hours: a Sunday's, or own
    # with "own": runs of holidays this long or longer (a school's holidays) have their own
    # first days (``closure_first_days`` of them), middle, last day and day of reopening;
    # None: every holiday alike
    closure_days: int | None = 3
    closure_first_days: int = 2
    # the outdoor temperature's exponential means (these half-lives) minus the temperature,
    # one more linear term each per mode: a heavy building answers to the last hours' weather,
    # not to this hour's alone; (): the hour's temperature only
    lag_half_lives_h: tuple[float, ...] = (12.0,)
    # the structure's thermal state through and after a long closure: per half-life, the
    # exponential mean S of the hours the closure left unheated (its days after the first
    # ones), and S times the temperature, two more linear terms per mode; (): none. Only with
    # closures (``closure_days``, ``holiday_profile="own"``)
    state_half_lives_h: tuple[float, ...] = (24.0,)
    # predictions are held at or above the least kWh the fit window measured: a meter does
    # not use less than it ever has (a boiler off uses its pilot, not negative gas), where the
    # extrapolated temperature and state terms of a warm or frost-protected hour can fall far
    # below it; False: the regression as it is
    floor_at_minimum: bool = True
    max_level_shifts: int = 2  # changes of use looked for in the window (0: none)
    shift_min_days: int = 28  # days before a change of use
    shift_min_days_after: int = 28  # days after it
    shift_min_share: float = 0.05  # smallest change of use, share of the mean kWh
    shift_min_t: float = 5.0  # in standard errors of daily mean residuals
    huber_k: float | None = None  # Huber threshold in robust sigmas (MAD); None = least squares
    irls_passes: int = 4
    zero_run_hours: int = 2  # runs of this many exact zeros or more are missing readings
    max_temperature_gap_hours: int = 6  # longer gaps stay missing
    min_fit_hours: int = 24 * 14  # fewer known hours: no baseline
    min_segment_hours: int = 24 * 20  # a month segment with fewer falls back to the whole window


class BaselineError(ValueError):
    """Too little data to fit a baseline."""


@dataclass(frozen=True)
class _Model:
    """One fitted regression: intercept per hour of week, temperature slopes per mode."""

    knots_c: FloatArray
    mode: IntArray  # per slot (hour of week, then holiday hour): which temperature terms
    alpha: FloatArray  # per slot
    seen: BoolArray  # slots the fit had hours of
    beta: FloatArray  # (modes, len(knots) + 1): CalTRACK's unoccupied row 0, occupied row 1
    steps_s: IntArray  # UTC seconds from which each level step holds
    gamma: FloatArray  # kWh per hour of each step

    def predict(self, how: IntArray, t: FloatArray, utc_s: IntArray) -> FloatArray:
        f = design(t, self.knots_c)
        mode = self.mode[how]
        out = self.alpha[how] + np.einsum("ij,ij->i", f, self.beta[mode])
        return np.asarray(out + steps(utc_s, self.steps_s) @ self.gamma)

    @property
    def n_params(self) -> int:
        return int(self.seen.sum()) + int(np.count_nonzero(self.beta)) + self.gamma.size


def slots(cal: WeekHours, params: BaselineParams) -> IntArray:
    """Each hour's slot: its hour of week (holidays as Sundays), or with ``holiday_profile=
    "own"`` the hour of day of a holiday (slots 168-191), and with ``closure_days`` of the
    first, middle or last day of a long closure or of the day it reopens (slots 192-287).

    A long closure is not a string of Sundays: its first days are a weekend's (the building
    still warm), its middle is colder, its last day brings the heating back up before
    the building reopens, and the reopening day still makes up for the cold structure."""
    if params.holiday_profile == "sunday":
        return cal.hour_of_week
    hod = cal.hour_of_week % 24
    kind = np.where(cal.holiday, HOLIDAY, -1)
    if params.closure_days is not None:
        long_ = cal.holiday & (cal.run_day + cal.run_left + 1 >= params.closure_days)
        kind = np.where(long_, CLOSURE_MIDDLE, kind)
        kind = np.where(long_ & (cal.run_day < params.closure_first_days), CLOSURE_FIRST, kind)
        kind = np.where(long_ & (cal.run_left == 0), CLOSURE_LAST, kind)
        kind = np.where(cal.after_run >= params.closure_days, REOPENING, kind)
    return np.where(kind >= 0, HOURS_PER_WEEK + 24 * kind + hod, cal.hour_of_week)


def steps(utc_s: IntArray, steps_s: IntArray) -> FloatArray:
    """One 0/1 column per level step: 1 from the step on."""
    return (utc_s[:, None] >= steps_s[None, :]).astype(np.float64)


def basis(t: FloatArray, knots_c: FloatArray) -> FloatArray:
    """Continuous piecewise-linear temperature basis: one column per bin (len(knots) + 1)."""
    if knots_c.size == 0:
        return t[:, None].copy()
    lo = np.concatenate([[-np.inf], knots_c])
    hi = np.concatenate([knots_c, [np.inf]])
    f = np.clip(t[:, None], lo, hi) - np.concatenate([[0.0], knots_c])
    f[:, 0] = np.minimum(t, knots_c[0])
    return np.asarray(f)


def design(tf: FloatArray, knots_c: FloatArray) -> FloatArray:
    """The temperature terms of features ``tf`` (see :func:`features`): the piecewise-linear
    basis of the temperature, then the other features as they are."""
    return np.concatenate([basis(tf[:, 0], knots_c), tf[:, 1:]], axis=1)


def features(t: FloatArray, lag_half_lives_h: tuple[float, ...]) -> FloatArray:
    """Temperature features of each hour: the temperature, then for each of
    ``lag_half_lives_h`` its exponential mean up to the hour (held through unknown hours) minus
    itself. A mean starts at the first known hour: the first hours of a series remember less."""
    out = [t]
    values = t.tolist()
    for half_life in lag_half_lives_h:
        a = 1.0 - 0.5 ** (1.0 / half_life)
        mean = np.full(t.size, np.nan)
        m = math.nan
        for i, x in enumerate(values):
            if x == x:  # known
                m = x if m != m else m + a * (x - m)
                mean[i] = m
        out.append(mean - t)
    return np.stack(out, axis=1)


def _unheated(cal: WeekHours, closure_days: int, first_days: int) -> BoolArray:
    """Hours a closure of ``closure_days`` or more leaves the building unheated: its days after
    the first ``first_days`` (frost protection), the last included."""
    long_ = cal.holiday & (cal.run_day + cal.run_left + 1 >= closure_days)
    return np.asarray(long_ & (cal.run_day >= first_days))


def state_features(
    t: FloatArray, cold: BoolArray, cold_before_h: float, half_lives_h: tuple[float, ...]
) -> FloatArray:
    """For each half-life, the exponential mean of the unheated indicator ``cold`` (``cold_
    before_h`` unheated hours before the first), and that times the temperature: how much the
    structure has cooled lately, and how that costs more in the cold. 0 while the building is
    heated as usual."""
    out = []
    c = cold.astype(np.float64)
    for half_life in half_lives_h:
        a = 1.0 - 0.5 ** (1.0 / half_life)
        s = _ewm(c, a, 1.0 - 0.5 ** (cold_before_h / half_life))
        out += [s, s * t]
    return np.stack(out, axis=1) if out else np.zeros((t.size, 0))


def _ewm(x: FloatArray, a: float, start: float) -> FloatArray:
    """Exponential mean of ``x`` (no NaN) from ``start`` (the mean before the first)."""
    out = np.empty(x.size)
    m = start
    for i, v in enumerate(x.tolist()):
        m += a * (v - m)
        out[i] = m
    return out


def merged_knots(t: FloatArray, knots_c: tuple[float, ...], min_hours: int) -> FloatArray:
    """Drop knots until every temperature bin holds ``min_hours`` hours (smallest bin first)."""
    k = list(knots_c)
    while k:
        counts = np.bincount(np.searchsorted(np.asarray(k), t), minlength=len(k) + 1)
        i = int(np.argmin(counts))
        if counts[i] >= min_hours:
            break
        # Merge the bin into its smaller neighbour by dropping the knot between them.
        if i == 0:
            k.pop(0)
        elif i == len(k):
            k.pop()
        else:
            k.pop(i - 1 if counts[i - 1] <= counts[i + 1] else i)
    return np.asarray(k, dtype=np.float64)


def fill_temperature(t: FloatArray, max_gap_hours: int) -> FloatArray:
    """Linear interpolation across gaps of at most ``max_gap_hours``, the nearest value held
    over as short a gap at either end; longer gaps stay NaN."""
    out = np.array(t, dtype=np.float64, copy=True)
    known = np.isfinite(out)
    if known.all() or not known.any():
        return out
    idx = np.arange(out.size)
    filled = np.interp(idx, idx[known], out[known])
    prev = np.maximum.accumulate(np.where(known, idx, -1))
    nxt = np.minimum.accumulate(np.where(known, idx, out.size)[::-1])[::-1]
    inner = (prev >= 0) & (nxt < out.size) & (nxt - prev - 1 <= max_gap_hours)
    # np.interp holds the first and last known values beyond them.
    edge = ((prev < 0) & (nxt <= max_gap_hours)) | (
        (nxt >= out.size) & (prev >= out.size - 1 - max_gap_hours)
    )
    short = ~known & (inner | edge)
    out[short] = filled[short]
    return out


def _wls(
    how: IntArray, f: FloatArray, mode: IntArray, z: FloatArray, y: FloatArray, w: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Weighted least squares of y on hour-of-week dummies, mode-split temperature terms and
    the level-step columns ``z``."""
    k = f.shape[1]
    n_modes = int(mode.max()) + 1
    md = mode[how]
    # Columns: the temperature terms of each mode's hours, the level steps, then y.
    x = np.concatenate([f * (md == j)[:, None] for j in range(n_modes)] + [z, y[:, None]], axis=1)
    m = x.shape[1]
    sw = np.bincount(how, weights=w, minlength=SLOTS)
    safe = np.where(sw > 0, sw, 1.0)
    # Every column's weighted sum per slot in one bincount over (slot, column) cells.
    cells = (how[:, None] * m + np.arange(m)).ravel()
    sums = np.bincount(cells, weights=(x * w[:, None]).ravel(), minlength=SLOTS * m)
    means = sums.reshape(SLOTS, m) / safe[:, None]
    xd = x - means[how]
    gram = (xd * w[:, None]).T @ xd
    a, b = gram[:-1, :-1], gram[:-1, -1]
    mx, my = means[:, :-1], means[:, -1]
    # A tiny ridge keeps empty columns (a mode or bin without hours) at exactly zero slope.
    a[np.diag_indices_from(a)] += 1e-9 * (np.trace(a) / a.shape[0] + 1.0)
    beta = np.linalg.solve(a, b)
    alpha = my - mx @ beta
    seen = sw > 0
    for h in np.flatnonzero(~seen):
        # A day off's hour never seen borrows from its parent (see _PARENT); another slot, or
        # one without a seen parent, from the same hour of other days.
        parent = _seen_parent(int(h), seen)
        if parent is not None:
            alpha[h] = alpha[parent]
        else:
            same = seen & (_HOD[h] == _HOD)
            alpha[h] = alpha[same].mean() if same.any() else alpha[seen].mean()
    coef = np.asarray(beta, dtype=np.float64)
    return alpha, coef[: n_modes * k].reshape(n_modes, k), coef[n_modes * k :], seen


def _seen_parent(slot: int, seen: BoolArray) -> int | None:
    """The nearest seen slot up the chain of parents of an unseen day-off ``slot``."""
    while slot >= HOURS_PER_WEEK:
        slot = int(_PARENT[slot])
        if seen[slot]:
            return slot
    return None


def _occupancy(
    how: IntArray, t: FloatArray, y: FloatArray, w: FloatArray, share: float
) -> BoolArray:
    """CalTRACK: occupied hours of week are above a degree-hour fit ≥ ``share`` of the time."""
    t = t[:, 0]
    x = np.stack(
        [
            np.ones_like(t),
            np.maximum(HEATING_BALANCE_C - t, 0),
            np.maximum(t - COOLING_BALANCE_C, 0),
        ],
        axis=1,
    )
    sq = np.sqrt(w)
    coef = np.linalg.lstsq(x * sq[:, None], y * sq, rcond=None)[0]
    above = (y - x @ coef > 0).astype(np.float64)
    sw = np.bincount(how, weights=w, minlength=SLOTS)
    frac = np.bincount(how, weights=w * above, minlength=SLOTS) / np.where(sw > 0, sw, 1)
    occupied = frac >= share
    seen = sw > 0
    for h in np.flatnonzero(~seen[HOURS_PER_WEEK:]) + HOURS_PER_WEEK:
        parent = _seen_parent(int(h), seen)
        occupied[h] = occupied[parent if parent is not None else SUNDAY * 24 + _HOD[h]]
    return np.asarray(occupied)


def _fit_model(
    how: IntArray,
    t: FloatArray,
    utc_s: IntArray,
    y: FloatArray,
    w: FloatArray,
    p: BaselineParams,
    steps_s: IntArray,
    whole: _Model | None = None,
) -> _Model:
    use = w > 0
    how, t, utc_s, y, w = how[use], t[use], utc_s[use], y[use], w[use]
    knots = merged_knots(t[:, 0], p.knots_c, p.min_bin_hours)
    f = design(t, knots)
    z = steps(utc_s, steps_s)
    mode = _occupancy(how, t, y, w, p.occupied_share).astype(np.int64)
    alpha, beta, gamma, seen = _wls(how, f, mode, z, y, w)
    if p.huber_k is not None:
        for _ in range(p.irls_passes):
            model = _Model(knots, mode, alpha, seen, beta, steps_s, gamma)
            r = y - model.predict(how, t, utc_s)
            scale = 1.4826 * float(np.median(np.abs(r - np.median(r))))
            if not scale > 0:
                break
            robust = w * np.minimum(1.0, p.huber_k * scale / np.maximum(np.abs(r), 1e-12))
            alpha, beta, gamma, seen = _wls(how, f, mode, z, y, robust)
    if whole is not None:
        # A segment that saw one side of a step only cannot tell the step from its hour-of-week
        # levels: it takes the step from the whole window, its levels staying those it saw.
        for j in np.flatnonzero(z.min(axis=0) == z.max(axis=0)):
            alpha = alpha - whole.gamma[j] * z[0, j]
            gamma[j] = whole.gamma[j]
    return _Model(knots, mode, alpha, seen, beta, steps_s, gamma)


def closure_state(t: FloatArray, cal: WeekHours, params: BaselineParams) -> FloatArray:
    """The closure's thermal state terms of each hour (see :func:`state_features`); no column
    without closures (``closure_days`` None or ``holiday_profile="sunday"``)."""
    if params.closure_days is None or params.holiday_profile == "sunday":
        return np.zeros((t.size, 0))
    cold = _unheated(cal, params.closure_days, params.closure_first_days)
    if not cold.any():  # no closure: the state stays 0 (and costs no pass over the hours)
        return np.zeros((t.size, 2 * len(params.state_half_lives_h)))
    before = 0.0
    if cold.size and cold[0]:
        # A series that starts in a closure starts from the hours it has already been cold
        # (exact up to the calendar's look-around, ``RUN_LOOKAROUND`` days): predicting from
        # 1 January does not forget that the school closed before Christmas.
        before = 24.0 * (cal.run_day[0] - params.closure_first_days) + cal.hour_of_week[0] % 24
    return state_features(t, cold, before, params.state_half_lives_h)


def _all_features(t: FloatArray, cal: WeekHours, params: BaselineParams) -> FloatArray:
    """The temperature features (see :func:`features`), then the closure's thermal state."""
    f = features(t, params.lag_half_lives_h)
    return np.concatenate([f, closure_state(t, cal, params)], axis=1)


@dataclass(frozen=True)
class Baseline:
    """A fitted baseline of one meter: predicts kWh per hour from the time and the temperature.

    ``level_shifts`` are the changes of use found in the fit window; predictions after the
    last one hold its level. A baseline whose ``fit_goodness`` does not pass Guideline 14
    cannot be trusted to judge the meter."""

    zone: ZoneInfo
    params: BaselineParams
    fit_goodness: Goodness  # in-sample, Guideline 14 with the model's parameter count
    level_shifts: tuple[LevelShift, ...] = ()
    holidays: Callable[[date], bool] | None = field(default=None, repr=False)
    whole: _Model | None = field(default=None, repr=False)
    months: dict[int, _Model] = field(default_factory=dict, repr=False)
    floor: float = -math.inf  # the least kWh a prediction is (``floor_at_minimum``)

    @classmethod
    def fit(
        cls,
        hours: NDArray[np.datetime64],
        kwh: FloatArray,
        temperature_c: FloatArray,
        *,
        zone: ZoneInfo,
        params: BaselineParams = BaselineParams(),
        holidays: Callable[[date], bool] | None = None,
    ) -> Baseline:
        """Fit on the last ``params.window_days`` of UTC hour starts ``hours`` (ascending)."""
        hours = np.asarray(hours, dtype="datetime64[s]")
        y = mask_zero_runs(np.asarray(kwh, dtype=np.float64), params.zero_run_hours)
        t = fill_temperature(
            np.asarray(temperature_c, dtype=np.float64), params.max_temperature_gap_hours
        )
        if not (hours.shape == y.shape == t.shape) or hours.ndim != 1:
            raise ValueError("hours, kwh and temperature_c must be 1-D arrays of one length")
        if hours.size > 1 and not bool(np.all(np.diff(hours.astype(np.int64)) > 0)):
            raise ValueError("hours must be ascending, each hour once")
        cal = week_hours(hours, zone, holidays)
        t = _all_features(t, cal, params)
        known = np.isfinite(y) & np.isfinite(t).all(axis=1)
        if not known.any():
            raise BaselineError("no hour with both energy and temperature")
        utc_s = hours.astype(np.int64)
        age_d = (int(utc_s[known][-1]) - utc_s).astype(np.float64) / 86_400
        known &= age_d < params.window_days
        if int(known.sum()) < params.min_fit_hours:
            raise BaselineError(
                f"{int(known.sum())} usable hours, a baseline needs {params.min_fit_hours}"
            )
        how = slots(cal, params)
        w = np.where(known, 1.0, 0.0)
        if params.half_life_days is not None:
            w = w * np.exp2(-age_d / params.half_life_days)
        y0 = np.where(known, y, 0.0)
        t0 = np.where(known[:, None], t, 0.0)
        shifts: list[LevelShift] = []
        steps_s = np.zeros(0, dtype=np.int64)
        whole = _fit_model(how, t0, utc_s, y0, w, params, steps_s)
        mean = float(y[known].mean())
        for _ in range(params.max_level_shifts):
            r = y0[known] - whole.predict(how[known], t0[known], utc_s[known])
            found = find_level_shift(
                utc_s[known],
                r,
                mean,
                min_days=params.shift_min_days,
                min_days_after=params.shift_min_days_after,
                min_share=params.shift_min_share,
                min_t=params.shift_min_t,
            )
            if found is None or found.at_s in steps_s:
                break
            shifts.append(found)
            steps_s = np.sort(np.append(steps_s, found.at_s))
            whole = _fit_model(how, t0, utc_s, y0, w, params, steps_s)
        months: dict[int, _Model] = {}
        if params.segments == "month3":
            for m in range(1, 13):
                gap = np.abs((cal.month - m + 6) % 12 - 6)  # distance in months, circular
                wm = w * np.where(gap == 0, 1.0, np.where(gap == 1, 0.5, 0.0))
                if np.count_nonzero(wm[cal.month == m]) >= params.min_segment_hours:
                    months[m] = _fit_model(how, t0, utc_s, y0, wm, params, steps_s, whole)
        shifts.sort(key=lambda s: s.at_s)
        floor = float(y[known].min()) if params.floor_at_minimum else -math.inf
        none = Goodness(np.nan, np.nan, 0, False)
        base = cls(zone, params, none, (), holidays, whole, months, floor)
        pred = base._predict(how[known], cal.month[known], t[known], utc_s[known])
        n_params = max([whole.n_params] + [m.n_params for m in months.values()])
        fit = goodness(y[known], pred, n_params)
        return cls(zone, params, fit, tuple(shifts), holidays, whole, months, floor)

    def predict(self, hours: NDArray[np.datetime64], temperature_c: FloatArray) -> FloatArray:
        """kWh of each UTC hour start given its outdoor temperature (NaN where that is unknown)."""
        hours = np.asarray(hours, dtype="datetime64[s]")
        t = fill_temperature(
            np.asarray(temperature_c, dtype=np.float64), self.params.max_temperature_gap_hours
        )
        if hours.shape != t.shape:
            raise ValueError("hours and temperature_c must have one length")
        cal = week_hours(hours, self.zone, self.holidays)
        t = _all_features(t, cal, self.params)
        return self._predict(slots(cal, self.params), cal.month, t, hours.astype(np.int64))

    def _predict(
        self, how: IntArray, month: IntArray, t: FloatArray, utc_s: IntArray
    ) -> FloatArray:
        assert self.whole is not None
        out = np.full(how.size, np.nan)
        known = np.isfinite(t).all(axis=1)
        by_month = np.where(np.isin(month, list(self.months)), month, 0)
        for m in np.unique(by_month[known]).tolist():
            rows = known & (by_month == m)
            model = self.months.get(m, self.whole)
            out[rows] = model.predict(how[rows], t[rows], utc_s[rows])
        return np.asarray(np.maximum(out, self.floor))  # NaN stays NaN
