"""``/api/v1/readings``: one device's series of one quantity, raw or aggregated per window.

What one request may ask for is bounded before anything is read, and a request past a bound is a
422 that names it (``ctx``): raw points over at most ``MAX_RAW_SPAN``, windows over at most
``MAX_SPAN``, and never more than ``MAX_POINTS`` points or windows in the answer. A raw read asks
the store how many points the span holds first (a count InfluxDB computes on the server) and
reads them only when they fit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from typing import Annotated
from zoneinfo import available_timezones

import numpy as np
from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import CallerDep, ClockDep, StateDep, StoreDep, ZoneDep
from api.errors import NOT_FOUND, STORE_DOWN, invalid
from api.params import Instant
from api.routes import API_V1
from api.scoping import visible_device
from core.quantities import QUANTITIES
from core.series import from_ns
from core.timeseries import ANY_CHANNEL, Agg, Selection, TimeSeriesStore
from core.windows import parse_every, window_edges

router = APIRouter(prefix=f"{API_V1}/readings", tags=["readings"])

MAX_POINTS = 100_000  # points, or windows × series, in one answer
MAX_RAW_SPAN = timedelta(days=31)  # raw points: a month
MAX_SPAN = timedelta(days=732)  # windows: two years, so a year can be set beside the one before
DEFAULT_SPAN = timedelta(days=1)
DEVEUI = r"^[0-9A-Fa-f]{16}$"


class Point(BaseModel):
    time: datetime
    value: float | None


class SeriesOut(BaseModel):
    channel: str | None
    tags: dict[str, str]
    points: list[Point]


class ReadingsOut(BaseModel):
    device: str
    quantity: str
    unit: str
    start: datetime
    end: datetime
    every: str | None
    agg: Agg | None
    tz: str
    series: list[SeriesOut]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones()) | {"UTC"}


@router.get(
    "",
    response_model=ReadingsOut,
    responses={**NOT_FOUND, **STORE_DOWN},
    description=f"Raw points (at most {MAX_RAW_SPAN.days} days) or one value per window (at "
    f"most {MAX_SPAN.days} days), never more than {MAX_POINTS} points or windows × series; past "
    "a bound the 422 names it in `ctx`.",
)
def readings(
    store: StoreDep,
    state: StateDep,
    clock: ClockDep,
    caller: CallerDep,
    zone: ZoneDep,
    device: Annotated[str, Query(description="DevEUI, 16 hex digits", pattern=DEVEUI)],
    quantity: Annotated[str, Query(description="A quantity of the vocabulary, e.g. volume_m3")],
    start: Annotated[Instant | None, Query(description="Inclusive; default end − 24 h")] = None,
    end: Annotated[Instant | None, Query(description="Exclusive; default now")] = None,
    every: Annotated[
        str | None, Query(description="Window: 15m, 1h, 1d, 1w, 1mo", max_length=16)
    ] = None,
    agg: Annotated[Agg, Query(description="Aggregation per window")] = Agg.MEAN,
    tz: Annotated[
        str | None, Query(description="Zone of day and longer windows; default: the territory's")
    ] = None,
    channel: Annotated[str | None, Query(description="Only this channel", max_length=64)] = None,
) -> ReadingsOut:
    q = QUANTITIES.get(quantity)
    if q is None:
        raise invalid(
            ("query", "quantity"), f"unknown quantity {quantity!r}; see the quantity vocabulary"
        )
    device = device.lower()
    end = end or clock.now()
    start = start or end - DEFAULT_SPAN
    if end <= start:
        raise invalid(("query", "end"), "end must be after start")
    tz = tz or zone
    if tz not in _zones():
        raise invalid(("query", "tz"), f"unknown time zone {tz!r}")
    visible_device(state, caller, device)
    selection = Selection.of(
        quantity, devices=[device], channel=ANY_CHANNEL if channel is None else channel
    )
    if every is None:
        series = _raw(store, selection, start, end)
    else:
        series = _windows(store, selection, start, end, every, agg, tz)
    return ReadingsOut(
        device=device,
        quantity=quantity,
        unit=q.unit,
        start=start,
        end=end,
        every=every,
        agg=agg if every else None,
        tz=tz,
        series=series,
    )


def _raw(
    store: TimeSeriesStore, selection: Selection, start: datetime, end: datetime
) -> list[SeriesOut]:
    if end - start > MAX_RAW_SPAN:
        raise invalid(
            ("query", "start"),
            f"raw points over at most {MAX_RAW_SPAN.days} days: narrow the span or ask for "
            "windows with every=",
            max_raw_span_days=MAX_RAW_SPAN.days,
        )
    counts = store.aggregate(selection, start, end, "1d", Agg.COUNT, "UTC")
    if int(np.nansum(counts.values)) > MAX_POINTS:
        raise _too_many_points()
    raw = store.read(selection, start, end)
    if len(raw.times) > MAX_POINTS:  # written between the count and the read
        raise _too_many_points()
    series: list[SeriesOut] = []
    for i, key in enumerate(raw.keys):
        times, values = raw.series(i)
        points = [
            Point(time=from_ns(t), value=v)
            for t, v in zip(times.tolist(), values.tolist(), strict=True)
        ]
        series.append(SeriesOut(channel=key.channel, tags=raw.tags[i], points=points))
    return series


def _windows(
    store: TimeSeriesStore,
    selection: Selection,
    start: datetime,
    end: datetime,
    every: str,
    agg: Agg,
    tz: str,
) -> list[SeriesOut]:
    if end - start > MAX_SPAN:
        raise invalid(
            ("query", "start"),
            f"windows over at most {MAX_SPAN.days} days: narrow the span",
            max_span_days=MAX_SPAN.days,
        )
    try:
        step = parse_every(every)
    except ValueError as exc:
        raise invalid(("query", "every"), str(exc)) from None
    try:
        windows = len(window_edges(start, end, step, tz)) - 1
    except ValueError:  # beyond the edge computation's own bound, far beyond ours
        windows = MAX_POINTS + 1
    if windows > MAX_POINTS:
        raise invalid(
            ("query", "every"),
            f"more than {MAX_POINTS} windows of {every}: ask for a longer every=",
            max_points=MAX_POINTS,
        )
    grid = store.aggregate(selection, start, end, every, agg, tz)
    if grid.values.size > MAX_POINTS:  # several channels
        raise invalid(
            ("query", "every"),
            f"more than {MAX_POINTS} windows × series: ask for a longer every= or one channel",
            max_points=MAX_POINTS,
        )
    starts = [from_ns(t) for t in grid.starts.tolist()]
    series: list[SeriesOut] = []
    for i, key in enumerate(grid.keys):
        cells = [None if np.isnan(v) else float(v) for v in grid.values[i].tolist()]
        points = [Point(time=t, value=v) for t, v in zip(starts, cells, strict=True)]
        series.append(SeriesOut(channel=key.channel, tags=grid.tags[i], points=points))
    return series


def _too_many_points() -> Exception:
    return invalid(
        ("query", "start"),
        f"more than {MAX_POINTS} points: narrow the span or ask for windows with every=",
        max_points=MAX_POINTS,
    )
