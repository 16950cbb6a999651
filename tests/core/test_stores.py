"""One conformance suite for every TimeSeriesStore: what ingest writes, analytics reads back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from core.quantities import VOCABULARY, Quantity
from core.reading import Reading
from core.series import NS, FloatArray, Int64Array, SeriesGrid, SeriesKey, SeriesSet, to_ns
from core.timeseries import (
    ANY_CHANNEL,
    Agg,
    AnyChannel,
    Selection,
    Tags,
    TimeSeriesStore,
    WriteResult,
)

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600 * NS
HOUR_TD = timedelta(hours=1)
EVER = (datetime(1990, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
A, B, C = "70b3d5e75e00000a", "70b3d5e75e00000b", "70b3d5e75e00000c"


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def devices(n: int, first: int = 0) -> list[str]:
    return [f"a84041{i:010x}" for i in range(first, first + n)]


def write_all(
    store: TimeSeriesStore, readings: Sequence[Reading], tags: Mapping[str, Tags] | None = None
) -> WriteResult:
    result = store.write(readings, tags)
    assert result.rejected == []
    assert result.accepted == len(readings)
    return result


def everything(store: TimeSeriesStore, quantity: str, **selection: object) -> SeriesSet:
    return store.read(Selection.of(quantity, **selection), *EVER)  # type: ignore[arg-type]


def as_dict(s: SeriesSet) -> dict[SeriesKey, list[tuple[int, float]]]:
    """Each series as its (ns, value) points, for comparisons that read as data."""
    out = {}
    for i, key in enumerate(s.keys):
        times, values = s.series(i)
        out[key] = list(zip(times.tolist(), values.tolist(), strict=True))
    return out


def expected(readings: Iterable[Reading]) -> dict[SeriesKey, list[tuple[int, float]]]:
    """What a read of these readings must give: the last write of a time wins, sorted by time."""
    latest: dict[SeriesKey, dict[int, float]] = {}
    for r in readings:
        latest.setdefault(SeriesKey(r.device, r.quantity, r.channel), {})[to_ns(r.time)] = r.value
    return {k: sorted(points.items()) for k, points in latest.items()}


# -- write and read back ---------------------------------------------------------------------------


def test_ping_answers(store: TimeSeriesStore) -> None:
    store.ping()


def test_writing_nothing_accepts_nothing(store: TimeSeriesStore) -> None:
    result = store.write([])
    assert (result.accepted, result.rejected) == (0, [])


def test_written_readings_read_back_identical(store: TimeSeriesStore) -> None:
    readings = [
        Reading(T0 + timedelta(minutes=10 * i), d, "temperature_c", 18.0 + i / 8, None)
        for i in range(12)
        for d in (A, B)
    ]
    write_all(store, readings, {A: {"tenant": "t1"}, B: {"tenant": "t1"}})
    back = everything(store, "temperature_c")
    assert as_dict(back) == expected(readings)
    assert back.keys == [SeriesKey(A, "temperature_c", None), SeriesKey(B, "temperature_c", None)]
    assert sorted(back.readings(), key=lambda r: (r.device, r.time)) == sorted(
        readings, key=lambda r: (r.device, r.time)
    )


def test_read_returns_points_in_time_order_whatever_the_write_order(store: TimeSeriesStore) -> None:
    order = np.random.default_rng(7).permutation(50)
    readings = [Reading(T0 + timedelta(hours=int(i)), A, "co2_ppm", float(400 + i)) for i in order]
    write_all(store, readings)
    times, values = everything(store, "co2_ppm").series(0)
    assert np.all(np.diff(times) > 0)
    assert values.tolist() == [400.0 + i for i in range(50)]


def test_series_set_is_a_csr_layout_of_int64_ns_and_float64(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "power_w", 1.0), Reading(T0, B, "power_w", 2.0)])
    s = everything(store, "power_w")
    assert [s.offsets.dtype, s.times.dtype, s.values.dtype] == [np.dtype(np.int64)] * 2 + [
        np.dtype(np.float64)
    ]
    assert s.offsets.tolist() == [0, 1, 2]
    assert s.times.tolist() == [to_ns(T0)] * 2


def test_a_quantity_never_written_reads_as_no_series(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "temperature_c", 20.0)])
    s = everything(store, "humidity_pct")
    assert (len(s), s.offsets.tolist(), len(s.times)) == (0, [0], 0)


def test_read_selects_only_the_requested_quantity(store: TimeSeriesStore) -> None:
    write_all(
        store,
        [
            Reading(T0, A, "temperature_c", 20.0),
            Reading(T0, A, "humidity_pct", 55.0),
            Reading(T0, A, "battery_v", 3.6),
        ],
    )
    assert as_dict(everything(store, "humidity_pct")) == {
        SeriesKey(A, "humidity_pct", None): [(to_ns(T0), 55.0)]
    }


def test_a_series_without_points_in_the_range_is_left_out(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "power_w", 1.0), Reading(T0 + 2 * HOUR_TD, B, "power_w", 2.0)])
    window = (T0 + HOUR_TD, T0 + 3 * HOUR_TD)
    assert store.read(Selection.of("power_w"), *window).keys == [SeriesKey(B, "power_w", None)]
    grid = store.aggregate(Selection.of("power_w"), *window, "1h", Agg.SUM)
    assert grid.keys == [SeriesKey(B, "power_w", None)]
    np.testing.assert_array_equal(grid.values, [[np.nan, 2.0]])


def test_read_selects_devices(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, d, "occupied", 1.0) for d in (A, B, C)])
    assert [k.device for k in everything(store, "occupied", devices=[A, C]).keys] == [A, C]
    assert len(everything(store, "occupied", devices=[])) == 0


# -- overwrites: replays are idempotent ------------------------------------------------------------


def test_replaying_a_batch_changes_nothing(store: TimeSeriesStore) -> None:
    readings = [Reading(T0 + timedelta(hours=i), A, "volume_m3", 100.0 + i) for i in range(24)]
    write_all(store, readings)
    write_all(store, readings)
    write_all(store, readings[5:9])
    back = everything(store, "volume_m3")
    assert len(back.times) == 24
    assert as_dict(back) == expected(readings)


def test_same_device_quantity_channel_and_time_overwrites_the_value(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "energy_kwh", 10.0, "hc")])
    write_all(store, [Reading(T0, A, "energy_kwh", 11.5, "hc")])
    assert as_dict(everything(store, "energy_kwh")) == {
        SeriesKey(A, "energy_kwh", "hc"): [(to_ns(T0), 11.5)]
    }


def test_last_of_duplicates_within_one_batch_wins(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "leak", 0.0), Reading(T0, A, "leak", 1.0)])
    assert as_dict(everything(store, "leak")) == {SeriesKey(A, "leak", None): [(to_ns(T0), 1.0)]}


def test_other_quantities_of_the_same_device_and_time_are_not_overwritten(
    store: TimeSeriesStore,
) -> None:
    write_all(store, [Reading(T0, A, "temperature_c", 21.0)])
    write_all(store, [Reading(T0, A, "humidity_pct", 40.0)])
    write_all(store, [Reading(T0, A, "co2_ppm", 800.0)])
    assert [
        len(everything(store, q).times) for q in ("temperature_c", "humidity_pct", "co2_ppm")
    ] == [
        1,
        1,
        1,
    ]
    assert everything(store, "temperature_c").values.tolist() == [21.0]


MOVES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "to-a-later-name": ({"building": "Ancienne école"}, {"building": "Médiathèque"}),
    "to-an-earlier-name": ({"building": "Médiathèque"}, {"building": "Ancienne école"}),
    "building-to-area": ({"building": "Gymnase"}, {"area": "P+R Gare"}),
}


@pytest.mark.parametrize("move", sorted(MOVES))
def test_a_device_moved_in_the_registry_keeps_one_series_with_its_new_tags(
    store: TimeSeriesStore, move: str
) -> None:
    old, new = MOVES[move]
    write_all(store, [Reading(T0, A, "power_w", 100.0)], {A: old})
    write_all(store, [Reading(T0 + HOUR_TD, A, "power_w", 120.0)], {A: new})
    back = everything(store, "power_w")
    assert as_dict(back) == {
        SeriesKey(A, "power_w", None): [(to_ns(T0), 100.0), (to_ns(T0) + HOUR, 120.0)]
    }
    assert back.tags == [new]


@pytest.mark.parametrize("move", sorted(MOVES))
def test_an_overwrite_under_new_registry_tags_replaces_the_value(
    store: TimeSeriesStore, move: str
) -> None:
    old, new = MOVES[move]
    write_all(store, [Reading(T0, A, "power_w", 100.0)], {A: old})
    write_all(store, [Reading(T0, A, "power_w", 150.0)], {A: new})  # a corrected frame replayed
    back = everything(store, "power_w")
    assert as_dict(back) == {SeriesKey(A, "power_w", None): [(to_ns(T0), 150.0)]}
    assert back.tags == [new]


# -- channels --------------------------------------------------------------------------------------

CHANNEL_READINGS = [
    Reading(T0, A, "energy_kwh", 5000.0, None),
    Reading(T0, A, "energy_kwh", 1200.0, "hc"),
    Reading(T0, A, "energy_kwh", 3800.0, "hp"),
    Reading(T0 + timedelta(hours=1), A, "energy_kwh", 3801.5, "hp"),
]


@pytest.mark.parametrize(
    ("channel", "channels"),
    [
        (ANY_CHANNEL, [None, "hc", "hp"]),
        (None, [None]),
        ("hc", ["hc"]),
        ("hp", ["hp"]),
        ("base", []),
    ],
    ids=["any", "none", "hc", "hp", "absent"],
)
def test_channel_selects_series(
    store: TimeSeriesStore, channel: str | AnyChannel | None, channels: list[str | None]
) -> None:
    write_all(store, CHANNEL_READINGS)
    back = everything(store, "energy_kwh", channel=channel)
    assert [k.channel for k in back.keys] == channels
    assert as_dict(back) == {k: v for k, v in expected(CHANNEL_READINGS).items() if k in back.keys}


def test_readings_read_back_carry_their_channel(store: TimeSeriesStore) -> None:
    write_all(store, CHANNEL_READINGS)
    assert set(everything(store, "energy_kwh").readings()) == set(CHANNEL_READINGS)


# -- registry tags ---------------------------------------------------------------------------------

TAG_VALUES = [
    "Béthencourt",
    "Saint-Souplet-Escaufourt",
    'École "Jean Jaurès", bât. A=1',
    "Salle des fêtes",
    "a,b,,c",
    "k=v==w",
    "L'Escaut",
    "''",
    'say "hi"',
    "C:\\Vigie\\bâtiments",
    "two\\\\backslashes",
    'Zone d\'activité "Le Pré", lot 3=B\\2',
    "Œuvre — ÿ ß 東京 🚰",
    "  padded  ",
]


@pytest.mark.parametrize("value", TAG_VALUES)
def test_tags_come_back_identical(store: TimeSeriesStore, value: str) -> None:
    tags = {"tenant": "ca-caudrésis-catésis", "site": value, "building": value, "model": "em300"}
    write_all(store, [Reading(T0, A, "temperature_c", 19.0)], {A: tags})
    assert everything(store, "temperature_c").tags == [tags]


@pytest.mark.parametrize("value", TAG_VALUES)
def test_where_matches_a_tag_value_exactly(store: TimeSeriesStore, value: str) -> None:
    near = value + "2"  # a filter that matches by prefix, or drops a character, mixes them up
    write_all(
        store,
        [Reading(T0, A, "temperature_c", 19.0), Reading(T0, B, "temperature_c", 20.0)],
        {A: {"tenant": "t", "site": value}, B: {"tenant": "t", "site": near}},
    )
    assert [k.device for k in everything(store, "temperature_c", where={"site": value}).keys] == [A]
    assert [k.device for k in everything(store, "temperature_c", where={"site": near}).keys] == [B]


def test_where_combines_tags_with_and(store: TimeSeriesStore) -> None:
    tags = {
        A: {"tenant": "t1", "site": "Béthencourt", "building": "Mairie"},
        B: {"tenant": "t1", "site": "Béthencourt", "building": "École"},
        C: {"tenant": "t2", "site": "Béthencourt", "building": "Mairie"},
    }
    write_all(store, [Reading(T0, d, "temperature_c", 19.0) for d in tags], tags)
    chosen = everything(store, "temperature_c", where={"tenant": "t1", "building": "Mairie"})
    assert [k.device for k in chosen.keys] == [A]
    assert [k.device for k in everything(store, "temperature_c", where={"tenant": "t3"}).keys] == []


def test_a_device_without_registry_tags_reads_back_with_none(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T0, A, "battery_pct", 88.0)])
    assert everything(store, "battery_pct").tags == [{}]


def test_selection_refuses_an_unknown_tag_name() -> None:
    with pytest.raises(ValueError, match="commune"):
        Selection.of("temperature_c", where={"commune": "Béthencourt"})


# -- bounds, time resolution and values ------------------------------------------------------------


def test_read_is_half_open_start_included_end_excluded(store: TimeSeriesStore) -> None:
    start, end = T0, T0 + timedelta(hours=1)
    us = timedelta(microseconds=1)
    times = [start - us, start, start + us, end - us, end, end + us]
    write_all(store, [Reading(t, A, "flow_m3h", float(i)) for i, t in enumerate(times)])
    s = store.read(Selection.of("flow_m3h"), start, end)
    assert s.times.tolist() == [to_ns(start), to_ns(start + us), to_ns(end - us)]
    assert s.values.tolist() == [1.0, 2.0, 3.0]


MICROSECOND_TIMES = [
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC),
    datetime(2026, 10, 25, 1, 30, 0, 123456, tzinfo=UTC),
    datetime(2000, 2, 29, 12, 0, 0, 654321, tzinfo=UTC),
    datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def test_microsecond_timestamps_round_trip_exactly(store: TimeSeriesStore) -> None:
    readings = [Reading(t, A, "rssi_dbm", -100.0 + i) for i, t in enumerate(MICROSECOND_TIMES)]
    write_all(store, readings)
    back = list(everything(store, "rssi_dbm").readings())
    assert back == sorted(readings, key=lambda r: r.time)


def test_microseconds_apart_are_distinct_points(store: TimeSeriesStore) -> None:
    readings = [Reading(T0 + timedelta(microseconds=i), A, "snr_db", float(i)) for i in range(5)]
    write_all(store, readings)
    assert everything(store, "snr_db").values.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
def test_values_at_both_ends_of_the_range_round_trip_exactly(
    store: TimeSeriesStore, q: Quantity
) -> None:
    readings = [
        Reading(T0, A, q.key, q.minimum),
        Reading(T0 + timedelta(seconds=1), A, q.key, q.maximum),
    ]
    write_all(store, readings)
    assert everything(store, q.key).values.tolist() == [q.minimum, q.maximum]


@pytest.mark.parametrize(
    "value", [0.1, 1 / 3, -59.99999999999999, 149.99999999999997, 1e-300, 5e-324, 0.0, 123.456789]
)
def test_float_values_round_trip_bit_for_bit(store: TimeSeriesStore, value: float) -> None:
    write_all(store, [Reading(T0, A, "temperature_c", value)])
    [back] = everything(store, "temperature_c").values.tolist()
    assert back.hex() == value.hex()


# -- latest ----------------------------------------------------------------------------------------

T1, T2, T3 = T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=9)
LATEST_READINGS = [
    Reading(T1, A, "temperature_c", 20.0),
    Reading(T2, A, "temperature_c", 20.5),
    Reading(T1, A, "energy_kwh", 10.0, "hc"),
    Reading(T3, A, "energy_kwh", 7.0, "hp"),
    Reading(T2, A, "energy_kwh", 17.0),
    Reading(T3, B, "temperature_c", 18.0),
    Reading(T1, B, "temperature_c", 17.0),
    Reading(T1, C, "humidity_pct", 60.0),
]
LATEST = {
    Reading(T2, A, "temperature_c", 20.5),
    Reading(T1, A, "energy_kwh", 10.0, "hc"),
    Reading(T3, A, "energy_kwh", 7.0, "hp"),
    Reading(T2, A, "energy_kwh", 17.0),
    Reading(T3, B, "temperature_c", 18.0),
    Reading(T1, C, "humidity_pct", 60.0),
}


@pytest.mark.parametrize(
    ("devices", "quantities"),
    [
        (None, None),
        ([A], None),
        ([A, C], None),
        (None, ["temperature_c"]),
        (None, ["energy_kwh", "humidity_pct"]),
        ([B], ["temperature_c", "energy_kwh"]),
        ([C], ["temperature_c"]),
        ([], None),
        (None, []),
        (["ffffffffffffffff"], None),
        (None, ["co2_ppm"]),
    ],
    ids=[
        "all",
        "one-device",
        "two-devices",
        "one-quantity",
        "two-quantities",
        "device-and-quantities",
        "nothing-matches-both",
        "no-devices",
        "no-quantities",
        "unknown-device",
        "quantity-never-written",
    ],
)
def test_latest_is_the_last_reading_of_each_device_quantity_and_channel(
    store: TimeSeriesStore, devices: list[str] | None, quantities: list[str] | None
) -> None:
    write_all(store, LATEST_READINGS)
    want = {
        r
        for r in LATEST
        if (devices is None or r.device in devices)
        and (quantities is None or r.quantity in quantities)
    }
    assert set(store.latest(devices, quantities)) == want
    assert len(store.latest(devices, quantities)) == len(want)


def test_latest_of_an_empty_store_is_empty(store: TimeSeriesStore) -> None:
    assert store.latest() == []


def test_latest_follows_an_overwrite(store: TimeSeriesStore) -> None:
    write_all(store, [Reading(T1, A, "occupied", 0.0), Reading(T2, A, "occupied", 1.0)])
    write_all(store, [Reading(T2, A, "occupied", 0.0)])
    assert store.latest([A], ["occupied"]) == [Reading(T2, A, "occupied", 0.0)]


# -- aggregation -----------------------------------------------------------------------------------

REFERENCE: dict[Agg, Callable[[FloatArray], float]] = {
    Agg.MEAN: lambda v: float(np.mean(v)),
    Agg.SUM: lambda v: float(np.sum(v)),
    Agg.MIN: lambda v: float(np.min(v)),
    Agg.MAX: lambda v: float(np.max(v)),
    Agg.COUNT: lambda v: float(len(v)),
    Agg.FIRST: lambda v: float(v[0]),
    Agg.LAST: lambda v: float(v[-1]),
}


def climate(start: datetime, days: int, seed: int) -> list[Reading]:
    """Three sensors every 10 minutes (phases apart), the second silent for one local day."""
    rng = np.random.default_rng(seed)
    out = []
    silent = (start + timedelta(days=2)).date()
    for i, device in enumerate((A, B, C)):
        t = start.astimezone(UTC) + timedelta(seconds=97 * i)
        end = (start + timedelta(days=days)).astimezone(UTC)
        while t < end:
            if not (device == B and t.astimezone(PARIS).date() == silent):
                out.append(Reading(t, device, "temperature_c", round(rng.uniform(-10, 35), 2)))
            t += timedelta(minutes=10)
    return out


def reference_grid(
    readings: Sequence[Reading],
    keys: list[SeriesKey],
    starts: Int64Array,
    ends: Int64Array,
    agg: Agg,
) -> FloatArray:
    """The expected grid, window by window, with plain numpy on the written readings."""
    out = np.full((len(keys), len(starts)), 0.0 if agg is Agg.COUNT else np.nan)
    points = expected(readings)
    for i, key in enumerate(keys):
        t = np.array([p[0] for p in points[key]], dtype=np.int64)
        v = np.array([p[1] for p in points[key]], dtype=np.float64)
        for j, (lo, hi) in enumerate(zip(starts, ends, strict=True)):
            inside = (t >= lo) & (t < hi)
            if inside.any():
                out[i, j] = REFERENCE[agg](v[inside])
    return out


def assert_grid_matches(grid: SeriesGrid, readings: Sequence[Reading], agg: Agg) -> None:
    assert grid.values.shape == (len(grid.keys), len(grid.starts))
    want = reference_grid(readings, grid.keys, grid.starts, grid.ends, agg)
    np.testing.assert_allclose(grid.values, want, rtol=1e-12, atol=1e-9, equal_nan=True)


DST_WEEKS = {
    "spring-forward": (paris(2026, 3, 27), [24, 24, 23, 24, 24]),
    "fall-back": (paris(2026, 10, 23), [24, 24, 25, 24, 24]),
}


@pytest.mark.parametrize("agg", list(Agg))
@pytest.mark.parametrize("week", sorted(DST_WEEKS))
def test_daily_windows_in_paris_across_dst_match_a_numpy_reference(
    store: TimeSeriesStore, week: str, agg: Agg
) -> None:
    start, lengths = DST_WEEKS[week]
    readings = climate(start, len(lengths), seed=len(week))
    write_all(store, readings)
    end = start + timedelta(days=len(lengths))
    grid = store.aggregate(Selection.of("temperature_c"), start, end, "1d", agg, "Europe/Paris")
    assert ((grid.ends - grid.starts) / HOUR).tolist() == lengths
    assert grid.starts[0] == to_ns(start)
    assert grid.ends[-1] == to_ns(end)
    assert np.array_equal(grid.starts[1:], grid.ends[:-1])
    assert grid.keys == [SeriesKey(d, "temperature_c", None) for d in (A, B, C)]
    assert_grid_matches(grid, readings, agg)


@pytest.mark.parametrize(
    ("agg", "empty"), [(a, 0.0 if a is Agg.COUNT else np.nan) for a in Agg], ids=list(map(str, Agg))
)
def test_the_silent_day_is_nan_or_a_zero_count(
    store: TimeSeriesStore, agg: Agg, empty: float
) -> None:
    start = paris(2026, 3, 27)
    write_all(store, climate(start, 5, seed=1))
    grid = store.aggregate(
        Selection.of("temperature_c", devices=[B]), start, start + timedelta(days=5), "1d", agg,
        "Europe/Paris",
    )  # fmt: skip
    np.testing.assert_array_equal(grid.values[0, 2], empty)
    assert not np.isnan(grid.values[0, [0, 1, 3, 4]]).any()


@pytest.mark.parametrize("agg", list(Agg))
@pytest.mark.parametrize("week", sorted(DST_WEEKS))
def test_hourly_windows_across_dst_match_a_numpy_reference(
    store: TimeSeriesStore, week: str, agg: Agg
) -> None:
    start, _ = DST_WEEKS[week]
    readings = climate(start, 4, seed=3)
    write_all(store, readings)
    day = start + timedelta(days=2)  # the local day of the change: 23 or 25 hours
    grid = store.aggregate(Selection.of("temperature_c"), day, day + timedelta(days=1), "1h", agg)
    hours = {"spring-forward": 23, "fall-back": 25}[week]
    assert len(grid.starts) == hours
    assert set((grid.ends - grid.starts).tolist()) == {HOUR}
    assert_grid_matches(grid, readings, agg)


@pytest.mark.parametrize("agg", list(Agg))
def test_aggregate_counts_only_points_from_start_even_inside_the_first_window(
    store: TimeSeriesStore, agg: Agg
) -> None:
    readings = climate(paris(2026, 6, 1), 2, seed=5)
    write_all(store, readings)
    start, end = paris(2026, 6, 1, 12, 0), paris(2026, 6, 2, 12, 0)
    grid = store.aggregate(Selection.of("temperature_c"), start, end, "1d", agg, "Europe/Paris")
    assert grid.starts.tolist() == [to_ns(paris(2026, 6, 1)), to_ns(paris(2026, 6, 2))]
    inside = [r for r in readings if start <= r.time < end]
    assert_grid_matches(grid, inside, agg)


def test_aggregate_of_nothing_is_an_empty_grid_with_its_windows(store: TimeSeriesStore) -> None:
    grid = store.aggregate(Selection.of("co2_ppm"), paris(2026, 3, 28), paris(2026, 3, 31), "1d",
                           Agg.MEAN, "Europe/Paris")  # fmt: skip
    assert grid.values.shape == (0, 3)
    assert ((grid.ends - grid.starts) / HOUR).tolist() == [24, 23, 24]


def test_aggregate_keeps_channels_apart(store: TimeSeriesStore) -> None:
    readings = [
        Reading(T0 + timedelta(minutes=m), A, "current_a", float(m), ch)
        for m in range(0, 120, 15)
        for ch in ("1", "2", "3")
    ]
    write_all(store, readings)
    grid = store.aggregate(Selection.of("current_a"), T0, T0 + timedelta(hours=2), "1h", Agg.SUM)
    assert grid.keys == [SeriesKey(A, "current_a", ch) for ch in ("1", "2", "3")]
    assert_grid_matches(grid, readings, Agg.SUM)


def test_aggregate_grid_carries_tags(store: TimeSeriesStore) -> None:
    tags = {A: {"tenant": "t1", "site": "Béthencourt"}, B: {"tenant": "t1", "area": "P+R Nord"}}
    write_all(store, [Reading(T0, d, "occupied", 1.0) for d in (A, B)], tags)
    grid = store.aggregate(Selection.of("occupied"), T0, T0 + timedelta(hours=1), "1h", Agg.MAX)
    assert grid.tags == [tags[A], tags[B]]


# -- bulk: one tenant's fleet in one read ----------------------------------------------------------

FLEET = devices(300)
OTHER_TENANT = devices(40, first=1000)


def fleet_readings(seed: int) -> tuple[list[Reading], dict[str, Tags]]:
    """Water meters: a ragged number of hourly index frames each, some with gaps."""
    rng = np.random.default_rng(seed)
    readings = []
    for d in FLEET + OTHER_TENANT:
        n = int(rng.integers(0, 30))
        hours = np.sort(rng.choice(48, size=n, replace=False))
        index = 1000.0 * rng.random()
        for h in hours.tolist():
            index = round(index + float(rng.exponential(0.05)), 3)
            readings.append(Reading(T0 + timedelta(hours=h), d, "volume_m3", index))
    tags: dict[str, Tags] = {
        d: {"tenant": "agglo-a", "site": f"s{i % 7}"} for i, d in enumerate(FLEET)
    }
    tags |= {d: {"tenant": "agglo-b"} for d in OTHER_TENANT}
    return readings, tags


def test_a_tenants_fleet_reads_at_once_into_one_series_set(store: TimeSeriesStore) -> None:
    readings, tags = fleet_readings(seed=11)
    write_all(store, readings, tags)
    s = everything(store, "volume_m3", where={"tenant": "agglo-a"})
    want = {k: v for k, v in expected(readings).items() if k.device in FLEET}
    assert len(s) == len(want)
    assert s.offsets.shape == (len(want) + 1,)
    assert s.times.shape == s.values.shape == (sum(map(len, want.values())),)
    assert as_dict(s) == want
    assert s.tags == [tags[k.device] for k in s.keys]


@pytest.mark.parametrize("n", [5, 250], ids=["few-devices", "many-devices"])
def test_a_large_device_list_selects_exactly_those_devices(store: TimeSeriesStore, n: int) -> None:
    readings, tags = fleet_readings(seed=12)
    write_all(store, readings, tags)
    chosen = FLEET[::2][:n] + OTHER_TENANT[:3]
    s = everything(store, "volume_m3", devices=chosen)
    assert as_dict(s) == {k: v for k, v in expected(readings).items() if k.device in chosen}


def test_a_tenants_fleet_aggregates_at_once_into_one_grid(store: TimeSeriesStore) -> None:
    readings, tags = fleet_readings(seed=13)
    write_all(store, readings, tags)
    start = T0.astimezone(PARIS).replace(hour=0)
    sel = Selection.of("volume_m3", where={"tenant": "agglo-a"})
    grid = store.aggregate(sel, start, start + timedelta(days=3), "1d", Agg.LAST, "Europe/Paris")
    with_points = sorted(
        {SeriesKey(r.device, r.quantity, None) for r in readings if r.device in FLEET}
    )
    assert grid.keys == with_points
    assert grid.values.shape == (len(with_points), 3)
    assert_grid_matches(grid, readings, Agg.LAST)
