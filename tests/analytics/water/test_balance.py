"""Sector water balance from real stores (SQLite and InfluxDB), against volumes done by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.water.balance import COMPLETE, MISSING, PARTIAL, sector_balance
from core.reading import Reading
from core.stores.sqlite import SqliteStore
from core.timeseries import TimeSeriesStore

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 3, tzinfo=UTC)
INFLOW, OUTFLOW = "a000000000000001", "a000000000000002"
HOURLY, DAILY, LATE, RESET, SILENT = (f"c00000000000000{k}" for k in range(1, 6))
H = timedelta(hours=1)


def _readings() -> list[Reading]:
    r: list[Reading] = []
    for h in range(-72, 96):  # 27 Feb to 5 Mar
        t = START + h * H
        r.append(Reading(t, INFLOW, "volume_m3", 1000.0 + 2.0 * h))  # 2 m³/h
        r.append(Reading(t, HOURLY, "volume_m3", 50.0 + 0.5 * h))  # 0.5 m³/h
        # 0.1 m³/h on a register reset to zero at 12:00 on 1 March: that hour is lost.
        r.append(Reading(t, RESET, "volume_m3", 500.0 + 0.1 * h if h < 12 else 0.1 * (h - 12)))
        if h >= 24:  # reports from 2 March only: half the period
            r.append(Reading(t, LATE, "volume_m3", 7.0 + 0.25 * (h - 24)))
    for q in range(-8 * 24, 4 * 24 * 5):  # a flow meter every 15 minutes, 0.5 m³/h
        r.append(Reading(START + q * H / 4, OUTFLOW, "flow_m3h", 0.5))
    # Once a day at 12:00 UTC: 10, then 20, then 6 m³ between readings.
    for day, index in ((-1, 100.0), (0, 110.0), (1, 130.0), (2, 136.0)):
        r.append(Reading(START + timedelta(days=day, hours=12), DAILY, "volume_m3", index))
    return r


def _check(store: TimeSeriesStore) -> None:
    store.write(_readings(), {d: {"tenant": "ca-test"} for d in (INFLOW, OUTFLOW, DAILY)})
    b = sector_balance(store, START, END, [INFLOW], [OUTFLOW], [HOURLY, DAILY, LATE, RESET, SILENT])
    assert b.inflow_m3 == pytest.approx(96.0)  # 48 h × 2 m³/h
    assert b.outflow_m3 == pytest.approx(24.0)  # 48 h × 0.5 m³/h, integrated
    assert b.input_m3 == pytest.approx(72.0)
    by = {m.device: m for m in b.meters}
    assert by[HOURLY].volume_m3 == pytest.approx(24.0)
    # Daily: half of 10 (noon to midnight) + 20 + half of 6 (midnight to noon).
    assert by[DAILY].volume_m3 == pytest.approx(28.0)
    assert by[DAILY].coverage == COMPLETE
    # Late: 24 h × 0.25 = 6 m³ seen over half the period, extrapolated to 12.
    assert by[LATE].coverage == PARTIAL
    assert by[LATE].covered_share == pytest.approx(0.5)
    assert by[LATE].volume_m3 == pytest.approx(12.0)
    assert by[RESET].volume_m3 == pytest.approx(4.7)  # 47 of 48 hours at 0.1 m³/h
    assert by[SILENT].coverage == MISSING and by[SILENT].volume_m3 is None
    assert b.consumption_m3 == pytest.approx(24 + 28 + 12 + 4.7)
    assert b.non_revenue_m3 == pytest.approx(72 - 68.7)
    assert b.non_revenue_share == pytest.approx(3.3 / 72)
    assert (b.consumer_coverage.meters, b.consumer_coverage.complete) == (5, 3)
    assert (b.consumer_coverage.partial, b.consumer_coverage.missing) == (1, 1)
    assert (b.inflow_coverage.complete, b.outflow_coverage.complete) == (1, 1)


def test_balance_on_a_sqlite_store(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "balance.sqlite")
    try:
        _check(store)
    finally:
        store.close()


def test_balance_on_every_store(store: TimeSeriesStore) -> None:
    _check(store)


def test_a_period_that_ends_before_it_starts_is_refused(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite")
    try:
        with pytest.raises(ValueError, match="must be after"):
            sector_balance(store, END, START, [INFLOW])
        empty = sector_balance(store, START, END, [INFLOW], consumers=[HOURLY])
        assert empty.non_revenue_share is None
        assert empty.inflow_coverage.missing == 1
    finally:
        store.close()
