"""The TOWT baseline on synthetic meters whose truth is known."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.energy.baseline import (
    CALTRACK_KNOTS_C,
    Baseline,
    BaselineError,
    BaselineParams,
    basis,
    closure_state,
    features,
    fill_temperature,
    merged_knots,
)
from analytics.energy.goodness import goodness
from analytics.energy.week_hours import week_hours

PARIS = ZoneInfo("Europe/Paris")
# One model for the whole window, uniform weights, no change of use: the plain TOWT regression.
WHOLE = BaselineParams(segments="none", half_life_days=None, max_level_shifts=0)


def _hours(first: str, days: int) -> np.ndarray:
    start = np.datetime64(first, "h")
    return (start + np.arange(days * 24)).astype("datetime64[s]")


def _temperature(hours: np.ndarray, seed: int) -> np.ndarray:
    day = (hours - hours[0]).astype(np.int64) / 86_400
    rng = np.random.default_rng(seed)
    season = 11 - 8 * np.cos(2 * np.pi * (day - 15) / 365)
    daily = 4 * np.sin(2 * np.pi * ((day % 1) - 0.375))
    return season + daily + np.cumsum(rng.normal(0, 0.3, hours.size)) * 0.2


def _office(
    hours: np.ndarray, t: np.ndarray, holidays: set[date] | None = None, noise: float = 0.0
) -> np.ndarray:
    """Open 08:00-18:00 local on weekdays; heating below 55 °F, stronger when open."""
    cal = week_hours(hours, PARIS, (lambda d: d in holidays) if holidays else None)
    hod, dow = cal.hour_of_week % 24, cal.hour_of_week // 24
    open_ = (dow < 5) & (hod >= 8) & (hod < 18)
    heat = np.maximum(CALTRACK_KNOTS_C[2] - t, 0) * np.where(open_, 3.0, 1.0)
    rng = np.random.default_rng(1)
    return 20 + 60 * open_ + heat + rng.normal(0, noise, hours.size)


def test_a_noise_free_meter_is_reproduced_on_the_next_year() -> None:
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)
    b = Baseline.fit(train, _office(train, tt), tt, zone=PARIS, params=WHOLE)
    assert b.fit_goodness.passes_g14 and b.fit_goodness.cv_rmse < 0.01
    pred = b.predict(test, te)
    np.testing.assert_allclose(pred, _office(test, te), rtol=0, atol=0.5)


@pytest.mark.parametrize("params", [WHOLE, BaselineParams()], ids=["whole", "month3"])
def test_the_schedule_follows_local_time_through_dst(params: BaselineParams) -> None:
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)
    b = Baseline.fit(train, _office(train, tt), tt, zone=PARIS, params=params)
    pred = b.predict(test, te)
    # 07:00 UTC is 08:00 (open) in winter and 09:00 (open) in summer; 06:00 UTC opens only in
    # summer: a baseline in UTC would miss one of the two.
    truth = _office(test, te)
    for month, hour in ((1, 6), (1, 7), (7, 6), (7, 7)):
        rows = (test.astype("datetime64[M]").astype(int) % 12 == month - 1) & (
            test.astype("datetime64[h]").astype(int) % 24 == hour
        )
        np.testing.assert_allclose(pred[rows], truth[rows], atol=1.0)


def test_a_public_holiday_is_predicted_like_a_sunday() -> None:
    holidays = {date(2023, 5, 1), date(2023, 5, 8), date(2023, 11, 1), date(2024, 5, 1)}
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)
    b = Baseline.fit(
        train,
        _office(train, tt, holidays),
        tt,
        zone=PARIS,
        params=WHOLE,
        holidays=lambda d: d in holidays,
    )
    pred = b.predict(test, te)
    may_day = (test >= np.datetime64("2024-04-30T22:00")) & (
        test < np.datetime64("2024-05-01T22:00")
    )
    truth = _office(test, te, holidays)
    np.testing.assert_allclose(pred[may_day], truth[may_day], atol=0.5)
    assert truth[may_day].max() < 60  # closed all day (a Wednesday)
    blind = Baseline.fit(train, _office(train, tt, holidays), tt, zone=PARIS, params=WHOLE)
    assert blind.predict(test, te)[may_day].max() > 70  # without the calendar: a workday


def test_missing_hours_and_zero_runs_do_not_bend_the_baseline() -> None:
    train = _hours("2023-01-01T00", 365)
    t = _temperature(train, 1)
    kwh = _office(train, t)
    kwh[1000:1300] = 0.0  # a meter gap exported as zeros
    kwh[5000:5100] = np.nan
    t_gappy = t.copy()
    t_gappy[3000:3004] = np.nan  # short gap: interpolated
    b = Baseline.fit(train, kwh, t_gappy, zone=PARIS, params=WHOLE)
    assert b.fit_goodness.n == train.size - 300 - 100
    assert b.fit_goodness.cv_rmse < 0.01
    np.testing.assert_allclose(
        b.predict(train[1000:1300], t[1000:1300]), _office(train, t)[1000:1300], atol=0.5
    )


def test_a_long_temperature_gap_predicts_nothing() -> None:
    train = _hours("2023-01-01T00", 60)
    t = _temperature(train, 1)
    b = Baseline.fit(train, _office(train, t), t, zone=PARIS, params=WHOLE)
    gap = t.copy()
    gap[100:120] = np.nan
    pred = b.predict(train, gap)
    assert np.isnan(pred[100:120]).all() and np.isfinite(pred[:100]).all()


def test_a_prediction_is_never_below_the_least_the_meter_used() -> None:
    # Use falling steeply with the temperature over a cool spell: a warm week extrapolates the
    # slope far below zero, where a boiler off still uses what it always has at the least.
    train = _hours("2023-01-01T00", 60)
    t = 4.5 + 4.5 * np.sin(np.arange(train.size) * 2 * np.pi / 97)
    kwh = 100 - 10 * t
    warm_week = _hours("2023-03-02T00", 7)
    warm = np.full(warm_week.size, 20.0)
    warm[10:20] = np.nan  # too long a gap to fill: no prediction
    raw = Baseline.fit(
        train, kwh, t, zone=PARIS, params=replace(WHOLE, floor_at_minimum=False)
    ).predict(warm_week, warm)
    assert np.nanmax(raw) < 0
    pred = Baseline.fit(train, kwh, t, zone=PARIS, params=WHOLE).predict(warm_week, warm)
    assert np.isnan(pred[10:20]).all()
    np.testing.assert_allclose(np.delete(pred, range(10, 20)), kwh.min())


def test_occupied_and_unoccupied_hours_get_their_own_temperature_slope() -> None:
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt = _temperature(train, 1)
    b = Baseline.fit(train, _office(train, tt), tt, zone=PARIS, params=WHOLE)
    assert b.whole is not None
    assert (b.whole.mode[:168] == 1).sum() == 5 * 10  # weekdays 08-18 local
    # A single slope for all hours could not reproduce both 3 and 1 kWh/K.
    cold = np.full(test.size, -5.0)
    mild = np.full(test.size, 5.0)
    diff = b.predict(test, mild) - b.predict(test, cold)
    cal = week_hours(test, PARIS)
    occupied = b.whole.mode[cal.hour_of_week] == 1
    np.testing.assert_allclose(diff[occupied], -30.0, atol=0.1)
    np.testing.assert_allclose(diff[~occupied], -10.0, atol=0.1)


@pytest.mark.parametrize(
    "params",
    [
        BaselineParams(segments="none", half_life_days=15.0, max_level_shifts=0),
        BaselineParams(segments="none", half_life_days=None, max_level_shifts=1),
        BaselineParams(),
    ],
    ids=["recency-weights", "level-step", "defaults"],
)
def test_a_change_of_use_within_the_window_is_followed(params: BaselineParams) -> None:
    train = _hours("2023-01-01T00", 365)
    t = _temperature(train, 1)
    kwh = _office(train, t)
    kwh[train >= np.datetime64("2023-10-02")] -= 25.0  # a department moved out in October
    last = train >= np.datetime64("2023-12-01")
    plain = Baseline.fit(train, kwh, t, zone=PARIS, params=WHOLE)
    fitted = Baseline.fit(train, kwh, t, zone=PARIS, params=params)
    bias = [
        float(np.mean(b.predict(train[last], t[last]) / kwh[last] - 1)) for b in (plain, fitted)
    ]
    assert abs(bias[1]) < 0.03 < 0.1 < bias[0]


def test_a_change_of_use_is_reported_with_its_day_and_size() -> None:
    train = _hours("2023-01-01T00", 365)
    t = _temperature(train, 1)
    kwh = _office(train, t, noise=3.0)
    kwh[train >= np.datetime64("2023-06-05")] += 12.0
    b = Baseline.fit(train, kwh, t, zone=PARIS, params=BaselineParams(segments="none"))
    assert len(b.level_shifts) == 1
    shift = b.level_shifts[0]
    assert np.datetime64(shift.at_s, "s").astype("datetime64[D]") == np.datetime64("2023-06-05")
    assert shift.kwh == pytest.approx(12.0, abs=1.5)
    steady = Baseline.fit(train, _office(train, t, noise=3.0), t, zone=PARIS)
    assert steady.level_shifts == ()


def test_only_the_trailing_window_is_used() -> None:
    hours = _hours("2022-01-01T00", 730)
    t = _temperature(hours, 1)
    kwh = _office(hours, t)
    kwh[:8760] += 500.0  # a different building a year ago
    params = BaselineParams(segments="none", half_life_days=None, window_days=365)
    b = Baseline.fit(hours, kwh, t, zone=PARIS, params=params)
    assert b.fit_goodness.cv_rmse < 0.01


def test_hours_must_be_ascending() -> None:
    hours = _hours("2023-01-01T00", 30)
    t = _temperature(hours, 1)
    with pytest.raises(ValueError, match="ascending"):
        Baseline.fit(hours[::-1], _office(hours, t), t, zone=PARIS)


def test_too_few_hours_raise() -> None:
    hours = _hours("2023-01-01T00", 5)
    t = _temperature(hours, 1)
    with pytest.raises(BaselineError, match="usable hours"):
        Baseline.fit(hours, _office(hours, t), t, zone=PARIS)


def test_holidays_get_their_own_profile_or_a_sundays() -> None:
    # A school closed through its holidays (frost protection) uses less than on a Sunday.
    holidays = {date(2023, 2, 20) + np.timedelta64(k, "D").item() for k in range(14)}
    holidays |= {date(2024, 2, 19) + np.timedelta64(k, "D").item() for k in range(14)}
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)

    def school(hours: np.ndarray, t: np.ndarray) -> np.ndarray:
        kwh = _office(hours, t, holidays)
        cal = week_hours(hours, PARIS, lambda d: d in holidays)
        return np.where(cal.holiday, 5.0, kwh)

    on_holiday = week_hours(test, PARIS, lambda d: d in holidays).holiday
    errors = {}
    for profile in ("own", "sunday"):
        params = BaselineParams(segments="none", holiday_profile=profile)
        b = Baseline.fit(
            train,
            school(train, tt),
            tt,
            zone=PARIS,
            params=params,
            holidays=lambda d: d in holidays,
        )
        pred = b.predict(test, te)
        errors[profile] = float(np.abs(pred - school(test, te))[on_holiday].mean())
    # The holiday hours share the unoccupied hours' temperature slope: near, not exact.
    assert errors["own"] < 2 < 10 < errors["sunday"]


def test_short_temperature_gaps_are_filled_and_long_ones_left() -> None:
    nan = np.nan
    t = np.array([nan, 2.0, nan, nan, 8.0, nan, nan, nan, nan, 1.0, nan, nan])
    out = fill_temperature(t, 3)
    np.testing.assert_allclose(
        out, [2.0, 2.0, 4.0, 6.0, 8.0, nan, nan, nan, nan, 1.0, 1.0, 1.0], equal_nan=True
    )
    # With one hour allowed: only the leading one-hour gap is filled; a gap is filled whole or
    # not at all.
    np.testing.assert_allclose(
        fill_temperature(t, 1),
        [2.0, 2.0, nan, nan, 8.0, nan, nan, nan, nan, 1.0, nan, nan],
        equal_nan=True,
    )


def test_sparse_temperature_bins_are_merged() -> None:
    t = np.concatenate([np.full(100, 10.0), np.full(5, 30.0), np.full(100, 20.0)])
    knots = merged_knots(t, (0.0, 15.0, 25.0), 20)
    assert knots.tolist() == [15.0]  # below 0: empty; above 25: 5 hours
    f = basis(np.array([-10.0, 15.0, 40.0]), np.array([0.0, 15.0]))
    np.testing.assert_allclose(f, [[-10, 0, 0], [0, 15, 0], [0, 15, 25]])


def test_a_long_closure_has_its_own_first_middle_and_last_days() -> None:
    # A school off for a fortnight each winter: warm for its first two days (a weekend), at
    # frost protection in the middle, heated back up from 18:00 on its last day and still
    # catching up on the morning it reopens. One holiday profile averages all of it.
    def fortnight(first: date) -> set[date]:
        return {first + np.timedelta64(k, "D").item() for k in range(16)}

    off = fortnight(date(2023, 2, 18)) | fortnight(date(2023, 10, 21))
    off |= fortnight(date(2024, 2, 17)) | fortnight(date(2024, 10, 19))
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)

    def school(hours: np.ndarray, t: np.ndarray) -> np.ndarray:
        cal = week_hours(hours, PARIS, lambda d: d in off)
        hod = cal.hour_of_week % 24
        kwh = np.where(cal.run_day >= 2, 5.0, _office(hours, t, off))
        kwh = np.where((cal.run_left == 0) & (hod >= 18), 150.0, kwh)
        return np.where((cal.after_run > 0) & (hod < 8), 120.0, kwh)

    closing = week_hours(test, PARIS, lambda d: d in off)
    hod = closing.hour_of_week % 24
    # the last evening and the reopening morning
    around = ((closing.run_left == 0) & (hod >= 18)) | ((closing.after_run > 0) & (hod < 8))
    errors = {}
    for name, days in (("closures", 3), ("holidays", None)):
        params = BaselineParams(segments="none", closure_days=days, lag_half_lives_h=())
        b = Baseline.fit(
            train, school(train, tt), tt, zone=PARIS, params=params, holidays=lambda d: d in off
        )
        errors[name] = float(np.abs(b.predict(test, te) - school(test, te))[around].mean())
    # (the spikes share their modes' temperature slopes: near, not exact)
    assert errors["closures"] < 0.25 * errors["holidays"] and errors["holidays"] > 50


def test_a_heavy_building_follows_the_weather_of_the_last_hours() -> None:
    # Heating all year, driven by the outdoor temperature's 12-hour exponential mean.
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    # weather fronts every 3.7 days: no hour of the week can stand for them
    tt = _temperature(train, 1) + 6 * np.sin(2 * np.pi * np.arange(train.size) / 89)
    te = _temperature(test, 2) + 6 * np.sin(2 * np.pi * np.arange(test.size) / 89)

    def heavy(t: np.ndarray) -> np.ndarray:
        slow = t + features(t, (12.0,))[:, 1]
        return 20 + 4 * (30 - slow)

    errors = {}
    for name, lags in (("lagged", (12.0,)), ("hourly", ())):
        params = BaselineParams(segments="none", half_life_days=None, lag_half_lives_h=lags)
        b = Baseline.fit(train, heavy(tt), tt, zone=PARIS, params=params)
        errors[name] = goodness(heavy(te), b.predict(test, te), 0).cv_rmse
    assert errors["lagged"] < 0.01 < 0.03 < errors["hourly"]


def test_lag_features_hold_through_unknown_hours() -> None:
    t = np.array([10.0, np.nan, 10.0, 20.0])
    f = features(t, (1.0,))  # half-life one hour: the mean moves halfway each hour
    np.testing.assert_allclose(f[:, 0], t)
    np.testing.assert_allclose(f[:, 1], [0.0, np.nan, 0.0, -5.0])


def _closure(first: date, days: int) -> set[date]:
    return {first + np.timedelta64(k, "D").item() for k in range(days)}


def test_a_closure_costs_more_the_longer_and_colder_it_has_been() -> None:
    # A building whose structure cools through each closure's frost protection (a 24-hour
    # half-life) and pays for it, more in the cold, at frost protection and for the days after
    # it reopens: after 4 days off far less than after a fortnight. Closure slots alone have
    # one middle and one reopening day for all of them.
    starts = [(date(2023, 2, 11), 16), (date(2023, 4, 8), 4), (date(2023, 5, 13), 9)]
    starts += [(date(2023, 10, 21), 16), (date(2023, 11, 25), 5), (date(2023, 12, 23), 6)]
    starts += [(date(2024, 2, 10), 5), (date(2024, 3, 30), 16), (date(2024, 5, 11), 9)]
    starts += [(date(2024, 10, 19), 9), (date(2024, 11, 23), 16)]
    off: set[date] = set().union(*(_closure(d, n) for d, n in starts))
    train, test = _hours("2023-01-01T00", 365), _hours("2024-01-01T00", 366)
    tt, te = _temperature(train, 1), _temperature(test, 2)

    def building(hours: np.ndarray, t: np.ndarray) -> np.ndarray:
        cal = week_hours(hours, PARIS, lambda d: d in off)
        a = 1 - 0.5 ** (1 / 24)
        cold = (cal.holiday & (cal.run_day >= 2)).astype(float)
        deficit = np.zeros(hours.size)
        for i in range(1, hours.size):
            deficit[i] = deficit[i - 1] + a * (cold[i] - deficit[i - 1])
        kwh = np.where(cal.run_day >= 2, 5.0, _office(hours, t, off))
        return kwh + deficit * 3 * (20 - t)

    cal = week_hours(test, PARIS, lambda d: d in off)
    # the closures and the 3 days after each
    around = np.convolve(cal.holiday.astype(float), np.ones(73), "full")[: test.size] > 0
    errors = {}
    for name, half_lives in (("state", (24.0,)), ("slots only", ())):
        params = BaselineParams(
            segments="none", half_life_days=None, max_level_shifts=0, state_half_lives_h=half_lives
        )
        b = Baseline.fit(
            train, building(train, tt), tt, zone=PARIS, params=params, holidays=lambda d: d in off
        )
        r = b.predict(test, te) - building(test, te)
        errors[name] = float(np.sqrt(np.mean(r[around] ** 2)))
    # (what is left: the first two days' hours, weekdays and weekends pooled in one slot)
    assert errors["state"] < 0.35 * errors["slots only"]


def test_a_series_that_starts_in_a_closure_remembers_its_cold_hours() -> None:
    off = _closure(date(2023, 12, 23), 16)

    def state(hours: np.ndarray, t: np.ndarray, params: BaselineParams) -> np.ndarray:
        return closure_state(t, week_hours(hours, PARIS, lambda d: d in off), params)

    hours = _hours("2023-12-01T00", 40)
    t = _temperature(hours, 1)
    whole = state(hours, t, BaselineParams())
    cut = hours >= np.datetime64("2024-01-01T00")
    np.testing.assert_allclose(state(hours[cut], t[cut], BaselineParams()), whole[cut], atol=1e-9)
    assert whole[cut][0, 0] > 0.9  # a week into frost protection at a 24-hour half-life
    # without closures (the deviation detector's settings) no column is added
    assert state(hours, t, BaselineParams(closure_days=None)).shape == (hours.size, 0)
