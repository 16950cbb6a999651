"""Buildings: occupancy from schedules and calendars, setpoints, heating, indoor climate, faults."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core.calendar import FrenchCalendar
from simulator.buildings import STEP, BuildingRun, baseload_increase, simulate_buildings
from simulator.weather import LocalClock, simulate_weather
from tests.simulator.conftest import CLIMATE, pool, school

START = datetime(2024, 2, 1, tzinfo=UTC)  # zone B winter holidays: 24 Feb - 10 Mar 2024
DAYS = 40


@pytest.fixture(scope="module")
def runs(calendar: FrenchCalendar) -> dict[str, BuildingRun]:
    weather = simulate_weather(CLIMATE, START, DAYS, 2)
    return simulate_buildings((school(), pool()), weather, START, DAYS, 2, calendar, faults=False)


def test_deterministic_for_a_seed(calendar: FrenchCalendar) -> None:
    w = simulate_weather(CLIMATE, START, 5, 1)
    a = simulate_buildings((school(),), w, START, 5, 1, calendar)["sch"]
    b = simulate_buildings((school(),), w, START, 5, 1, calendar)["sch"]
    np.testing.assert_array_equal(a.indoor_c, b.indoor_c)
    np.testing.assert_array_equal(a.electricity_kw, b.electricity_kw)


def test_a_placed_baseload_increase_raises_the_electricity_from_its_start(
    calendar: FrenchCalendar,
) -> None:
    w = simulate_weather(CLIMATE, START, 10, 1)
    since = START + timedelta(days=6)
    fault = baseload_increase(school(), since, 1.0)
    plain = simulate_buildings((school(),), w, START, 10, 1, calendar, faults=False)["sch"]
    placed = simulate_buildings(
        (school(),), w, START, 10, 1, calendar, faults=False, placed=[fault]
    )["sch"]
    i0 = int((since - START) / STEP)
    extra = placed.electricity_kw - plain.electricity_kw
    assert placed.faults == [fault] and fault.magnitude and fault.end is None
    np.testing.assert_allclose(extra[:i0], 0.0, atol=1e-9)
    # Its heat spares a little heating (5 %: the tolerance); the rest shows on the meter.
    assert extra[i0:].mean() == pytest.approx(fault.magnitude, rel=0.05)


def test_schools_are_empty_and_cold_in_school_holidays(
    runs: dict[str, BuildingRun], calendar: FrenchCalendar
) -> None:
    r = runs["sch"]
    clock = LocalClock.build(START, DAYS * 96, STEP)
    dates = np.array(clock.dates)[clock.day]
    holiday = np.array([calendar.school_holiday(d, "B") for d in dates])
    term = np.array([not h and d.weekday() < 5 for d, h in zip(dates, holiday, strict=True)])
    term &= (clock.hour > 9) & (clock.hour < 11)
    later = holiday & np.array([d.day >= 28 or d.month == 3 for d in dates])
    assert not r.occupied[holiday].any()
    assert r.occupied[term].all()
    assert r.indoor_c[later].mean() < 12.0
    assert r.indoor_c[term].mean() == pytest.approx(19.0, abs=1.0)
    assert r.setpoint_c[holiday].min() == 8.0


def test_co2_is_higher_when_occupied_and_stays_plausible(runs: dict[str, BuildingRun]) -> None:
    for r in runs.values():
        assert r.co2_ppm[r.occupied].mean() > r.co2_ppm[~r.occupied].mean() + 50
        assert r.co2_ppm.min() >= 400 and r.co2_ppm.max() <= 1500
        assert r.humidity_pct.min() >= 15 and r.humidity_pct.max() <= 90


def test_energy_per_m2_sits_in_the_kind_s_range(runs: dict[str, BuildingRun]) -> None:
    # February is ~14 % of a school's annual energy and ~9 % of a pool's.
    for code, annual in (("sch", (110, 150)), ("pool", (1000, 2000))):
        r = runs[code]
        kwh = (r.electricity_kw + r.gas_kw).sum() * 0.25 / r.building.floor_area_m2 * 365 / DAYS
        assert annual[0] * 0.6 < kwh < annual[1] * 1.6


def test_setpoint_fault_raises_occupied_temperature(calendar: FrenchCalendar) -> None:
    w = simulate_weather(CLIMATE, START, 60, 1)
    for seed in range(40):
        r = simulate_buildings((school(),), w, START, 60, seed, calendar)["sch"]
        fault = next((f for f in r.faults if f.kind == "setpoint_excess"), None)
        if fault is not None:
            break
    assert fault is not None and fault.magnitude is not None
    assert 2.0 <= fault.magnitude <= 4.0
    i0 = int((fault.start - START) / STEP)
    i1 = len(r.occupied) if fault.end is None else int((fault.end - START) / STEP)
    window = np.zeros(len(r.occupied), dtype=bool)
    window[i0:i1] = True
    assert r.setpoint_c[window & r.occupied].max() == 19.0 + fault.magnitude
    assert r.setpoint_c[~window & r.occupied].max() == 19.0
    assert (
        fault.start
        < fault.start + timedelta(days=7)
        <= (fault.end or fault.start + timedelta(days=7))
    )


def test_a_setback_is_recovered_by_the_opening_and_costs_a_morning_peak(
    runs: dict[str, BuildingRun],
) -> None:
    # Two-node building: the room is back at its setpoint when people arrive, and the boiler
    # works harder in the recovery hours than later in the day, when the structure has warmed.
    r = runs["sch"]
    clock = LocalClock.build(START, DAYS * 96, STEP)
    comfort = r.setpoint_c >= r.building.setpoint_c
    assert (r.indoor_c[r.occupied] > r.setpoint_c[r.occupied] - 0.5).mean() > 0.99
    recovery = comfort & ~r.occupied & (clock.hour < 12)
    afternoon = r.occupied & (clock.hour > 14) & (clock.hour < 16)
    assert r.gas_kw[recovery].mean() > 1.3 * r.gas_kw[afternoon].mean()
    # After a night's setback the room falls to the unoccupied setpoint, not straight to it.
    first = np.flatnonzero(comfort[:-1] & ~comfort[1:]) + 1
    assert (r.indoor_c[first] > r.setpoint_c[first] + 0.5).mean() > 0.9
