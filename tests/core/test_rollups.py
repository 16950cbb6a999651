"""Rollups on both stores: a year of them answers as the raw data does, late readings included,
and a purge of raw readings never removes what the rollups do not cover yet."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from core.quantities import QUANTITIES
from core.reading import Reading
from core.retention import raw_only
from core.series import NS, SeriesGrid
from core.stores.sqlite import SqliteStore
from core.timeseries import Agg, Selection, StoreError
from tests.services import influx_query

PARIS = ZoneInfo("Europe/Paris")
YEAR = (datetime(2026, 1, 1, tzinfo=PARIS), datetime(2027, 1, 1, tzinfo=PARIS))
DEVICES = ("a840410000000001", "a840410000000002")
TAGS = {d: {"tenant": "t1", "site": f"s{i}"} for i, d in enumerate(DEVICES)}
GAP = (datetime(2026, 6, 10, tzinfo=UTC), datetime(2026, 6, 17, 5, 30, tzinfo=UTC))
CUMULATIVE_AGGS = (Agg.COUNT, Agg.MIN, Agg.MAX, Agg.FIRST, Agg.LAST)


def year_of_readings(seed: int = 7) -> list[Reading]:
    """About every 20 minutes with jitter, a temperature and a water register per device, a
    week of silence in June; time-major, as a network delivers them."""
    rng = np.random.default_rng(seed)
    start = YEAR[0].astimezone(UTC)
    n = 365 * 72
    offsets = np.arange(n) * 1200 + rng.integers(-300, 300, n)
    out: list[Reading] = []
    register = {d: float(rng.uniform(100, 500)) for d in DEVICES}
    for k, off in enumerate(offsets.tolist()):
        t = start + timedelta(seconds=off)
        if t < YEAR[0] or GAP[0] <= t < GAP[1]:
            continue
        for i, d in enumerate(DEVICES):
            temp = 14 + 8 * np.sin(k / 500 + i) + float(rng.normal(0, 0.7))
            register[d] += float(rng.exponential(0.02))
            out.append(Reading(t, d, "temperature_c", round(temp, 3)))
            out.append(Reading(t, d, "volume_m3", round(register[d], 4)))
    return out


def write(store: object, readings: list[Reading], call: int = 6000) -> None:
    for i in range(0, len(readings), call):
        result = store.write(readings[i : i + call], TAGS)  # type: ignore[attr-defined]
        assert result.accepted == len(readings[i : i + call]) and not result.rejected


@pytest.fixture(scope="module")
def readings() -> list[Reading]:
    return year_of_readings()


@pytest.fixture
def reference(tmp_path: Path, readings: list[Reading]) -> Iterator[SqliteStore]:
    """The same readings in a store without rollups: every answer comes from raw points."""
    ref = SqliteStore(tmp_path / "reference.sqlite", rollups=None)
    write(ref, readings, call=50_000)
    yield ref
    ref.close()


def same(got: SeriesGrid, want: SeriesGrid) -> None:
    assert got.keys == want.keys
    assert got.tags == want.tags
    np.testing.assert_array_equal(got.starts, want.starts)
    np.testing.assert_array_equal(got.ends, want.ends)
    np.testing.assert_allclose(got.values, want.values, rtol=1e-10, atol=1e-9, equal_nan=True)


CASES = [
    ("temperature_c", every, agg, tz)
    for every, tz in (
        ("1d", "Europe/Paris"),
        ("1w", "Europe/Paris"),
        ("1mo", "Europe/Paris"),
        ("6h", "UTC"),
        ("1d", "UTC"),
    )
    for agg in Agg
] + [
    ("volume_m3", every, agg, "Europe/Paris") for every in ("1d", "1mo") for agg in CUMULATIVE_AGGS
]


def test_a_year_of_rollups_answers_as_the_raw_data(
    store: SqliteStore, reference: SqliteStore, readings: list[Reading]
) -> None:
    write(store, readings)
    for quantity, every, agg, tz in CASES:
        sel = Selection.of(quantity, where={"tenant": "t1"})
        got = store.aggregate(sel, *YEAR, every, agg, tz)
        same(got, reference.aggregate(sel, *YEAR, every, agg, tz))
    # Both 2026 DST days are among the windows compared: 23 and 25 hours long.
    days = store.aggregate(Selection.of("temperature_c"), *YEAR, "1d", Agg.COUNT, "Europe/Paris")
    lengths = set(((days.ends - days.starts) // (3600 * NS)).tolist())
    assert lengths == {23, 24, 25}
    assert np.all(days.values[:, 161:167] == 0)  # the silent week is empty, not zero-valued


def test_a_span_with_ragged_ends_reads_raw_points_at_the_ends(
    store: SqliteStore, reference: SqliteStore, readings: list[Reading]
) -> None:
    write(store, readings[: len(readings) // 3])
    start = datetime(2026, 1, 3, 7, 42, 13, tzinfo=UTC)
    end = datetime(2026, 3, 30, 21, 5, tzinfo=UTC)
    for every, tz in (("1d", "Europe/Paris"), ("1h", "UTC")):
        for agg in Agg:
            sel = Selection.of("temperature_c", devices=[DEVICES[1]])
            same(
                store.aggregate(sel, start, end, every, agg, tz),
                reference.aggregate(sel, start, end, every, agg, tz),
            )


def test_late_and_out_of_order_readings_update_the_rollups(
    store: SqliteStore, reference: SqliteStore, readings: list[Reading]
) -> None:
    spring = [r for r in readings if r.time < datetime(2026, 4, 15, tzinfo=UTC)]
    late = [r for r in spring if datetime(2026, 3, 28, tzinfo=PARIS) <= r.time]
    late_set = set(late)
    write(store, [r for r in spring if r not in late_set])
    span = (datetime(2026, 3, 1, tzinfo=PARIS), datetime(2026, 4, 15, tzinfo=PARIS))
    sel = Selection.of("temperature_c")
    before = store.aggregate(sel, *span, "1d", Agg.COUNT, "Europe/Paris")
    assert before.values[0, 27:].sum() == 0  # from 28 March on: nothing yet
    # The missing fortnight arrives newest first, and an old reading is sent again corrected.
    write(store, late[::-1])
    fix = Reading(late[10].time, late[10].device, late[10].quantity, 99.0)
    store.write([fix], TAGS)
    reference.write([fix], TAGS)
    for agg in Agg:
        same(
            store.aggregate(sel, *span, "1d", agg, "Europe/Paris"),
            reference.aggregate(sel, *span, "1d", agg, "Europe/Paris"),
        )
    assert store.aggregate(sel, *span, "1d", Agg.MAX, "Europe/Paris").values.max() == 99.0


def test_a_purge_keeps_the_answers_and_only_covered_raw_points(
    store: SqliteStore,
    reference: SqliteStore,
    readings: list[Reading],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    write(store, readings)
    store.refresh_rollups()  # as the hourly timer does
    sel = Selection.of("temperature_c")
    now = datetime(2027, 1, 1, tzinfo=UTC)
    keep = raw_only({q: timedelta(days=60) for q in QUANTITIES})
    cutoff = datetime(2026, 11, 2, tzinfo=UTC)  # now − 60 days
    # Another writer marks March hours after this purge's own refresh ran: simulated by a
    # purge that finds the marks but does not refresh them first.
    marked = datetime(2026, 3, 12, 9, tzinfo=UTC)
    store.write([Reading(marked, DEVICES[0], "temperature_c", 55.5)], TAGS)
    reference.write([Reading(marked, DEVICES[0], "temperature_c", 55.5)], TAGS)
    if isinstance(store, SqliteStore):
        monkeypatch.setattr(store, "_refresh", lambda *a, **k: 0)
    else:
        monkeypatch.setattr(store.rollups, "refresh", lambda *a, **k: 0)
    store.purge(keep, now)
    kept = store.read(sel, datetime(2026, 1, 1, tzinfo=UTC), cutoff)
    first_kept = min(int(kept.series(i)[0][0]) for i in range(len(kept)))
    assert first_kept <= int(marked.timestamp()) * NS  # the marked hour and all after it
    before = store.read(sel, datetime(2026, 1, 1, tzinfo=UTC), marked)
    assert len(before.times) == 0  # what the rollups covered before it is gone
    monkeypatch.undo()

    store.purge(keep, now)
    assert len(store.read(sel, datetime(2026, 1, 1, tzinfo=UTC), cutoff).times) == 0
    assert len(store.read(sel, cutoff, now).times) > 0
    for agg in Agg:
        same(
            store.aggregate(sel, *YEAR, "1d", agg, "Europe/Paris"),
            reference.aggregate(sel, *YEAR, "1d", agg, "Europe/Paris"),
        )
    # A reading that arrives for a purged month joins its rollups, exactly once.
    late = Reading(datetime(2026, 2, 3, 10, 15, tzinfo=UTC), DEVICES[1], "temperature_c", -9.0)
    for s in (store, reference):
        s.write([late], TAGS)
    store.refresh_rollups()
    store.refresh_rollups()
    for agg in (Agg.MEAN, Agg.COUNT, Agg.MIN):
        same(
            store.aggregate(sel, *YEAR, "1mo", agg, "Europe/Paris"),
            reference.aggregate(sel, *YEAR, "1mo", agg, "Europe/Paris"),
        )


def test_sqlite_rolls_up_readings_written_before_rollups_existed(
    tmp_path: Path, reference: SqliteStore, readings: list[Reading]
) -> None:
    winter = [r for r in readings if r.time < datetime(2026, 4, 1, tzinfo=UTC)]
    old = SqliteStore(tmp_path / "old.sqlite", rollups=None)
    write(old, winter, call=50_000)
    old.close()
    store = SqliteStore(tmp_path / "old.sqlite")  # rollups on: every stored hour is marked
    now = datetime(2026, 4, 1, tzinfo=UTC)
    store.purge(raw_only({q: timedelta(days=30) for q in QUANTITIES}), now)
    sel = Selection.of("temperature_c")
    assert len(store.read(sel, YEAR[0], now - timedelta(days=30)).times) == 0
    span = (YEAR[0], datetime(2026, 4, 1, tzinfo=PARIS))
    for agg in Agg:
        same(
            store.aggregate(sel, *span, "1d", agg, "Europe/Paris"),
            reference.aggregate(sel, *span, "1d", agg, "Europe/Paris"),
        )
    store.close()


def test_influx_refuses_to_purge_readings_written_before_rollups_existed(
    influx_server: Any, readings: list[Reading]
) -> None:
    from core.stores.influx import InfluxStore

    database = f"vigie_test_{uuid.uuid4().hex[:12]}"
    old = InfluxStore(influx_server.url, database, rollups=None)
    old.create_database()
    winter = [r for r in readings if r.time < datetime(2026, 2, 1, tzinfo=UTC)]
    write(old, winter)
    store = InfluxStore(influx_server.url, database)
    store.ensure_retention()
    try:
        with pytest.raises(StoreError, match="before rollups existed"):
            store.purge(
                raw_only({q: timedelta(days=1) for q in QUANTITIES}),
                datetime(2027, 1, 1, tzinfo=UTC),
            )
        kept = store.read(Selection.of("temperature_c"), *YEAR)
        assert len(kept.times) == sum(r.quantity == "temperature_c" for r in winter)
    finally:
        store.close()
        old.close()
        influx_query(influx_server.url, f'DROP DATABASE "{database}"')


def test_writes_can_roll_up_the_days_they_leave_behind(
    tmp_path: Path, influx_server: Any, readings: list[Reading]
) -> None:
    from core.stores.influx import InfluxStore
    from core.stores.rollup import RollupConfig

    config = RollupConfig(refresh_in_writes=True)
    week = [r for r in readings if r.time < datetime(2026, 1, 8, tzinfo=UTC)]
    sqlite = SqliteStore(tmp_path / "eager.sqlite", rollups=config)
    database = f"vigie_test_{uuid.uuid4().hex[:12]}"
    influx = InfluxStore(influx_server.url, database, rollups=config)
    influx.create_database()
    try:
        write(sqlite, week, call=500)
        write(influx, week, call=500)
        # Without any read or refresh: every day but the last one is rolled up.
        days = sqlite._reader().execute("SELECT COUNT(DISTINCT t) FROM rollup_1d").fetchone()[0]
        assert days == 7
        assert influx.rollups is not None
        _, rows = influx.rollups.read("temperature_c", "1d", "time >= 0")
        assert len(set(rows.t.tolist())) == 7
    finally:
        sqlite.close()
        influx.close()
        influx_query(influx_server.url, f'DROP DATABASE "{database}"')
