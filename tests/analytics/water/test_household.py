"""Continuous-flow detector on seeded synthetic homes (no shared data read here)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.water.household import (
    ContinuousFlowParams,
    HourlyAxis,
    detect_continuous_flow,
    hourly_axis,
    night_windows,
)


def _home(axis: HourlyAxis, rng: np.random.Generator) -> np.ndarray:
    """A normal home: zero at night, bursts of use in the day, some zero day hours."""
    lh = axis.local_hour
    use = np.where((lh >= 7) & (lh <= 22), rng.gamma(1.5, 20.0, lh.size), 0.0)
    use[rng.random(lh.size) < 0.3] = 0.0
    return np.round(use)


def _axis(start: datetime, days: int) -> HourlyAxis:
    return hourly_axis(start, days * 24)


def test_constant_leak_found_with_onset_and_flow() -> None:
    rng = np.random.default_rng(1)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 20)
    homes = np.vstack([_home(axis, rng) for _ in range(5)])
    onset = 24 * 8 + 13
    homes[2, onset:] += 10.0
    events = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    assert [e.meter for e in events] == [2]
    e = events[0]
    assert abs(e.start - onset) <= 12
    assert e.end is None
    assert 8.0 <= e.flow_lph_estimate <= 12.0
    assert e.alert - onset <= 72
    assert e.volume_l == pytest.approx(e.flow_lph_estimate * (homes.shape[1] - e.start))


def test_leak_that_stops_is_closed() -> None:
    rng = np.random.default_rng(2)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 20)
    home = _home(axis, rng)[None, :]
    home[0, 100:300] += 20.0
    (e,) = detect_continuous_flow(home, axis.local_hour, axis.local_date)
    assert e.end is not None and 295 <= e.end <= 330
    assert 16.0 <= e.flow_lph_estimate <= 24.0


def test_normal_homes_raise_nothing() -> None:
    rng = np.random.default_rng(3)
    axis = _axis(datetime(2024, 1, 1, tzinfo=UTC), 60)
    homes = np.vstack([_home(axis, rng) for _ in range(200)])
    assert detect_continuous_flow(homes, axis.local_hour, axis.local_date) == []


def test_missing_hours_and_register_reset_do_not_alert() -> None:
    rng = np.random.default_rng(4)
    axis = _axis(datetime(2024, 3, 1, tzinfo=UTC), 30)
    homes = np.vstack([_home(axis, rng) for _ in range(4)])
    # every night hour missing for a week: nothing to say, no alert
    night = (axis.local_hour >= 0) & (axis.local_hour < 6)
    homes[0, np.flatnonzero(night)[:42]] = np.nan
    # register reset artefacts: +248,5xx then -248,5xx
    homes[1, 200] = 248_543.0
    homes[1, 201] = -248_520.0
    homes[1, 400:403] = [248_500.0, -248_499.0, 248_502.0]
    # long gap
    homes[2, 300:420] = np.nan
    # random missing hours everywhere
    homes[3, rng.random(homes.shape[1]) < 0.2] = np.nan
    assert detect_continuous_flow(homes, axis.local_hour, axis.local_date) == []


def test_reset_inside_leak_does_not_break_or_inflate_it() -> None:
    rng = np.random.default_rng(5)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 15)
    home = _home(axis, rng)[None, :]
    home[0, 50:] += 10.0
    home[0, 150] = -248_510.0
    home[0, 151] = 248_530.0
    (e,) = detect_continuous_flow(home, axis.local_hour, axis.local_date)
    assert e.end is None
    assert 8.0 <= e.flow_lph_estimate <= 12.0


@pytest.mark.parametrize(
    ("start", "short_date", "n_hours"),
    [
        (datetime(2024, 3, 25, tzinfo=UTC), "2024-03-31", 23),
        (datetime(2024, 10, 20, tzinfo=UTC), "2024-10-27", 25),
    ],
)
def test_dst_days(start: datetime, short_date: str, n_hours: int) -> None:
    axis = _axis(start, 14)
    dates, counts = np.unique(axis.local_date, return_counts=True)
    assert counts[list(dates.astype(str)).index(short_date)] == n_hours
    s, e = night_windows(axis.local_hour, axis.local_date, 1, 5)
    lengths = dict(zip(axis.local_date[s].astype(str), e - s, strict=True))
    assert lengths[short_date] == (3 if n_hours == 23 else 5)
    edges = (str(axis.local_date[0]), str(axis.local_date[-1]))  # axis cut mid-night
    assert all(v == 4 for k, v in lengths.items() if k != short_date and k not in edges)
    rng = np.random.default_rng(6)
    homes = np.vstack([_home(axis, rng) for _ in range(3)])
    onset = 24 * 4 + 10
    homes[1, onset:] += 10.0
    events = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    assert [ev.meter for ev in events] == [1]
    assert abs(events[0].start - onset) <= 12
    assert 8.0 <= events[0].flow_lph_estimate <= 12.0


def test_chunking_matches_single_pass() -> None:
    rng = np.random.default_rng(7)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 12)
    homes = np.vstack([_home(axis, rng) for _ in range(50)])
    homes[::7, 60:] += 5.0
    a = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    b = detect_continuous_flow(
        homes, axis.local_hour, axis.local_date, ContinuousFlowParams(chunk_meters=8)
    )
    assert a == b and len(a) == 8


def test_bad_shapes() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 2)
    with pytest.raises(ValueError):
        detect_continuous_flow(np.zeros(48), axis.local_hour, axis.local_date)
    with pytest.raises(ValueError):
        detect_continuous_flow(np.zeros((2, 47)), axis.local_hour, axis.local_date)
