"""Minimum night flow per local night: 02:00-04:00 Paris wall clock, any sampling, DST nights."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest

from analytics.water.flow_grid import cell_seconds
from analytics.water.night_flow import NightFlows, flow_from_index, night_flows
from core.series import NS, to_ns

START = datetime(2025, 3, 27, tzinfo=UTC)  # covers the spring change (30 March 2025)


def _grid(start: datetime, days: int, step_s: int) -> np.ndarray:
    n = days * 86_400 // step_s
    return to_ns(start) + np.arange(n, dtype=np.int64) * step_s * NS


def _at(t: np.ndarray, when: datetime) -> int:
    return int(np.searchsorted(t, to_ns(when)))


def _night(nf: NightFlows, day: date) -> int:
    return int(np.flatnonzero(nf.dates == np.datetime64(day.isoformat()))[0])


def test_mnf_is_the_lowest_quarter_hour_inside_the_local_window() -> None:
    t = _grid(START, 3, 900)
    flow = np.full(t.size, 2.0)
    # 28 March (UTC+1): 02:30 local = 01:30 UTC is inside; 01:45 and 04:00 local are outside.
    flow[_at(t, datetime(2025, 3, 28, 1, 30, tzinfo=UTC))] = 1.2
    flow[_at(t, datetime(2025, 3, 28, 0, 45, tzinfo=UTC))] = 0.5
    flow[_at(t, datetime(2025, 3, 28, 3, 0, tzinfo=UTC))] = 0.4
    nf = night_flows(t, flow)
    k = _night(nf, date(2025, 3, 28))
    assert nf.mnf_m3h[k] == pytest.approx(1.2)
    assert nf.start_ns[k] == to_ns(datetime(2025, 3, 28, 1, tzinfo=UTC))
    assert nf.end_ns[k] == to_ns(datetime(2025, 3, 28, 3, tzinfo=UTC))
    assert nf.cell_s == 900


@pytest.mark.parametrize(
    ("day", "start_utc", "hours"),
    [
        (date(2025, 3, 30), datetime(2025, 3, 30, 1, tzinfo=UTC), 1),  # 02:00 does not exist
        (date(2025, 3, 31), datetime(2025, 3, 31, 0, tzinfo=UTC), 2),  # summer time
        (date(2025, 10, 26), datetime(2025, 10, 26, 0, tzinfo=UTC), 3),  # 02:00-03:00 twice
        (date(2025, 10, 27), datetime(2025, 10, 27, 1, tzinfo=UTC), 2),
    ],
)
def test_dst_nights_last_one_two_or_three_real_hours(
    day: date, start_utc: datetime, hours: int
) -> None:
    t = _grid(datetime.combine(day, datetime.min.time(), UTC) - timedelta(days=1), 3, 900)
    flow = np.full(t.size, 3.0)
    # A dip in the window's last quarter hour counts; one just after it does not.
    last = start_utc + timedelta(hours=hours) - timedelta(minutes=15)
    flow[_at(t, last)] = 1.0
    flow[_at(t, last + timedelta(minutes=15))] = 0.1
    nf = night_flows(t, flow)
    k = _night(nf, day)
    assert (nf.end_ns[k] - nf.start_ns[k]) // (3600 * NS) == hours
    assert nf.start_ns[k] == to_ns(start_utc)
    assert nf.mnf_m3h[k] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("day", "kept", "defined"),
    [
        (date(2025, 3, 28), 4, True),  # 4 of 8 quarter hours: half the window
        (date(2025, 3, 28), 3, False),
        (date(2025, 3, 30), 2, True),  # the 1-hour night needs 2 of its 4
        (date(2025, 3, 30), 1, False),
    ],
)
def test_a_night_needs_half_its_window(day: date, kept: int, defined: bool) -> None:
    t = _grid(START, 5, 900)
    flow = np.full(t.size, 2.5)
    nf = night_flows(t, flow)
    k = _night(nf, day)
    lo, hi = np.searchsorted(t, [nf.start_ns[k], nf.end_ns[k]])
    drop = np.zeros(t.size, dtype=bool)
    drop[lo + kept : hi] = True
    nf2 = night_flows(t[~drop], flow[~drop])
    k2 = _night(nf2, day)
    assert np.isfinite(nf2.mnf_m3h[k2]) == defined
    assert nf2.coverage[k2] == pytest.approx(kept / (hi - lo))


def test_one_minute_samples_are_averaged_into_quarter_hours() -> None:
    t = _grid(START, 2, 60)
    # Alternating 1 and 3 m³/h each minute: a raw minimum would say 1, the flow is 2.
    flow = np.where(np.arange(t.size) % 2 == 0, 1.0, 3.0)
    nf = night_flows(t, flow)
    assert nf.cell_s == 900
    assert np.nanmax(np.abs(nf.mnf_m3h - 2.0)) < 0.2


def test_hourly_samples_use_hourly_cells_and_coarser_ones_are_refused() -> None:
    t = _grid(START, 4, 3600)
    flow = 2.0 + np.arange(t.size) % 24 / 10.0
    nf = night_flows(t, flow)
    assert nf.cell_s == 3600
    # 02:00 local is 01:00 UTC in winter and on the short spring night; the day after the
    # last sample has no night.
    assert nf.mnf_m3h[:4].tolist() == pytest.approx([2.1] * 4)
    assert np.isnan(nf.mnf_m3h[4])
    assert cell_seconds(_grid(START, 2, 1800)) == 1800
    with pytest.raises(ValueError, match="too coarse"):
        night_flows(_grid(START, 10, 7200), np.ones(120))


def test_day_mean_is_the_mean_flow_of_the_local_day() -> None:
    t = _grid(START, 4, 900)
    nf = night_flows(t, np.full(t.size, 4.0))
    assert nf.day_mean_m3h[1] == pytest.approx(4.0)
    assert nf.last_ns == int(t[-1])


def test_flow_from_index_gives_rates_at_midpoints_and_skips_resets() -> None:
    t = _grid(START, 1, 3600)[:5]
    volume = np.array([100.0, 102.0, 105.0, 1.0, 2.5])
    times, flow = flow_from_index(t, volume)
    assert flow.tolist() == pytest.approx([2.0, 3.0, 1.5])
    assert times[0] == t[0] + 1800 * NS
