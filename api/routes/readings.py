"""``/api/v1/readings``: one device's series of one quantity, raw or aggregated per window."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from pydantic import AwareDatetime, BaseModel

from api.deps import CallerDep, ClockDep, StoreDep
from api.routes import API_V1
from core.quantities import QUANTITIES
from core.series import from_ns
from core.timeseries import ANY_CHANNEL, Agg, Selection
from core.windows import parse_every

router = APIRouter(prefix=f"{API_V1}/readings", tags=["readings"])

MAX_POINTS = 100_000
DEFAULT_SPAN = timedelta(days=1)


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


@router.get("", response_model=ReadingsOut)
def readings(
    store: StoreDep,
    clock: ClockDep,
    caller: CallerDep,
    device: Annotated[str, Query(description="DevEUI, 16 hex digits")],
    quantity: Annotated[str, Query(description="A quantity of the vocabulary, e.g. volume_m3")],
    start: Annotated[
        AwareDatetime | None, Query(description="Inclusive; default end − 24 h")
    ] = None,
    end: Annotated[AwareDatetime | None, Query(description="Exclusive; default now")] = None,
    every: Annotated[str | None, Query(description="Window: 15m, 1h, 1d, 1w, 1mo")] = None,
    agg: Annotated[Agg, Query(description="Aggregation per window")] = Agg.MEAN,
    tz: Annotated[str, Query(description="Zone of day and longer windows")] = "Europe/Paris",
    channel: Annotated[str | None, Query(description="Only this channel")] = None,
) -> ReadingsOut:
    q = QUANTITIES.get(quantity)
    if q is None:
        raise HTTPException(422, f"unknown quantity {quantity!r}; see the quantity vocabulary")
    device = device.lower()
    end = end or clock.now()
    start = start or end - DEFAULT_SPAN
    if end <= start:
        raise HTTPException(422, "end must be after start")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(422, f"unknown time zone {tz!r}") from None
    selection = Selection.of(
        quantity, devices=[device], channel=ANY_CHANNEL if channel is None else channel
    )
    series: list[SeriesOut] = []
    if every is None:
        raw = store.read(selection, start, end)
        if len(raw.times) > MAX_POINTS:
            raise HTTPException(422, f"more than {MAX_POINTS} points: ask for windows with every=")
        for i, key in enumerate(raw.keys):
            times, values = raw.series(i)
            points = [
                Point(time=from_ns(t), value=v)
                for t, v in zip(times.tolist(), values.tolist(), strict=True)
            ]
            series.append(SeriesOut(channel=key.channel, tags=raw.tags[i], points=points))
    else:
        try:
            parse_every(every)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        grid = store.aggregate(selection, start, end, every, agg, tz)
        if grid.values.size > MAX_POINTS:
            raise HTTPException(422, f"more than {MAX_POINTS} windows: ask for a longer every=")
        starts = [from_ns(t) for t in grid.starts.tolist()]
        for i, key in enumerate(grid.keys):
            cells = [None if np.isnan(v) else float(v) for v in grid.values[i].tolist()]
            points = [Point(time=t, value=v) for t, v in zip(starts, cells, strict=True)]
            series.append(SeriesOut(channel=key.channel, tags=grid.tags[i], points=points))
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
