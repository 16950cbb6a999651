"""Rate of rise: a regression slope robust to irregular sampling, episodes that need to last."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.levels.guard import GuardParams, guard_levels
from analytics.levels.rise import RiseParams, RiseState, track_rise
from core.series import from_ns, to_ns

START = datetime(2024, 1, 1, tzinfo=UTC)
NS = 1_000_000_000


def _times(n: int, step_s: float = 900.0, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) * step_s + rng.uniform(-0.3, 0.3, n) * step_s
    return (to_ns(START) + (t * NS).astype(np.int64)).astype(np.int64)


def _hours(t: np.ndarray) -> np.ndarray:
    return np.asarray((t - t[0]) / NS / 3600)


def _ramp(t: np.ndarray, start_h: float, end_h: float, rise_cm_h: float) -> np.ndarray:
    """Flat at 0.8 m, rising at ``rise_cm_h`` between two hours, then flat, with sensor noise."""
    h = _hours(t)
    x = 0.8 + np.clip(h - start_h, 0, end_h - start_h) * rise_cm_h / 100
    rng = np.random.default_rng(4)
    return np.asarray(np.round(x + rng.normal(0, 0.003, len(t)), 3))


def test_rate_is_the_slope_in_cm_per_hour_despite_irregular_sampling() -> None:
    t = _times(200)
    x = _ramp(t, 0.0, 1e9, 30.0)
    r = track_rise(t, x)
    known = r.rise_cm_h[~np.isnan(r.rise_cm_h)]
    assert len(known) > 180
    assert np.all(np.abs(known - 30.0) < 1.5)


def test_a_sustained_rise_is_one_episode_from_start_to_end() -> None:
    t = _times(4 * 24)
    x = _ramp(t, 6.0, 14.0, 15.0)
    [e] = track_rise(t, x).episodes
    h = _hours(t)
    start_h = (e.start - from_ns(int(t[0]))).total_seconds() / 3600
    end_h = (e.end - from_ns(int(t[0]))).total_seconds() / 3600 if e.end else None
    assert 6.5 < start_h < 8.0  # the window needs a share of the rise to see it
    assert end_h is not None and 14.0 < end_h < 16.0
    assert e.max_rise_cm_h == pytest.approx(15.0, abs=1.5)
    assert (e.confirmed_at - e.start).total_seconds() >= 1800
    assert h[-1] > 20


def test_a_short_burst_does_not_last_long_enough() -> None:
    t = _times(4 * 24)
    x = _ramp(t, 6.0, 7.0, 25.0)  # 25 cm in an hour, then steady
    params = RiseParams(rise_cm_h=10.0, min_duration_s=3 * 3600)
    assert track_rise(t, x, params).episodes == []
    assert np.nanmax(track_rise(t, x, params).rise_cm_h) > 10.0


def test_slow_rise_stays_below_the_threshold() -> None:
    t = _times(4 * 24)
    x = _ramp(t, 2.0, 22.0, 4.0)
    assert track_rise(t, x).episodes == []


def test_sparse_readings_give_no_rate() -> None:
    t = _times(10, step_s=3 * 3600)  # one reading every three hours: never four in two hours
    x = _ramp(t, 0.0, 1e9, 30.0)
    assert np.isnan(track_rise(t, x).rise_cm_h).all()


def test_a_fault_jump_masked_by_the_guard_makes_no_rise() -> None:
    t = _times(4 * 24)
    x = _ramp(t, 0.0, 0.0, 0.0)
    x[40:60] += 1.6  # a branch under the sensor for five hours
    assert track_rise(t, x).episodes != []  # the raw series would say "rising fast"
    g = guard_levels(t, x, GuardParams.for_sensor(3.2))
    assert np.isnan(g.level_m[40:60]).all()
    assert track_rise(g.times_ns, g.level_m).episodes == []


def test_pieces_give_the_same_rates_and_episodes_as_the_whole() -> None:
    t = _times(4 * 48)
    x = _ramp(t, 6.0, 14.0, 15.0) + _ramp(t, 30.0, 36.0, 20.0) - 0.8
    whole = track_rise(t, x)
    assert len(whole.episodes) == 2
    state: RiseState | None = None
    rates: list[np.ndarray] = []
    closed = []
    for a in range(0, len(t), 13):
        r = track_rise(t[a : a + 13], x[a : a + 13], state=state)
        state = RiseState.from_dict(json.loads(json.dumps(r.state.to_dict(), allow_nan=False)))
        rates.append(r.rise_cm_h)
        closed += [e for e in r.episodes if e.end is not None]
    np.testing.assert_array_equal(np.concatenate(rates), whole.rise_cm_h)
    assert closed == whole.episodes
