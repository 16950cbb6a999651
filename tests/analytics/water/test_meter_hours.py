"""Register readings to litres per step: every data fault handled by its documented rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.axis import HourlyAxis, hourly_axis
from analytics.water.meter_hours import (
    HOUSEHOLD_HOURLY_RULES,
    RegisterRules,
    daily_volumes,
    local_midnights,
    meter_hours,
    step_axis,
)

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2024, 5, 6, tzinfo=UTC)
T0 = int(START.timestamp())
H = 3600


def _one(
    t: list[int] | np.ndarray, v: list[float] | np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t_arr = np.asarray(t, dtype=np.int64)
    return np.zeros(t_arr.size, dtype=np.int64), t_arr, np.asarray(v, dtype=np.float64)


def _edges(axis: HourlyAxis) -> np.ndarray:
    s = axis.utc.astype("datetime64[s]").astype(np.int64)
    return np.concatenate([s, [s[-1] + (s[1] - s[0])]])


def _brute_uniform(t: np.ndarray, v: np.ndarray, edges: np.ndarray, max_s: int) -> np.ndarray:
    """Plain-loop reference: a step is known when fully covered by short rising intervals."""
    out = np.full(edges.size - 1, np.nan)
    for j in range(edges.size - 1):
        a, b = edges[j], edges[j + 1]
        vol, cover, bad = 0.0, 0, False
        for i in range(1, t.size):
            overlap = min(t[i], b) - max(t[i - 1], a)
            if overlap <= 0:
                continue
            d = v[i] - v[i - 1]
            if t[i] - t[i - 1] > max_s or d < 0:
                bad = True
                continue
            vol += d * overlap / (t[i] - t[i - 1])
            cover += overlap
        if not bad and cover == b - a:
            out[j] = vol
    return out


def test_uniform_spreading_matches_a_plain_reference_on_irregular_readings() -> None:
    rng = np.random.default_rng(11)
    axis = hourly_axis(datetime(2024, 3, 30, tzinfo=UTC), 60)  # spans the spring DST change
    edges = _edges(axis)
    rules = RegisterRules(
        max_flow_lph=1e9, reverse_tolerance_l=0.0, capacities_l=(), drop_spikes=False
    )
    meters, times, values, series = [], [], [], []
    for k in range(25):
        n = int(rng.integers(0, 150)) if k % 5 else int(rng.integers(0, 3))
        t = np.sort(rng.choice(np.arange(edges[0] - 2 * H, edges[-1] + 2 * H), n, replace=False))
        v = np.cumsum(rng.exponential(20.0, n)) * (rng.random(n) > 0.15)  # some resets to 0
        meters += [k] * n
        times += t.tolist()
        values += v.tolist()
        series.append((t, v))
    got = meter_hours(meters, times, values, axis, 25, rules).volume_l
    assert 0.2 < np.isfinite(got).mean() < 0.9  # both known and unknown steps are exercised
    for k, (t, v) in enumerate(series):
        np.testing.assert_allclose(got[k], _brute_uniform(t, v, edges, 2 * H), atol=1e-6)


def test_steady_flow_read_every_20_minutes_gives_that_flow_every_hour() -> None:
    axis = hourly_axis(START, 48)
    t = T0 + 7 * 60 + np.arange(0, 48 * H, 1200)
    m, tt, v = _one(t, 1000.0 + 12.0 * (t - t[0]) / H)
    out = meter_hours(m, tt, v, axis).volume_l[0]
    assert np.isnan(out[0]) and np.isnan(out[-1])  # readings start at 00:07 and end at 23:47
    np.testing.assert_allclose(out[1:-1], 12.0)


def test_readings_too_far_apart_leave_hours_unknown_but_daily_totals_right() -> None:
    # Read once a day at 06:00 local over the October DST change (a 25-hour day).
    days = [date(2024, 10, d) for d in range(24, 31)]
    t = np.asarray([int(datetime(2024, 10, d.day, 6, tzinfo=PARIS).timestamp()) for d in days])
    flow_lph = 10.0
    m, tt, v = _one(t, 5000.0 + flow_lph * (t - t[0]) / H)
    hours = meter_hours(m, tt, v, hourly_axis(datetime(2024, 10, 24, tzinfo=UTC), 24 * 6))
    assert np.isnan(hours.volume_l).all()
    assert hours.quality.gaps[0] == len(days) - 1
    daily = daily_volumes(m, tt, v, date(2024, 10, 25), 5)
    lengths = np.diff(local_midnights(date(2024, 10, 25), 5)) / H
    assert lengths.tolist() == [24, 24, 25, 24, 24]
    np.testing.assert_allclose(daily.volume_l[0], flow_lph * lengths)
    assert daily.dates[2] == date(2024, 10, 27)


def test_register_rollover_counts_the_water_through_zero() -> None:
    axis = hourly_axis(START, 6)
    t = T0 + np.arange(7) * H
    index = (99_999_900.0 + 40.0 * np.arange(7)) % 1e8  # a 100,000 m³ register wrapping
    m, tt, v = _one(t, index)
    got = meter_hours(m, tt, v, axis)
    np.testing.assert_allclose(got.volume_l[0], 40.0)
    assert got.quality.rollovers[0] == 1
    assert got.quality.resets[0] == 0


def test_reset_or_meter_swap_loses_one_interval_and_rebases() -> None:
    axis = hourly_axis(START, 6)
    t = T0 + np.arange(7) * H
    m, tt, v = _one(t, [52_000.0, 52_030, 52_060, 15.0, 45, 75, 105])  # new meter at 15 L
    got = meter_hours(m, tt, v, axis)
    np.testing.assert_array_equal(np.isnan(got.volume_l[0]), [0, 0, 1, 0, 0, 0])
    np.testing.assert_allclose(got.volume_l[0][[0, 1, 3, 4, 5]], 30.0)
    assert (got.quality.resets[0], got.quality.rollovers[0]) == (1, 0)


def test_implausible_rise_is_a_jump_not_consumption() -> None:
    axis = hourly_axis(START, 4)
    t = T0 + np.arange(5) * H
    m, tt, v = _one(t, [100.0, 110, 9_110, 9_120, 9_130])  # 9 m³ in an hour through a DN15
    got = meter_hours(m, tt, v, axis, rules=RegisterRules(max_flow_lph=3125.0))
    np.testing.assert_array_equal(np.isnan(got.volume_l[0]), [0, 1, 0, 0])
    assert got.quality.jumps[0] == 1


def test_small_reverse_flow_counts_zero_and_is_not_counted_twice() -> None:
    axis = hourly_axis(START, 5)
    t = T0 + np.arange(6) * H
    m, tt, v = _one(t, [500.0, 520, 512, 515, 530, 540])  # 8 L flowed back, then refilled
    got = meter_hours(m, tt, v, axis)
    np.testing.assert_allclose(got.volume_l[0], [20, 0, 0, 10, 10])
    assert got.quality.reverse_flow_l[0] == pytest.approx(8.0)
    assert np.nansum(got.volume_l[0]) == pytest.approx(540 - 500)


def test_large_reverse_flow_is_unknown() -> None:
    axis = hourly_axis(START, 3)
    t = T0 + np.arange(4) * H
    m, tt, v = _one(t, [500.0, 520, 400, 410])
    got = meter_hours(m, tt, v, axis, rules=RegisterRules(reverse_tolerance_l=20.0))
    np.testing.assert_array_equal(np.isnan(got.volume_l[0]), [0, 1, 0])
    assert got.quality.resets[0] == 1
    assert got.quality.reverse_flow_l[0] == 0.0


def test_interleaved_foreign_register_readings_are_dropped_as_spikes() -> None:
    # The DAIAD artefact: a second register ~248,5xx L higher read a few minutes before the
    # meter's own, hour after hour (diffs of +248,243 then -248,203, ...).
    own = [207_774.0, 207_814, 207_851, 207_886, 207_907, 207_925]
    foreign = [456_017.0, 456_273, 456_353, 456_427]
    t_own = T0 + 37 * 60 + np.arange(6) * H
    t_foreign = T0 + 34 * 60 + np.arange(1, 5) * H
    m, tt, v = _one(np.concatenate([t_own, t_foreign]), own + foreign)
    axis = hourly_axis(START, 6)
    got = meter_hours(m, tt, v, axis)
    assert got.quality.spikes[0] == 4
    assert got.quality.resets[0] == got.quality.jumps[0] == 0
    np.testing.assert_array_equal(np.isfinite(got.volume_l[0]), [0, 1, 1, 1, 1, 0])
    # Hours 01:00-05:00 hold the meter's own index rise, interpolated at the hour edges.
    edges = T0 + np.array([1, 5]) * H
    rise = np.diff(np.interp(edges, t_own, own))[0]
    assert np.nansum(got.volume_l[0]) == pytest.approx(rise)


def test_duplicates_keep_the_last_received_and_order_does_not_matter() -> None:
    rng = np.random.default_rng(4)
    axis = hourly_axis(START, 24)
    t = T0 + np.arange(25) * H
    v = 100.0 + np.cumsum(rng.integers(0, 30, 25))
    ref = meter_hours(*_one(t, v), axis)
    # Same readings shuffled, plus a stale copy of reading 10 received before the good one.
    order = rng.permutation(25)
    tt = np.concatenate([[t[10]], t[order]])
    vv = np.concatenate([[v[10] - 50.0], v[order]])
    got = meter_hours(np.zeros(26, dtype=np.int64), tt, vv, axis)
    np.testing.assert_array_equal(got.volume_l, ref.volume_l)
    assert got.quality.duplicates[0] == 1
    assert got.quality.out_of_order[0] > 0
    assert ref.quality.out_of_order[0] == ref.quality.duplicates[0] == 0


def test_midpoint_keeps_a_zero_interval_a_zero_hour() -> None:
    # Read at :34; nothing drawn, then 60 L (a shower), then nothing.
    axis = hourly_axis(START, 3)
    t = T0 - H + 34 * 60 + np.arange(5) * H
    m, tt, v = _one(t, [0.0, 0, 60, 60, 60])
    uniform = meter_hours(m, tt, v, axis).volume_l[0]
    midpoint = meter_hours(m, tt, v, axis, rules=HOUSEHOLD_HOURLY_RULES).volume_l[0]
    np.testing.assert_allclose(uniform, [26.0, 34.0, 0.0])  # the dry hour 0 gets 26 L
    np.testing.assert_allclose(midpoint, [0.0, 60.0, 0.0])


@pytest.mark.parametrize(
    ("start", "n_steps", "local_hours_at_change"),
    [
        (datetime(2024, 3, 31, 0, 30, tzinfo=UTC), 6, [1, 3, 3, 3]),  # 02:00 skipped
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), 6, [2, 2, 2, 2]),  # 02:00 twice
    ],
)
def test_quarter_hour_axis_follows_local_time(
    start: datetime, n_steps: int, local_hours_at_change: list[int]
) -> None:
    axis = step_axis(start, n_steps, timedelta(minutes=15))
    assert axis.local_hour[1:5].tolist() == local_hours_at_change
    t = int(start.timestamp()) + np.arange(n_steps + 1) * 900
    got = meter_hours(*_one(t, 3.0 * np.arange(n_steps + 1)), axis)
    np.testing.assert_allclose(got.volume_l[0], 3.0)


def test_many_meters_in_chunks_match_one_pass() -> None:
    rng = np.random.default_rng(8)
    axis = hourly_axis(START, 48)
    n = 40
    m = np.repeat(np.arange(n), 60)
    t = (T0 + rng.integers(0, 48 * H, (n, 60))).ravel()
    v = np.cumsum(rng.integers(0, 20, (n, 60)), axis=1).ravel().astype(float)
    one = meter_hours(m, t, v, axis, n, RegisterRules(max_interval_h=6))
    chunked = meter_hours(m, t, v, axis, n, RegisterRules(max_interval_h=6, chunk_meters=7))
    np.testing.assert_allclose(one.volume_l, chunked.volume_l, rtol=1e-9)


def test_a_meter_without_readings_has_only_unknown_hours() -> None:
    axis = hourly_axis(START, 3)
    got = meter_hours([1, 1], [T0 - H, T0 + 4 * H], [10.0, 60.0], axis, n_meters=3)
    assert np.isnan(got.volume_l[[0, 2]]).all()
    assert got.quality.readings.tolist() == [0, 2, 0]
    assert got.quality.missing_steps.tolist() == [3, 3, 3]  # 5 h apart: a gap
    assert got.quality.gaps.tolist() == [0, 1, 0]
    empty = meter_hours(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), axis, n_meters=2)
    assert empty.volume_l.shape == (2, 3) and np.isnan(empty.volume_l).all()


def test_bad_input_is_refused() -> None:
    axis = hourly_axis(START, 3)
    with pytest.raises(ValueError, match="meter rows"):
        meter_hours([0, 3], [T0, T0 + H], [1.0, 2.0], axis, n_meters=2)
    irregular = HourlyAxis(
        utc=np.array(["2024-05-06T00", "2024-05-06T01", "2024-05-06T03"], dtype="datetime64[h]"),
        local_hour=np.array([2, 3, 5]),
        local_date=np.array(["2024-05-06"] * 3, dtype="datetime64[D]"),
    )
    with pytest.raises(ValueError, match="regular"):
        meter_hours([0, 0], [T0, T0 + H], [1.0, 2.0], irregular)
