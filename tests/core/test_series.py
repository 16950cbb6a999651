"""Series as numpy: exact ns conversions, CSR sets built in key and time order, gridded rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.reading import Reading
from core.series import NS, SeriesGrid, SeriesKey, SeriesSet, from_ns, to_ns

A, B = "0000000000000a0a", "0000000000000b0b"
T0 = datetime(2026, 3, 29, tzinfo=UTC)

aware_datetimes = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
ns_in_range = st.integers(min_value=-(2**62), max_value=2**62)


@pytest.mark.parametrize(
    ("t", "ns"),
    [
        (datetime(1970, 1, 1, tzinfo=UTC), 0),
        (datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC), NS),
        (datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC), 1000),
        (datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), -1000),
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), 1_774_746_000 * NS),
        (datetime(2026, 3, 29, 3, 0, tzinfo=timezone(timedelta(hours=2))), 1_774_746_000 * NS),
    ],
    ids=["epoch", "one-second", "one-microsecond", "before-epoch", "utc", "offset"],
)
def test_to_ns_is_exact(t: datetime, ns: int) -> None:
    assert to_ns(t) == ns


@given(aware_datetimes)
def test_from_ns_undoes_to_ns_to_the_microsecond(t: datetime) -> None:
    back = from_ns(to_ns(t))
    assert back == t
    assert back.tzinfo is UTC


@given(ns_in_range)
def test_from_ns_floors_to_the_microsecond(ns: int) -> None:
    assert to_ns(from_ns(ns)) == ns - ns % 1000


@given(aware_datetimes, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=400)))
def test_to_ns_preserves_order_and_differences(t: datetime, d: timedelta) -> None:
    assert to_ns(t + d) - to_ns(t) == (d // timedelta(microseconds=1)) * 1000


Parts = dict[SeriesKey, tuple[dict[str, str], list[int], list[float]]]


def _parts() -> Parts:
    return {
        SeriesKey(B, "temperature_c", None): ({"tenant": "t"}, [30, 10, 20], [3.0, 1.0, 2.0]),
        SeriesKey(A, "temperature_c", "ext"): ({"tenant": "u"}, [5], [5.0]),
        SeriesKey(A, "co2_ppm", None): ({}, [], []),
    }


def test_build_sorts_series_by_key_and_points_by_time() -> None:
    s = SeriesSet.build(_parts())
    assert s.keys == [
        SeriesKey(A, "co2_ppm", None),
        SeriesKey(A, "temperature_c", "ext"),
        SeriesKey(B, "temperature_c", None),
    ]
    assert s.tags == [{}, {"tenant": "u"}, {"tenant": "t"}]
    assert s.offsets.tolist() == [0, 0, 1, 4]
    assert s.times.tolist() == [5, 10, 20, 30]
    assert s.values.tolist() == [5.0, 1.0, 2.0, 3.0]
    assert [s.offsets.dtype, s.times.dtype, s.values.dtype] == [np.dtype(np.int64)] * 2 + [
        np.dtype(np.float64)
    ]


def test_series_without_channel_sorts_before_its_channels() -> None:
    keys = [SeriesKey(A, "energy_kwh", "hp"), SeriesKey(A, "energy_kwh", None)]
    parts: Parts = {k: ({}, [1], [1.0]) for k in keys}
    assert SeriesSet.build(parts).keys == [keys[1], keys[0]]


def test_an_empty_set_has_one_offset_and_no_points() -> None:
    s = SeriesSet.build({})
    assert len(s) == 0
    assert s.offsets.tolist() == [0]
    assert len(s.times) == len(s.values) == 0
    assert list(s.readings()) == []


def test_series_returns_the_slice_of_one_series() -> None:
    s = SeriesSet.build(_parts())
    times, values = s.series(2)
    assert times.tolist() == [10, 20, 30]
    assert values.tolist() == [1.0, 2.0, 3.0]
    empty_times, empty_values = s.series(0)
    assert len(empty_times) == len(empty_values) == 0


def test_readings_turns_every_point_back_into_a_reading() -> None:
    t1, t2 = T0, T0 + timedelta(microseconds=1)
    parts: Parts = {
        SeriesKey(A, "energy_kwh", "hc"): ({}, [to_ns(t2), to_ns(t1)], [2.0, 1.0]),
        SeriesKey(B, "leak", None): ({}, [to_ns(t1)], [0.0]),
    }
    assert list(SeriesSet.build(parts).readings()) == [
        Reading(t1, A, "energy_kwh", 1.0, "hc"),
        Reading(t2, A, "energy_kwh", 2.0, "hc"),
        Reading(t1, B, "leak", 0.0),
    ]


def test_grid_row_is_looked_up_by_key() -> None:
    keys = [SeriesKey(A, "power_w", None), SeriesKey(B, "power_w", None)]
    grid = SeriesGrid(
        keys=keys,
        tags=[{}, {}],
        starts=np.array([0, 10], dtype=np.int64),
        ends=np.array([10, 20], dtype=np.int64),
        values=np.array([[1.0, np.nan], [3.0, 4.0]]),
    )
    assert len(grid) == 2
    assert grid.row(keys[1]).tolist() == [3.0, 4.0]
    assert np.isnan(grid.row(keys[0])[1])
    with pytest.raises(ValueError):
        grid.row(SeriesKey(A, "power_w", "1"))
