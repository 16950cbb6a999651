"""Bursts: flow far above the meter's envelope for its local hour of the week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.water.axis import HourlyAxis, hourly_axis
from analytics.water.burst import SECTOR_BURST_PARAMS, BurstParams, detect_bursts, week_back
from analytics.water.meter_hours import step_axis
from core.calendar import FrenchCalendar
from simulator.water import simulate_water
from tests.simulator.conftest import territory

START = datetime(2024, 9, 2, tzinfo=UTC)  # 8 weeks, the autumn DST change in week 8
DAYS = 56
QUARTER = timedelta(minutes=15)


@dataclass(frozen=True)
class Sim:
    sector_q: np.ndarray  # [1, steps] litres per 15 min into the sector
    homes_h: np.ndarray  # [homes, hours]
    axis_q: HourlyAxis
    axis_h: HourlyAxis


@pytest.fixture(scope="module")
def sim() -> Sim:
    t = territory(households=120)
    run = simulate_water(t.sectors, {}, START, DAYS, 6, FrenchCalendar(), faults=False)
    return Sim(
        sector_q=run.sectors["s1"].inflow_m3[None, :] * 1000.0,
        homes_h=np.stack(list(run.households_l.values())),
        axis_q=step_axis(START, DAYS * 96, QUARTER),
        axis_h=hourly_axis(START, DAYS * 24),
    )


def _add(x: np.ndarray, row: int, first: int, steps: int, litres: float) -> np.ndarray:
    out = x.copy()
    out[row, first : first + steps] += litres
    return out


def test_a_sector_burst_is_found_with_its_flow_and_volume(sim: Sim) -> None:
    assert detect_bursts(sim.sector_q, sim.axis_q, SECTOR_BURST_PARAMS) == []
    first, steps, flow_lph = 96 * 30 + 4 * 3 + 2, 4 * 5, 12_000.0  # 5 h from 05:30 local
    x = _add(sim.sector_q, 0, first, steps, flow_lph / 4)
    (e,) = detect_bursts(x, sim.axis_q, SECTOR_BURST_PARAMS)
    assert (e.start, e.end) == (first, first + steps)
    assert e.alert == first + 3  # one hour of 15-min steps
    assert e.excess_flow_lph == pytest.approx(flow_lph, rel=0.1)
    assert e.volume_l == pytest.approx(flow_lph * 5, rel=0.1)
    assert e.peak_flow_lph > flow_lph


def test_simulated_bursts_are_found_and_nothing_else() -> None:
    t = territory(households=120)
    rows, truth = [], []
    for seed in (11, 12, 13, 14):
        run = simulate_water(t.sectors, {}, START, 365, seed, FrenchCalendar(), faults=True)
        rows.append(run.sectors["s1"].inflow_m3 * 1000.0)
        truth.append([f for f in run.faults if f.kind == "burst"])
    x = np.stack(rows)
    events = detect_bursts(x, step_axis(START, x.shape[1], QUARTER), SECTOR_BURST_PARAMS)
    found = 0
    for r, bursts in enumerate(truth):
        for f in bursts:
            first = int((f.start - START) / QUARTER)
            hit = [e for e in events if e.meter == r and abs(e.start - first) <= 1]
            if first < 96 * 14:  # no envelope yet
                continue
            assert hit, f"burst at {f.start} not found"
            assert hit[0].excess_flow_lph == pytest.approx((f.magnitude or 0) * 1000, rel=0.2)
            found += 1
    assert found >= 4
    assert len(events) == found


def test_a_burst_behind_a_household_meter(sim: Sim) -> None:
    assert detect_bursts(sim.homes_h, sim.axis_h) == []
    x = _add(sim.homes_h, 17, 24 * 33 + 20, 3, 600.0)  # a pipe gives way at 22:00 local
    (e,) = detect_bursts(x, sim.axis_h)
    assert (e.meter, e.start, e.end) == (17, 24 * 33 + 20, 24 * 33 + 23)
    assert e.excess_flow_lph == pytest.approx(600.0, abs=60.0)


@pytest.mark.parametrize(
    ("start", "week_hours"),
    [(datetime(2024, 10, 24, tzinfo=UTC), 169), (datetime(2024, 3, 28, tzinfo=UTC), 167)],
)
def test_a_week_back_is_the_same_local_wall_time(start: datetime, week_hours: int) -> None:
    axis = hourly_axis(start, 24 * 14)
    back = week_back(axis, 1)
    j = 24 * 8 + 8  # after the DST change, a week back is before it
    assert j - back[j] == week_hours
    assert axis.local_hour[back[j]] == axis.local_hour[j]
    assert (axis.local_date[j] - axis.local_date[back[j]]).astype(int) == 7
    assert np.all(back[: 24 * 6] == -1)


def test_no_alert_without_two_weeks_of_history(sim: Sim) -> None:
    early = _add(sim.homes_h, 3, 24 * 10 + 12, 4, 800.0)
    assert detect_bursts(early, sim.axis_h) == []
    later = _add(sim.homes_h, 3, 24 * 15 + 12, 4, 800.0)
    assert [e.meter for e in detect_bursts(later, sim.axis_h)] == [3]


def test_a_burst_is_kept_out_of_later_envelopes(sim: Sim) -> None:
    x = _add(sim.homes_h, 5, 24 * 20 + 2, 4, 900.0)
    x = _add(x, 5, 24 * 27 + 2, 4, 900.0)  # the same hour of the next week
    # Had the first burst entered the envelope, the second would sit inside it.
    assert [e.start for e in detect_bursts(x, sim.axis_h)] == [24 * 20 + 2, 24 * 27 + 2]


def test_a_burst_ends_back_inside_the_envelope_and_a_running_one_stays_open(sim: Sim) -> None:
    x = _add(sim.homes_h, 8, 24 * 30 + 1, 6, 700.0)
    x[8, 24 * 30 + 4] = np.nan
    (e,) = detect_bursts(x, sim.axis_h)  # a lost uplink does not split the burst
    assert (e.start, e.end) == (24 * 30 + 1, 24 * 30 + 7)
    assert e.volume_l == pytest.approx(6 * e.excess_flow_lph)
    x[8, 24 * 30 + 4] = sim.homes_h[8, 24 * 30 + 4]  # a step back inside the envelope does
    first, second = detect_bursts(x, sim.axis_h)
    assert (first.start, first.end) == (24 * 30 + 1, 24 * 30 + 4)
    assert (second.start, second.end) == (24 * 30 + 5, 24 * 30 + 7)
    running = _add(sim.homes_h, 8, DAYS * 24 - 5, 5, 700.0)
    (e,) = detect_bursts(running, sim.axis_h)
    assert e.end is None and e.start == DAYS * 24 - 5


@pytest.mark.parametrize(("hours", "found"), [(1, False), (3, True)])
def test_minimum_duration_is_in_hours_whatever_the_step(sim: Sim, hours: int, found: bool) -> None:
    p = BurstParams(min_duration_h=2.0)
    first_h = 24 * 25 + 13
    q = _add(sim.homes_h.repeat(4, axis=1)[:3] / 4, 1, first_h * 4, hours * 4, 1000.0 / 4)
    h = _add(sim.homes_h[:3], 1, first_h, hours, 1000.0)
    axis_q = step_axis(START, DAYS * 96, QUARTER)
    assert bool(detect_bursts(q, axis_q, p)) is found
    assert bool(detect_bursts(h, sim.axis_h, p)) is found
