"""Window edges follow the zone's calendar (DST days, Monday weeks, months); exact reductions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.series import NS, FloatArray, Int64Array, from_ns, to_ns
from core.timeseries import Agg
from core.windows import Every, parse_every, partial_granularity_ns, reduce, window_edges

PARIS = ZoneInfo("Europe/Paris")
HOUR = 3600 * NS


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def hours(edges: Int64Array) -> list[float]:
    return [float(h) for h in np.diff(edges) / HOUR]


# -- parsing ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "count", "unit", "fixed_ns"),
    [
        ("30s", 30, "s", 30 * NS),
        ("15m", 15, "m", 900 * NS),
        ("90m", 90, "m", 5400 * NS),
        ("1h", 1, "h", HOUR),
        ("6h", 6, "h", 6 * HOUR),
        ("1d", 1, "d", None),
        ("1w", 1, "w", None),
        ("1mo", 1, "mo", None),
        ("3mo", 3, "mo", None),
        ("1y", 1, "y", None),
    ],
)
def test_parse_every_reads_count_and_unit(
    text: str, count: int, unit: str, fixed_ns: int | None
) -> None:
    every = parse_every(text)
    assert every == Every(count, unit)
    assert every.fixed_ns == fixed_ns
    assert str(every) == text


@pytest.mark.parametrize("text", ["", "h", "0h", "-1h", "1.5h", "1x", "1 hour", "7m", "5h", "1M"])
def test_parse_every_refuses_what_is_not_a_window_dividing_the_day(text: str) -> None:
    with pytest.raises(ValueError, match="every="):
        parse_every(text)


# -- calendar windows in Europe/Paris --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "lengths"),
    [
        (paris(2026, 3, 28), paris(2026, 3, 31), [24, 23, 24]),
        (paris(2026, 10, 24), paris(2026, 10, 27), [24, 25, 24]),
        (paris(2026, 6, 1), paris(2026, 6, 3), [24, 24]),
    ],
    ids=["spring-forward-23h", "fall-back-25h", "summer-24h"],
)
def test_days_in_paris_last_23_24_or_25_hours(
    start: datetime, end: datetime, lengths: list[int]
) -> None:
    edges = window_edges(start, end, parse_every("1d"), "Europe/Paris")
    assert hours(edges) == lengths
    assert [from_ns(e).astimezone(PARIS).time().isoformat() for e in edges] == ["00:00:00"] * len(
        edges
    )


def test_day_edges_are_local_midnights_in_utc() -> None:
    edges = window_edges(paris(2026, 3, 29), paris(2026, 3, 30), parse_every("1d"), "Europe/Paris")
    assert [from_ns(e) for e in edges] == [
        datetime(2026, 3, 28, 23, tzinfo=UTC),
        datetime(2026, 3, 29, 22, tzinfo=UTC),
    ]


def test_days_in_utc_always_last_24_hours() -> None:
    start = datetime(2026, 3, 28, tzinfo=UTC)
    edges = window_edges(start, start + timedelta(days=3), parse_every("1d"), "UTC")
    assert hours(edges) == [24, 24, 24]


def test_first_edge_is_at_or_before_start_and_last_at_or_after_end() -> None:
    start, end = paris(2026, 3, 28, 13, 5), paris(2026, 3, 30) + timedelta(seconds=1)
    edges = window_edges(start, end, parse_every("1d"), "Europe/Paris")
    assert from_ns(edges[0]) == paris(2026, 3, 28)
    assert from_ns(edges[-1]) == paris(2026, 3, 31)
    assert hours(edges) == [24, 23, 24]


def test_weeks_start_on_monday_at_local_midnight() -> None:
    wednesday = paris(2026, 3, 25, 15)
    edges = window_edges(wednesday, paris(2026, 4, 6), parse_every("1w"), "Europe/Paris")
    starts = [from_ns(e).astimezone(PARIS) for e in edges]
    assert [s.date().isoformat() for s in starts] == ["2026-03-23", "2026-03-30", "2026-04-06"]
    assert {s.weekday() for s in starts} == {0}
    assert {s.hour for s in starts} == {0}
    assert hours(edges) == [167, 168]  # the week holding the spring change is an hour short


def test_months_follow_the_calendar_and_the_dst_changes() -> None:
    edges = window_edges(paris(2026, 1, 1), paris(2027, 1, 1), parse_every("1mo"), "Europe/Paris")
    starts = [from_ns(e).astimezone(PARIS) for e in edges]
    assert [(s.year, s.month, s.day, s.hour) for s in starts] == [
        *[(2026, m, 1, 0) for m in range(1, 13)],
        (2027, 1, 1, 0),
    ]
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    shift = {2: -1, 9: +1}  # March loses an hour, October gains one
    assert hours(edges) == [24 * d + shift.get(i, 0) for i, d in enumerate(days)]
    assert from_ns(edges[0]) == datetime(2025, 12, 31, 23, tzinfo=UTC)


def test_a_month_window_starts_on_the_first_of_the_month_of_start() -> None:
    edges = window_edges(paris(2028, 2, 10), paris(2028, 3, 2), parse_every("1mo"), "Europe/Paris")
    assert [from_ns(e).astimezone(PARIS).date().isoformat() for e in edges] == [
        "2028-02-01",
        "2028-03-01",
        "2028-04-01",
    ]
    assert hours(edges)[0] == 29 * 24  # leap February


def test_quarters_are_three_calendar_months() -> None:
    edges = window_edges(paris(2026, 1, 1), paris(2026, 12, 31), parse_every("3mo"), "Europe/Paris")
    starts = [from_ns(e).astimezone(PARIS).date().isoformat() for e in edges]
    assert starts == ["2026-01-01", "2026-04-01", "2026-07-01", "2026-10-01", "2027-01-01"]


def test_years_follow_the_calendar() -> None:
    edges = window_edges(paris(2027, 6, 1), paris(2029, 1, 1), parse_every("1y"), "Europe/Paris")
    assert [from_ns(e).astimezone(PARIS).date().isoformat() for e in edges] == [
        "2027-01-01",
        "2028-01-01",
        "2029-01-01",
    ]
    assert hours(edges) == [365 * 24, 366 * 24]


# -- sub-day windows -------------------------------------------------------------------------------


@pytest.mark.parametrize("tz", ["UTC", "Europe/Paris", "Asia/Kathmandu"])
def test_hours_are_fixed_and_epoch_aligned_whatever_the_zone(tz: str) -> None:
    start, end = paris(2026, 3, 29, 1, 20), paris(2026, 3, 29, 4, 0)  # across the jump
    edges = window_edges(start, end, parse_every("1h"), tz)
    assert hours(edges) == [1, 1]  # 00:00-01:00 UTC, 01:00-02:00 UTC
    assert from_ns(edges[0]) == datetime(2026, 3, 29, 0, tzinfo=UTC)
    assert not np.any(edges % HOUR)


def test_quarter_hours_align_on_the_quarter() -> None:
    start = datetime(2026, 5, 4, 10, 7, 30, tzinfo=UTC)
    edges = window_edges(start, start + timedelta(minutes=30), parse_every("15m"), "UTC")
    assert [from_ns(e).strftime("%H:%M") for e in edges] == ["10:00", "10:15", "10:30", "10:45"]


def test_six_hour_windows_align_on_utc_midnight_not_local_midnight() -> None:
    edges = window_edges(paris(2026, 6, 1), paris(2026, 6, 2), parse_every("6h"), "Europe/Paris")
    assert [from_ns(e).hour for e in edges] == [18, 0, 6, 12, 18, 0]


def test_end_before_or_at_start_is_refused() -> None:
    t = paris(2026, 6, 1)
    with pytest.raises(ValueError, match="must be after start"):
        window_edges(t, t, parse_every("1h"))


def test_too_many_windows_are_refused() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="too many"):
        window_edges(start, start + timedelta(days=30), parse_every("1s"))


# -- partial granularity ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "every", "granularity"),
    [
        ("Europe/Paris", "1d", HOUR),
        ("Europe/Paris", "1mo", HOUR),
        ("Asia/Kolkata", "1d", 900 * NS),  # UTC+05:30
        ("Asia/Kathmandu", "1d", 900 * NS),  # UTC+05:45
        ("UTC", "1w", HOUR),
        ("UTC", "15m", 900 * NS),
    ],
)
def test_partial_granularity_is_the_coarsest_grid_holding_every_edge(
    tz: str, every: str, granularity: int
) -> None:
    e = parse_every(every)
    edges = window_edges(paris(2026, 1, 1), paris(2026, 3, 1), e, tz)
    g = partial_granularity_ns(edges, e)
    assert g == granularity
    assert not np.any(edges % g)


# -- reductions ------------------------------------------------------------------------------------

EDGES = np.array([0, 10, 20, 30], dtype=np.int64)
TIMES = np.array([0, 2, 9, 20, 29], dtype=np.int64)  # window 1 is empty; 20 opens window 2
VALUES = np.array([3.0, 1.0, 2.0, 4.0, 6.0])
NAN = float("nan")


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        (Agg.MEAN, [2.0, NAN, 5.0]),
        (Agg.SUM, [6.0, NAN, 10.0]),
        (Agg.MIN, [1.0, NAN, 4.0]),
        (Agg.MAX, [3.0, NAN, 6.0]),
        (Agg.COUNT, [3.0, 0.0, 2.0]),
        (Agg.FIRST, [3.0, NAN, 4.0]),
        (Agg.LAST, [2.0, NAN, 6.0]),
    ],
)
def test_each_aggregation_on_half_open_windows_with_an_empty_one(
    agg: Agg, expected: list[float]
) -> None:
    out = reduce(TIMES, VALUES, EDGES, agg)
    assert out.shape == (1, 3)
    np.testing.assert_array_equal(out[0], expected)


@pytest.mark.parametrize("agg", list(Agg))
def test_points_outside_the_edges_are_ignored(agg: Agg) -> None:
    times = np.concatenate([[-5], TIMES, [30, 31]]).astype(np.int64)
    values = np.concatenate([[100.0], VALUES, [100.0, 100.0]])
    np.testing.assert_array_equal(
        reduce(times, values, EDGES, agg), reduce(TIMES, VALUES, EDGES, agg)
    )


@pytest.mark.parametrize(
    ("agg", "expected"), [(Agg.COUNT, 0.0), *[(a, NAN) for a in Agg if a is not Agg.COUNT]]
)
def test_no_points_at_all_gives_nan_or_a_zero_count(agg: Agg, expected: float) -> None:
    empty_t, empty_v = np.array([], dtype=np.int64), np.array([], dtype=np.float64)
    out = reduce(empty_t, empty_v, EDGES, agg, rows=empty_t, n_rows=2)
    assert out.shape == (2, 3)
    np.testing.assert_array_equal(out, np.full((2, 3), expected))


def test_rows_give_one_grid_line_per_series() -> None:
    times = np.array([1, 25, 5, 6, 15], dtype=np.int64)
    values = np.array([1.0, 2.0, 10.0, 20.0, 30.0])
    rows = np.array([0, 0, 2, 2, 2], dtype=np.int64)
    out = reduce(times, values, EDGES, Agg.SUM, rows=rows, n_rows=3)
    np.testing.assert_array_equal(out, [[1, NAN, 2], [NAN, NAN, NAN], [30, 30, NAN]])


# -- properties: reduce agrees with a per-window numpy reference, and with its own partials --------

REFERENCE: dict[Agg, Callable[[FloatArray], float]] = {
    Agg.MEAN: lambda v: float(np.mean(v)),
    Agg.SUM: lambda v: float(np.sum(v)),
    Agg.MIN: lambda v: float(np.min(v)),
    Agg.MAX: lambda v: float(np.max(v)),
    Agg.COUNT: lambda v: float(len(v)),
    Agg.FIRST: lambda v: float(v[0]),
    Agg.LAST: lambda v: float(v[-1]),
}

ZONES = ["UTC", "Europe/Paris", "Asia/Kolkata", "Asia/Kathmandu", "America/St_Johns"]
EVERIES = ["15m", "1h", "6h", "1d", "2d", "1w", "1mo"]
STARTS = [paris(2026, 3, 27), paris(2026, 10, 23, 7), paris(2026, 1, 30, 23, 59)]


@dataclass(frozen=True)
class Points:
    every: Every
    edges: Int64Array
    times: Int64Array
    values: FloatArray
    rows: Int64Array


@st.composite
def series_in_windows(draw: st.DrawFn) -> Points:
    """Windows, and points of up to 3 series in them, sorted by series then time."""
    tz = draw(st.sampled_from(ZONES))
    every = parse_every(draw(st.sampled_from(EVERIES)))
    start = draw(st.sampled_from(STARTS))
    days = draw(st.integers(min_value=1, max_value=40))
    edges = window_edges(start, start + timedelta(days=days), every, tz)
    span = int(edges[-1] - edges[0])
    points = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),
                st.integers(0, span - 1),
                st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: round(x, 3)),
            ),
            max_size=300,
            unique_by=lambda p: (p[0], p[1]),
        )
    )
    points.sort(key=lambda p: (p[0], p[1]))
    rows = np.array([p[0] for p in points], dtype=np.int64)
    times = edges[0] + np.array([p[1] for p in points], dtype=np.int64)
    values = np.array([p[2] for p in points], dtype=np.float64)
    return Points(every, edges, times, values, rows)


@settings(max_examples=150, deadline=None)
@given(series_in_windows(), st.sampled_from(list(Agg)))
def test_reduce_matches_a_per_window_reference(p: Points, agg: Agg) -> None:
    edges, times, values, rows = p.edges, p.times, p.values, p.rows
    out = reduce(times, values, edges, agg, rows=rows, n_rows=3)
    expected = np.full(out.shape, 0.0 if agg is Agg.COUNT else np.nan)
    for r in range(3):
        for j in range(len(edges) - 1):
            inside = (rows == r) & (times >= edges[j]) & (times < edges[j + 1])
            if inside.any():
                expected[r, j] = REFERENCE[agg](values[inside])
    np.testing.assert_allclose(out, expected, rtol=1e-9, atol=1e-6)


PARTIAL_OF = {
    Agg.MEAN: Agg.SUM,
    Agg.SUM: Agg.SUM,
    Agg.MIN: Agg.MIN,
    Agg.MAX: Agg.MAX,
    Agg.COUNT: Agg.COUNT,
    Agg.FIRST: Agg.FIRST,
    Agg.LAST: Agg.LAST,
}


@settings(max_examples=150, deadline=None)
@given(series_in_windows(), st.sampled_from(list(Agg)))
def test_reduce_of_partials_equals_reduce_of_raw_points(p: Points, agg: Agg) -> None:
    edges, times, values, rows = p.edges, p.times, p.values, p.rows
    every_ns = partial_granularity_ns(edges, p.every)
    fine = np.arange(edges[0], edges[-1] + every_ns, every_ns, dtype=np.int64)
    partial = reduce(times, values, fine, PARTIAL_OF[agg], rows=rows, n_rows=3)
    counts = reduce(times, values, fine, Agg.COUNT, rows=rows, n_rows=3)
    filled = counts > 0  # a store returns no row for an empty bucket
    p_rows = np.broadcast_to(np.arange(3)[:, None], counts.shape)[filled]
    p_times = np.broadcast_to(fine[:-1], counts.shape)[filled]
    from_partials = reduce(
        p_times, partial[filled], edges, agg, counts=counts[filled], rows=p_rows, n_rows=3
    )
    np.testing.assert_allclose(
        from_partials, reduce(times, values, edges, agg, rows=rows, n_rows=3), rtol=1e-9, atol=1e-6
    )


def test_partial_buckets_fit_inside_windows_across_a_paris_dst_change() -> None:
    every = parse_every("1d")
    edges = window_edges(paris(2026, 10, 24), paris(2026, 10, 27), every, "Europe/Paris")
    g = partial_granularity_ns(edges, every)
    assert g == HOUR
    fine = np.arange(edges[0], edges[-1], g)
    per_window = np.bincount(np.searchsorted(edges, fine, side="right") - 1)
    assert per_window.tolist() == [24, 25, 24]
    assert to_ns(paris(2026, 10, 25)) in edges
