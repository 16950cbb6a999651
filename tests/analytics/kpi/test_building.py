"""A building's year: totals that reconcile with the raw readings, degree days, corrections."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.kpi.building import BuildingYear, building_year
from analytics.kpi.degree_days import dj_costic, dj_meteo
from analytics.kpi.inventory import building_info
from core.config import KpiSettings
from core.series import NS, from_ns
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from tests.analytics.kpi.conftest import (
    GAS_RESET,
    NOW,
    OUTDOOR,
    SECOND,
    SILENT,
    SITES,
    START_2026,
    SUBMETER,
    YEAR,
    raw_kwh,
)

PARIS = ZoneInfo("Europe/Paris")
START = datetime(YEAR, 1, 1, tzinfo=PARIS).astimezone(UTC)


def local_months(year: int) -> list[datetime]:
    return [
        datetime(year + m // 12, m % 12 + 1, 1, tzinfo=PARIS).astimezone(UTC) for m in range(13)
    ]


@pytest.fixture
def school(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> BuildingYear:
    info = building_info(kpi_state, "ecole-jaures")
    assert info is not None
    return building_year(kpi_store, info, YEAR, NOW, kpi_settings)


@pytest.mark.parametrize("k", range(len(SITES)), ids=[s.building for s in SITES])
def test_year_and_month_totals_reconcile_exactly_with_the_raw_readings(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings, k: int
) -> None:
    site = SITES[k]
    info = building_info(kpi_state, site.building)
    assert info is not None
    by = building_year(kpi_store, info, YEAR, NOW, kpi_settings)
    edges = local_months(YEAR)
    carriers = {"electricity": [site.linky]} | ({"gas": [site.gas]} if site.gas else {})

    for carrier, devices in carriers.items():
        [found] = [c for c in by.carriers if c.carrier == carrier]
        assert found.energy_kwh == raw_kwh(kpi_store, devices, edges[0], edges[-1])
        monthly = [m.by_carrier_kwh[carrier] for m in by.months]
        assert monthly == [raw_kwh(kpi_store, devices, a, b) for a, b in itertools.pairwise(edges)]
    assert by.energy_kwh == sum(c.energy_kwh for c in by.carriers)
    assert by.energy_kwh_m2 == by.energy_kwh / site.area_m2
    assert [m.month for m in by.months] == [date(YEAR, m, 1) for m in range(1, 13)]
    assert not by.partial and by.coverage == 1.0


def test_a_meter_replacement_loses_one_interval_and_is_told(
    school: BuildingYear, kpi_store: SqliteStore
) -> None:
    [gas] = [c for c in school.carriers if c.carrier == "gas"]
    assert gas.resets == 1
    assert ("meter_reset", SITES[0].gas, 1.0) in [
        (n.code, n.subject, n.value) for n in school.notes
    ]
    # The hour across the replacement counts nothing; summing raw differences would go negative.
    before = kpi_store.read(
        Selection.of("energy_kwh", devices=[SITES[0].gas or ""]),
        GAS_RESET - timedelta(hours=1),
        GAS_RESET + SECOND,
    )
    _, values = before.series(0)
    assert values[1] < values[0]


def test_a_silent_meter_keeps_its_energy_and_says_how_long_it_was_spread(
    school: BuildingYear,
) -> None:
    [elec] = [c for c in school.carriers if c.carrier == "electricity"]
    silent_s = (SILENT[1] - SILENT[0]).total_seconds()  # readings at both ends
    year_s = (local_months(YEAR)[-1] - START).total_seconds()
    assert elec.gap_share == pytest.approx(silent_s / year_s)
    assert elec.coverage == 1.0


def test_a_submeter_is_left_out_and_named(school: BuildingYear) -> None:
    assert ("submeter_left_out", SUBMETER) in [(n.code, n.subject) for n in school.notes]
    assert all(SUBMETER not in c.meters for c in school.carriers)


def _raw_degree_days(store: SqliteStore, first: date, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Tn/Tx recomputed from the raw outdoor readings by the Météo-France windows."""
    start = datetime.combine(first, datetime.min.time(), UTC) - timedelta(hours=6)
    series = store.read(
        Selection.of("temperature_c", devices=[OUTDOOR], channel="ext"),
        start,
        start + timedelta(days=days + 1),
    )
    times, values = series.series(0)
    when = np.array([from_ns(int(t)) for t in times])
    tn, tx = [], []
    for d in range(days):
        day = datetime.combine(first + timedelta(days=d), datetime.min.time(), UTC)
        low = (when >= day - timedelta(hours=6)) & (when < day + timedelta(hours=18))
        high = (when >= day + timedelta(hours=6)) & (when < day + timedelta(hours=30))
        tn.append(values[low].min())
        tx.append(values[high].max())
    return np.array(tn), np.array(tx)


def test_degree_days_of_the_year_match_a_recomputation_from_raw_readings(
    school: BuildingYear, kpi_store: SqliteStore
) -> None:
    tn, tx = _raw_degree_days(kpi_store, date(YEAR, 1, 1), 365)
    assert school.degree_days_costic == pytest.approx(float(dj_costic(tn, tx).sum()), rel=1e-12)
    assert school.degree_days_meteo == pytest.approx(float(dj_meteo(tn, tx).sum()), rel=1e-12)
    january = school.months[0]
    assert january.degree_days_costic == pytest.approx(float(dj_costic(tn[:31], tx[:31]).sum()))
    # Spring and autumn days straddle 18 °C: the COSTIC method counts more than Météo.
    assert (school.degree_days_costic or 0.0) > (school.degree_days_meteo or 0.0)


def test_heating_is_climate_corrected_to_the_normals(
    school: BuildingYear, kpi_settings: KpiSettings
) -> None:
    january = school.months[0]
    assert january.heating_kwh == january.by_carrier_kwh["gas"]  # gas heats, electricity not
    assert january.heating_corrected_kwh == pytest.approx(
        january.heating_kwh * 420.0 / (january.degree_days_costic or 0.0)
    )
    normals = sum(kpi_settings.degree_day_normals)
    assert school.heating_corrected_kwh == pytest.approx(
        school.heating_kwh * normals / (school.degree_days_costic or 0.0)
    )


def test_without_normals_heating_is_not_corrected(
    kpi_state: StateStore, kpi_store: SqliteStore
) -> None:
    info = building_info(kpi_state, "ecole-jaures")
    assert info is not None
    by = building_year(kpi_store, info, YEAR, NOW, KpiSettings(), baseload=False)
    assert by.heating_corrected_kwh is None and by.months[0].heating_corrected_kwh is None
    assert "no_degree_day_normals" in [n.code for n in by.notes]


def test_co2e_and_cost_use_the_carriers_factors(school: BuildingYear) -> None:
    kwh = {c.carrier: c.energy_kwh for c in school.carriers}
    assert school.co2e_kg == pytest.approx(kwh["electricity"] * 0.052 + kwh["gas"] * 0.227 * 0.9)
    assert school.cost_eur == pytest.approx(kwh["electricity"] * 0.20 + kwh["gas"] * 0.10)


def test_baseload_is_the_tenth_percentile_of_hourly_electricity(
    school: BuildingYear, kpi_store: SqliteStore
) -> None:
    october = school.months[9]  # no gap, 31 days and 1 hour (DST ends)
    a, b = local_months(YEAR)[9:11]
    series = kpi_store.read(Selection.of("energy_kwh", devices=[SITES[0].linky]), a, b + SECOND)
    hourly = np.sum([np.diff(series.series(i)[1]) for i in range(len(series))], axis=0)
    hours = (b - a) / timedelta(hours=1)
    assert hours == 31 * 24 + 1
    expected = np.percentile(hourly, 10) * hours / hourly.sum()
    assert october.baseload_share == pytest.approx(expected)
    assert 0.1 < (school.baseload_share or 0.0) < 0.6


def test_a_year_in_progress_stops_now(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    info = building_info(kpi_state, "ecole-jaures")
    assert info is not None
    by = building_year(kpi_store, info, 2026, NOW, kpi_settings)
    assert by.partial and by.start == START_2026 and by.end == NOW
    assert [(m.month, m.elapsed) for m in by.months] == [
        (date(2026, 1, 1), True),
        (date(2026, 2, 1), False),
    ]
    assert by.months[1].by_carrier_kwh["gas"] == raw_kwh(
        kpi_store, [SITES[0].gas or ""], datetime(2026, 1, 31, 23, tzinfo=UTC), NOW
    )
    with pytest.raises(ValueError, match="has not started"):
        building_year(kpi_store, info, 2027, NOW, kpi_settings)


def test_a_year_before_the_readings_has_no_data(
    kpi_state: StateStore, kpi_store: SqliteStore, kpi_settings: KpiSettings
) -> None:
    info = building_info(kpi_state, "ecole-jaures")
    assert info is not None
    by = building_year(kpi_store, info, 2019, NOW, kpi_settings, baseload=False)
    assert by.energy_kwh == 0.0 and by.coverage == 0.0 and not by.has_data
    assert by.degree_days_costic is None
    assert ("meter_without_readings", SITES[0].linky) in [(n.code, n.subject) for n in by.notes]
    _ = NS
