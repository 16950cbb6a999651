"""Savings potential: own baseline, peers, national reference, and the ranking."""

from __future__ import annotations

from dataclasses import replace

import pytest

from analytics.kpi.savings import own_baseline, rank_savings
from tests.analytics.kpi.conftest import make_info, make_month, make_year


def test_own_baseline_is_last_years_months_in_this_years_climate() -> None:
    info = make_info()
    previous = make_year(
        info,
        300.0,
        year=2024,
        months=[make_month(1, 100.0, 60.0, 400.0, 2024), make_month(2, 200.0, 100.0, 300.0, 2024)],
    )
    current = make_year(
        info, 320.0, months=[make_month(1, 110.0, 75.0, 500.0), make_month(2, 210.0, 90.0, None)]
    )
    own = own_baseline(current, previous)
    assert own is not None and own.months == 2
    # January: 40 + 60 × 500/400 = 115; February: no degree days this year, as measured: 200.
    assert own.baseline_kwh == pytest.approx(115.0 + 200.0)
    assert own.actual_kwh == 320.0


def test_months_not_covered_by_both_years_are_left_out() -> None:
    info = make_info()
    previous = make_year(
        info,
        0.0,
        year=2024,
        months=[make_month(1, 100.0, year=2024), make_month(2, 80.0, year=2024)],
    )
    half_metered = replace(make_month(2, 200.0), coverage=0.5)
    current = make_year(info, 0.0, months=[make_month(1, 90.0), half_metered, make_month(3, 50.0)])
    own = own_baseline(current, previous)
    assert own is not None and (own.months, own.baseline_kwh, own.actual_kwh) == (1, 100.0, 90.0)
    assert own_baseline(current, None) is None


def test_ranking_by_the_largest_potential_in_euros() -> None:
    schools = [make_info(f"s{k}", floor_area_m2=1000.0) for k in range(4)]
    office = make_info("office", activity_category="bureaux", floor_area_m2=500.0)
    years = [
        make_year(schools[0], 100_000.0),  # 100 kWh/m²
        make_year(schools[1], 150_000.0),  # 150: 30 above the median, 30 above national
        make_year(schools[2], 120_000.0),
        make_year(schools[3], 130_000.0, price=0.30),  # 10 above the median but dearer energy
        make_year(office, 100_000.0),  # alone in its category
    ]
    previous = {
        "office": make_year(
            office, 0.0, year=2024, months=[make_month(m, 7_000.0, year=2024) for m in range(1, 13)]
        )
    }
    years[4] = make_year(office, 100_000.0, months=[make_month(m, 8_000.0) for m in range(1, 13)])

    ranked = rank_savings(years, previous, {"enseignement": 110.0})

    by = {s.building: s for s in ranked}
    assert by["s1"].peer_median_kwh_m2 == 125.0 and by["s1"].peer_count == 4
    assert by["s1"].peers_kwh == 25_000.0 and by["s1"].national_kwh == 40_000.0
    assert by["s1"].best_kwh == 40_000.0 and by["s1"].best_basis == "national"
    assert by["s1"].best_eur == pytest.approx(6_000.0)
    assert by["s3"].best_eur == pytest.approx(20_000.0 * 0.30)  # national: 130 - 110
    assert by["s0"].peers_kwh == 0.0 and by["s0"].national_kwh == 0.0
    assert by["office"].peer_median_kwh_m2 is None  # fewer than 3 peers
    assert by["office"].own_kwh == 12 * 1_000.0 and by["office"].best_basis == "own"
    # 6,000 € twice (the larger kWh first), then 1,800 €, 1,500 € and nothing.
    assert [s.building for s in ranked] == ["s1", "s3", "office", "s2", "s0"]
    assert [s.rank for s in ranked] == [1, 2, 3, 4, 5]


def test_a_year_in_progress_is_not_held_to_the_annual_national_reference() -> None:
    info = make_info(floor_area_m2=1000.0)
    [s] = rank_savings([make_year(info, 150_000.0, partial=True)], {}, {"enseignement": 110.0})
    assert s.national_kwh is None and s.best_kwh is None and s.rank == 1
