"""Building night flow against the building's own nights, and the continuous-flow rule on
buildings whose use stops, on simulated schools and pools."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.water.axis import HourlyAxis, hourly_axis
from analytics.water.building import (
    BUILDING_PARAMS,
    AlwaysOnParams,
    NightFlowParams,
    _assess,
    building_continuous_flow,
    busy_nights,
    detect_night_flow,
    night_flows,
)
from analytics.water.household import detect_continuous_flow
from analytics.water.meter_hours import step_axis
from core.calendar import FrenchCalendar
from simulator.buildings import simulate_buildings
from simulator.water import building_demand
from simulator.weather import simulate_weather
from tests.simulator.conftest import CLIMATE, pool, school

START = datetime(2024, 2, 26, tzinfo=UTC)  # Monday; the spring DST change is on day 34
DAYS = 70
SEED = 4


@dataclass(frozen=True)
class Sim:
    quarter: np.ndarray  # [school, pool] litres per 15 min
    hourly: np.ndarray
    axis_h: HourlyAxis
    axis_q: HourlyAxis


@pytest.fixture(scope="module")
def sim() -> Sim:
    weather = simulate_weather(CLIMATE, START, DAYS, SEED)
    runs = simulate_buildings(
        (school(), pool()), weather, START, DAYS, SEED, FrenchCalendar(), faults=False
    )
    quarter = np.stack([building_demand(runs[c], SEED, faults=False)[0] for c in ("sch", "pool")])
    return Sim(
        quarter=quarter,
        hourly=quarter.reshape(2, -1, 4).sum(axis=2),
        axis_h=hourly_axis(START, DAYS * 24),
        axis_q=step_axis(START, DAYS * 96, timedelta(minutes=15)),
    )


def _leak(x: np.ndarray, row: int, first: int, last: int, lph: float, per_h: int = 1) -> np.ndarray:
    out = x.copy()
    out[row, first * per_h : last * per_h] += lph / per_h
    return out


def test_normal_school_and_pool_raise_nothing(sim: Sim) -> None:
    assert detect_night_flow(sim.hourly, sim.axis_h) == []
    assert detect_night_flow(sim.quarter, sim.axis_q) == []
    nf = night_flows(sim.hourly, sim.axis_h)
    school_night, pool_night = np.nanmedian(nf.flow_lph, axis=1)
    assert school_night == 0.0 and pool_night > 100.0  # the pool renews water all night


def test_school_leak_found_with_onset_flow_and_volume(sim: Sim) -> None:
    on, off = 24 * 40 + 9, 24 * 48 + 9  # eight days from 10:00 local
    x = _leak(sim.hourly, 0, on, off, 40.0)
    (e,) = detect_night_flow(x, sim.axis_h)
    assert e.meter == 0
    assert on < e.start <= on + 24 and sim.axis_h.local_hour[e.start] == 0
    assert e.alert - e.start < 30  # end of the second night
    assert e.end is not None and off < e.end <= off + 24
    assert e.excess_flow_lph == pytest.approx(40.0, abs=1.0)
    assert e.baseline_lph == 0.0
    assert e.volume_l == pytest.approx(e.excess_flow_lph * (e.end - e.start))
    assert e.nights == 8


def test_pool_is_compared_with_its_own_nights(sim: Sim) -> None:
    nf = night_flows(sim.hourly, sim.axis_h)
    normal = np.nanmedian(nf.flow_lph[1])
    x = _leak(sim.hourly, 1, 24 * 45 + 12, DAYS * 24, 3 * normal)
    (e,) = detect_night_flow(x, sim.axis_h)
    assert e.meter == 1 and e.end is None
    assert e.baseline_lph == pytest.approx(normal, rel=0.3)
    assert e.excess_flow_lph == pytest.approx(3 * normal, rel=0.25)
    # A leak the school would show is lost in the pool's own night-to-night variation.
    small = _leak(sim.hourly, 1, 24 * 45 + 12, DAYS * 24, 20.0)
    assert detect_night_flow(small, sim.axis_h) == []


def test_late_evening_use_and_one_odd_night_are_not_leaks() -> None:
    rng = np.random.default_rng(9)
    axis = hourly_axis(datetime(2024, 9, 2, tzinfo=UTC), 60 * 24)
    lh = axis.local_hour
    # A gym: sessions 17:00-01:00 local, empty after; a night guard flushes now and then.
    gym = np.where((lh >= 17) | (lh < 1), rng.gamma(2.0, 300.0, lh.size), 0.0)
    night = (lh >= 1) & (lh < 5)
    gym[night & (rng.random(lh.size) < 0.1)] += 9.0
    nights = night_flows(gym[None, :], axis)
    odd = gym.copy()
    odd[nights.night_start[30] : nights.night_end[30]] += 150.0  # cleaners at night, once
    x = np.vstack([gym, odd])
    assert detect_night_flow(x, axis) == []
    nf = night_flows(x, axis)
    assert nf.excess[1].sum() == 1 and not nf.excess[0].any()
    leaky = _leak(x, 0, 24 * 40 + 6, 24 * 50, 30.0)
    assert [e.meter for e in detect_night_flow(leaky, axis)] == [0]


def test_leak_nights_stay_out_of_the_baseline(sim: Sim) -> None:
    x = _leak(sim.hourly, 0, 24 * 36 + 10, 24 * 56 + 10, 25.0)
    (e,) = detect_night_flow(x, sim.axis_h)
    assert e.nights == 20
    nf = night_flows(x, sim.axis_h)
    during = nf.excess[0]
    assert during.sum() == 20
    assert np.nanmax(nf.baseline_lph[0][during]) == 0.0


def test_a_lasting_change_of_night_use_becomes_the_norm() -> None:
    p = NightFlowParams()
    axis = hourly_axis(datetime(2024, 9, 2, tzinfo=UTC), 100 * 24)
    x = np.zeros((1, 100 * 24))
    x[0, 24 * 20 + 12 :] += 30.0  # e.g. a new server room cooled by water, for good
    (e,) = detect_night_flow(x, axis, p)
    assert e.end is not None
    nights = (e.end - e.start) / 24
    learn = p.baseline_nights - p.min_baseline_nights
    assert learn <= e.nights <= learn + 2
    assert learn + p.min_baseline_nights <= nights <= p.baseline_nights + 3


def test_dst_nights_are_shorter_and_longer() -> None:
    for start, day, hours in (
        (datetime(2024, 3, 28, tzinfo=UTC), "2024-03-31", 4),
        (datetime(2024, 10, 24, tzinfo=UTC), "2024-10-27", 6),
    ):
        axis = hourly_axis(start, 6 * 24)
        nf = night_flows(np.zeros((1, 6 * 24)), axis)
        lengths = dict(
            zip(
                axis.local_date[nf.night_start].astype(str),
                nf.night_end - nf.night_start,
                strict=True,
            )
        )
        assert lengths[day] == hours
        edges = (day, str(axis.local_date[0]), str(axis.local_date[-1]))  # axis cut mid-night
        assert all(v == 5 for k, v in lengths.items() if k not in edges)


def test_quarter_hour_data_give_the_hourly_answer(sim: Sim) -> None:
    on, off = 24 * 38 + 14, 24 * 44 + 14  # across nothing special, 14:00 local
    eh = detect_night_flow(_leak(sim.hourly, 0, on, off, 60.0), sim.axis_h)
    eq = detect_night_flow(_leak(sim.quarter, 0, on, off, 60.0, per_h=4), sim.axis_q)
    assert [(e.start, e.end, e.nights) for e in eh] == [
        (e.start // 4, None if e.end is None else e.end // 4, e.nights) for e in eq
    ]
    assert eq[0].excess_flow_lph == pytest.approx(60.0, abs=1.0)


def test_the_quick_path_finds_the_excess_nights_of_the_full_assessment() -> None:
    rng = np.random.default_rng(12)
    flow = rng.gamma(2.0, 20.0, (40, 300)) * (rng.random((300, 1)) < 0.7).T
    flow[rng.random(flow.shape) < 0.05] = np.nan
    for r in range(0, 300, 7):
        k = int(rng.integers(10, 35))
        flow[k : k + int(rng.integers(1, 6)), r] += rng.uniform(20, 200)
    p = NightFlowParams()
    _b1, _t1, assessed_full, excess_full = _assess(flow, p, every_row=True)
    _b2, _t2, assessed_quick, excess_quick = _assess(flow, p, every_row=False)
    assert excess_full.sum() > 20
    np.testing.assert_array_equal(excess_quick, excess_full)
    np.testing.assert_array_equal(assessed_quick, assessed_full)


def test_building_continuous_flow_params(sim: Sim) -> None:
    school_only = sim.hourly[:1]
    lh, ld = sim.axis_h.local_hour, sim.axis_h.local_date
    assert detect_continuous_flow(school_only, lh, ld, BUILDING_PARAMS) == []
    (e,) = detect_continuous_flow(
        _leak(school_only, 0, 24 * 40 + 9, DAYS * 24, 40.0), lh, ld, BUILDING_PARAMS
    )
    assert e.flow_lph_estimate == pytest.approx(40.0, abs=1.0)


# -- continuous flow: buildings whose normal use never stops -----------------------------------


def test_a_pool_that_never_stops_raises_no_continuous_flow_alert(sim: Sim) -> None:
    lh, ld = sim.axis_h.local_hour, sim.axis_h.local_date
    # The household rule alone holds the pool in alert for good: it never has a zero hour.
    assert [e.meter for e in detect_continuous_flow(sim.hourly, lh, ld, BUILDING_PARAMS)] == [1]
    leaks = building_continuous_flow(sim.hourly, sim.axis_h)
    assert leaks.alerts == [] and leaks.always_on == []
    # Its run started with the data: nothing before it tells what the pool's normal use is.
    ((run,),) = [leaks.unjudged]
    assert (run.meter, run.start, run.end) == (1, 0, None)


@pytest.mark.parametrize("value", [np.nan, 0.0], ids=["meter-silent", "closed-water-off"])
def test_a_pool_run_after_a_break_is_its_normal_use(sim: Sim, value: float) -> None:
    x = sim.hourly.copy()
    x[1, 24 * 30 : 24 * 35] = value  # five days: too long apart to merge with the run before
    leaks = building_continuous_flow(x, sim.axis_h)
    assert leaks.alerts == []
    (after,) = [e for e in leaks.always_on if e.meter == 1]
    assert after.start >= 24 * 35 and after.end is None


def test_a_school_leak_still_alerts(sim: Sim) -> None:
    x = _leak(sim.hourly, 0, 24 * 40 + 9, DAYS * 24, 40.0)
    leaks = building_continuous_flow(x, sim.axis_h)
    (e,) = leaks.alerts
    assert e.meter == 0 and e.end is None
    assert 24 * 40 + 9 <= e.start <= 24 * 41 and e.alert - e.start < 72
    assert e.flow_lph_estimate == pytest.approx(40.0, abs=1.0)
    assert [u.meter for u in leaks.unjudged] == [1]  # the pool, as above


def test_a_leak_that_makes_the_school_always_on_still_alerts(sim: Sim) -> None:
    on = 24 * 10 + 9
    x = _leak(sim.hourly, 0, on, DAYS * 24, 40.0)
    _ns, _ne, busy = busy_nights(x, sim.axis_h)
    assert np.nanmean(busy[0]) > 0.8  # over the whole data, the school looks always on
    (e,) = building_continuous_flow(x, sim.axis_h).alerts
    assert e.meter == 0 and on <= e.start <= on + 24  # judged on its nights before the leak


def test_a_leak_interrupted_for_an_hour_is_still_one_alert(sim: Sim) -> None:
    x = _leak(sim.hourly, 0, 24 * 20 + 9, DAYS * 24, 40.0)
    x[0, 24 * 45 + 3] = 0.0  # the water is shut off for an hour, the leak goes on
    (e,) = building_continuous_flow(x, sim.axis_h).alerts
    assert e.start <= 24 * 21 and e.end is None


@pytest.mark.parametrize(
    ("first_day", "declared", "verdict"),
    [
        (0, None, "unjudged"),  # leaking before the data start: no reference
        (AlwaysOnParams().min_reference_nights - 3, None, "unjudged"),  # too few nights yet
        (AlwaysOnParams().min_reference_nights + 1, None, "alerts"),
        (0, False, "alerts"),  # declared to stop: judged without a reference
        (40, True, "always_on"),  # declared always on: never judged by this rule
    ],
)
def test_the_reference_and_the_declared_use_decide(
    sim: Sim, first_day: int, declared: bool | None, verdict: str
) -> None:
    school = _leak(sim.hourly[:1], 0, 24 * first_day, DAYS * 24, 40.0)
    leaks = building_continuous_flow(school, sim.axis_h, [declared])
    sorted_out = {
        k: [e.meter for e in getattr(leaks, k)] for k in ("alerts", "always_on", "unjudged")
    }
    assert sorted_out == {k: [0] if k == verdict else [] for k in sorted_out}


def test_busy_nights_are_the_rules_leaky_nights() -> None:
    axis = hourly_axis(datetime(2024, 9, 2, 22, tzinfo=UTC), 3 * 24)  # 00:00 local on day 1
    x = np.full((4, 3 * 24), 50.0)
    x[1, 3] = 0.0  # a zero hour at 03:00 on the first night: quiet
    x[2, :] = 9.0  # never zero, but below min_night_flow_lph: quiet
    x[3, 1:5] = np.nan  # 01:00-05:00 unknown on the first night
    x[3, 26:29] = np.nan  # three of four hours unknown on the second night
    _ns, _ne, busy = busy_nights(x, axis)
    np.testing.assert_array_equal(busy, [[1, 1, 1], [0, 1, 1], [0, 0, 0], [np.nan, np.nan, 1]])


def test_continuous_use_needs_one_value_per_meter(sim: Sim) -> None:
    with pytest.raises(ValueError, match="one entry per meter"):
        building_continuous_flow(sim.hourly, sim.axis_h, [None])
