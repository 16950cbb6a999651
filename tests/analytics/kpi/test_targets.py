"""Décret tertiaire trajectory and 2022 sobriety plan, on hand-computed cases."""

from __future__ import annotations

import pytest

from analytics.kpi.targets import (
    Baseline,
    declared,
    in_climate_of,
    path_reduction,
    sobriety,
    trajectory,
)
from tests.analytics.kpi.conftest import make_info, make_year

SCHOOL = make_info(floor_area_m2=2000.0, absolute_target_kwh_m2=70.0)


def test_a_year_is_brought_to_the_reference_climate_through_its_heating_only() -> None:
    year = make_year(SCHOOL, energy=100.0, heating=60.0, dju=2000.0)
    # 40 kWh do not depend on the weather; 60 kWh of heating in a 25 % colder year: 75.
    assert in_climate_of(year, 2500.0) == 115.0
    assert in_climate_of(year, None) is None
    assert in_climate_of(make_year(SCHOOL, 100.0, 60.0, dju=None), 2500.0) is None


@pytest.mark.parametrize(
    ("year", "reference", "reduction"),
    [
        (2015, 2015, 0.0),
        (2012, 2015, 0.0),
        (2025, 2015, 0.4 * 10 / 15),
        (2030, 2015, 0.40),
        (2035, 2015, 0.45),
        (2040, 2010, 0.50),
        (2045, 2010, 0.55),
        (2050, 2020, 0.60),
        (2060, 2020, 0.60),
    ],
)
def test_the_path_is_straight_between_milestones(
    year: int, reference: int, reduction: float
) -> None:
    assert path_reduction(year, reference) == pytest.approx(reduction)


def test_trajectory_against_a_declared_reference() -> None:
    current = make_year(SCHOOL, energy=150_000.0, heating=90_000.0, dju=2400.0, year=2025)
    reference = Baseline(2015, 200_000.0, 2600.0, "registry")

    t = trajectory(current, reference)

    assert t.subject and t.climate_adjusted
    assert t.adjusted_kwh == pytest.approx(60_000 + 90_000 * 2600 / 2400)  # 157,500
    assert t.change == pytest.approx(157_500 / 200_000 - 1)
    assert t.targets_kwh == {2030: 120_000.0, 2040: 100_000.0, 2050: 80_000.0}
    assert t.expected_kwh == pytest.approx(200_000 * (1 - 0.4 * 10 / 15))
    assert t.on_track is False
    assert t.gap_2030_kwh == pytest.approx(37_500)
    # 150,000 kWh on 2,000 m² against a Cabs of 70: 5 kWh/m² above.
    assert t.absolute_gap_kwh_m2 == pytest.approx(5.0)


def test_without_the_years_climate_the_comparison_is_as_measured() -> None:
    current = make_year(SCHOOL, energy=110_000.0, heating=60_000.0, dju=None, year=2025)
    t = trajectory(current, Baseline(2015, 200_000.0, 2600.0, "registry"))
    assert not t.climate_adjusted and t.adjusted_kwh == 110_000.0 and t.on_track is True


@pytest.mark.parametrize(
    "current",
    [
        pytest.param(
            make_year(SCHOOL, 150_000.0, 90_000.0, 2400.0, partial=True), id="year in progress"
        ),
        pytest.param(
            make_year(SCHOOL, 150_000.0, 90_000.0, 2400.0, coverage=0.9), id="meters missing"
        ),
    ],
)
def test_an_incomplete_year_is_not_compared(current: object) -> None:
    t = trajectory(current, Baseline(2015, 200_000.0, 2600.0, "registry"))  # type: ignore[arg-type]
    assert t.adjusted_kwh is None and t.change is None and t.on_track is None
    assert t.targets_kwh[2030] == 120_000.0  # the targets stand anyway


def test_small_buildings_are_not_subject_and_no_reference_means_no_trajectory() -> None:
    small = make_year(make_info(floor_area_m2=999.0), 50_000.0)
    t = trajectory(small, None)
    assert not t.subject and t.reference is None and t.targets_kwh == {}


def test_sobriety_plan_against_2019() -> None:
    current = make_year(SCHOOL, energy=140_000.0, heating=80_000.0, dju=2300.0, year=2024)
    s = sobriety(current, Baseline(2019, 160_000.0, 2480.0, "registry"))
    assert s.change == pytest.approx(-0.125) and s.met is True
    adjusted = 60_000 + 80_000 * 2480 / 2300
    assert s.change_adjusted == pytest.approx(adjusted / 160_000 - 1)
    missed = sobriety(make_year(SCHOOL, 150_000.0), Baseline(2019, 160_000.0, None, "registry"))
    assert missed.met is False and missed.change_adjusted is None
    assert sobriety(current, None).change is None


def test_declared_baselines_need_a_year_and_an_energy() -> None:
    assert declared(2015, 1.0, None) == Baseline(2015, 1.0, None, "registry")
    assert declared(None, 1.0, 2500.0) is None
    assert declared(2015, None, 2500.0) is None
