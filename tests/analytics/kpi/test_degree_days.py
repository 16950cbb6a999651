"""Degree days base 18 °C: both methods on hand-computed days, the Météo-France day, months."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analytics.kpi.degree_days import (
    DailyTemperatures,
    OutdoorProbe,
    daily_temperatures,
    dj_costic,
    dj_meteo,
    monthly_degree_days,
)
from core.reading import Reading
from core.stores.sqlite import SqliteStore

PROBE = "a840410000f70001"

# (Tn, Tx, Météo, COSTIC), computed by hand with S = 18 °C.
DAYS = [
    pytest.param(2.0, 8.0, 13.0, 13.0, id="cold day: both are S - mean"),
    pytest.param(-6.0, 1.0, 20.5, 20.5, id="frost"),
    pytest.param(6.0, 18.0, 6.0, 6.0, id="Tx = S: the methods meet"),
    pytest.param(18.0, 25.0, 0.0, 0.0, id="Tn = S: nothing to heat"),
    pytest.param(20.0, 28.0, 0.0, 0.0, id="warm day"),
    # (18 - 10) * (0.08 + 0.42 * 8 / 12) = 8 * 0.36
    pytest.param(10.0, 22.0, 2.0, 2.88, id="Tn < S < Tx, mean below S"),
    # mean 22 above S: Météo says 0, the cold morning still counts: 4 * (0.08 + 0.42 * 4 / 16)
    pytest.param(14.0, 30.0, 0.0, 0.74, id="Tn < S < Tx, mean above S"),
    # 1 * (0.08 + 0.42 * 1 / 2)
    pytest.param(17.0, 19.0, 0.0, 0.29, id="Tn < S < Tx, mean exactly S"),
]


@pytest.mark.parametrize(("tn", "tx", "meteo", "costic"), DAYS)
def test_hand_computed_days(tn: float, tx: float, meteo: float, costic: float) -> None:
    assert dj_meteo(np.array([tn]), np.array([tx]))[0] == pytest.approx(meteo, abs=1e-12)
    assert dj_costic(np.array([tn]), np.array([tx]))[0] == pytest.approx(costic, abs=1e-12)


def test_the_costic_method_is_continuous_where_its_cases_meet() -> None:
    tn = np.array([5.0, 5.0, 18.0 - 1e-9])
    tx = np.array([18.0 - 1e-9, 18.0 + 1e-9, 24.0])
    assert dj_costic(tn, tx) == pytest.approx([6.5, 6.5, 0.0], abs=1e-6)


def test_an_inverted_day_gives_no_value() -> None:
    assert np.isnan(dj_costic(np.array([10.0]), np.array([5.0]))[0])


def _hourly(first: datetime, hours: int, value: float) -> list[Reading]:
    return [
        Reading(first + timedelta(hours=h), PROBE, "temperature_c", value, "ext")
        for h in range(hours)
    ]


def test_tn_and_tx_follow_the_meteo_france_day(tmp_path: Path) -> None:
    """Tn of day D: 18:00 UTC on D-1 to 18:00 UTC on D; Tx: 06:00 UTC on D to 06:00 UTC on D+1.

    A cold evening (20:00 in Paris on the 14th) is the 15th's minimum, and a warm night
    (04:00 in Paris on the 16th) is the 15th's maximum; local calendar days would put them on
    the 14th and the 16th."""
    store = SqliteStore(tmp_path / "series.sqlite")
    readings = _hourly(datetime(2025, 1, 13, tzinfo=UTC), 5 * 24, 5.0)
    cold = datetime(2025, 1, 14, 19, tzinfo=UTC)
    warm = datetime(2025, 1, 16, 3, tzinfo=UTC)
    readings = [r for r in readings if r.time not in (cold, warm)]
    readings += [
        Reading(cold, PROBE, "temperature_c", -4.0, "ext"),
        Reading(warm, PROBE, "temperature_c", 14.0, "ext"),
    ]
    store.write(readings)

    daily = daily_temperatures(
        store, [OutdoorProbe(PROBE, "ext")], date(2025, 1, 14), date(2025, 1, 16)
    )

    assert daily.tn.tolist() == [5.0, -4.0, 5.0]
    assert daily.tx.tolist() == [5.0, 14.0, 5.0]
    assert dj_meteo(daily.tn, daily.tx).tolist() == [13.0, 13.0, 13.0]
    store.close()


def test_a_day_with_an_empty_six_hour_window_is_not_counted(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "series.sqlite")
    readings = _hourly(datetime(2025, 1, 13, tzinfo=UTC), 5 * 24, 5.0)
    hole = [datetime(2025, 1, 15, h, tzinfo=UTC) for h in range(12, 18)]  # 12:00-18:00 UTC
    store.write([r for r in readings if r.time not in hole])

    daily = daily_temperatures(
        store, [OutdoorProbe(PROBE, "ext")], date(2025, 1, 14), date(2025, 1, 16)
    )

    # That window is in the 15th's Tn and Tx: only the 15th is lost.
    assert daily.valid.tolist() == [True, False, True]
    store.close()


def test_probes_are_combined_by_their_median(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "series.sqlite")
    first = datetime(2025, 1, 13, tzinfo=UTC)
    store.write(
        [
            *_hourly(first, 4 * 24, 4.0),
            *[
                Reading(first + timedelta(hours=h), "a840410000f70002", "temperature_c", 6.0)
                for h in range(4 * 24)
            ],
            *[
                Reading(first + timedelta(hours=h), "a840410000f70003", "temperature_c", 40.0)
                for h in range(4 * 24)
            ],
        ]
    )
    probes = [
        OutdoorProbe(PROBE, "ext"),
        OutdoorProbe("a840410000f70002", None),
        OutdoorProbe("a840410000f70003", None),  # a probe in the sun
    ]
    daily = daily_temperatures(store, probes, date(2025, 1, 14), date(2025, 1, 15))
    assert daily.tn.tolist() == daily.tx.tolist() == [6.0, 6.0]
    store.close()


def test_months_sum_their_days_and_scale_a_few_missing_ones() -> None:
    tn = np.full(59, 2.0)  # January and February 2025
    tx = np.full(59, 8.0)  # 13 degree days a day by both methods
    tn[40:45] = np.nan  # 5 of February's 28 days missing: 82 % valid, scaled
    daily = DailyTemperatures(date(2025, 1, 1), tn, tx)

    january, february = monthly_degree_days(daily)

    assert (january.month, january.meteo, january.costic) == (date(2025, 1, 1), 403.0, 403.0)
    assert (february.days, february.valid_days) == (28, 23)
    assert february.costic == pytest.approx(13.0 * 28)


def test_a_month_with_too_many_missing_days_has_no_value() -> None:
    tn = np.full(31, 2.0)
    tn[:7] = np.nan  # 24 of 31 valid: 77 %
    daily = DailyTemperatures(date(2025, 1, 1), tn, np.full(31, 8.0))
    [january] = monthly_degree_days(daily)
    assert january.meteo is None and january.costic is None and january.valid_days == 24


def test_days_from_until_on_are_left_out() -> None:
    daily = DailyTemperatures(date(2025, 3, 1), np.full(31, 2.0), np.full(31, 8.0))
    [march] = monthly_degree_days(daily, until=date(2025, 3, 11))
    assert (march.days, march.costic) == (10, 130.0)
