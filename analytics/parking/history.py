"""An area's occupancy history for dashboards: free, occupied and unknown spaces every step."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from analytics.parking.availability import by_device
from analytics.parking.forecast import ForecastModel
from analytics.parking.registry import AreaLike, SpaceLike
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import SpaceState, Timeline
from analytics.parking.week import Holidays
from core.config import DEFAULT_ZONE
from core.reading import Reading

FEW_POINTS = 8


@dataclass(frozen=True, slots=True)
class HistoryPoint:
    time: datetime  # the instant the counts hold at (the end of each step)
    free: int
    occupied: int
    unknown: int


def occupancy_history(
    area: AreaLike,
    spaces: Sequence[SpaceLike],
    readings: Iterable[Reading],
    start: datetime,
    end: datetime,
    step: timedelta = timedelta(minutes=15),
    settings: ParkingSettings | None = None,
) -> list[HistoryPoint]:
    """The counts at ``start + step``, ``start + 2·step``, … up to ``end``.

    ``readings`` should reach back one heartbeat × grace before ``start`` (a space heard only
    before the window is unknown in it otherwise). Counts are sampled at each instant, as a
    screen would have shown them, not averaged."""
    settings = settings or ParkingSettings()
    mine = by_device(readings)
    total = max(area.nbre_pl, len(spaces))
    lines: list[Timeline] = []
    for sp in spaces:
        if sp.device is None:
            continue
        silent = settings.silent_after(sp.device.codec_id, sp.device.parameters)
        lines.append(Timeline.of(mine.get(sp.device.dev_eui, ()), end, silent, settings.hold))
    return counts_at(lines, total, start, end, step)


def counts_at(
    lines: Sequence[Timeline], total: int, start: datetime, end: datetime, step: timedelta
) -> list[HistoryPoint]:
    """The counts of ``total`` spaces, ``lines`` of them sensed, at each step after ``start``."""
    n = int((end - start) / step)
    times = [start + step * (k + 1) for k in range(n)]
    if n <= FEW_POINTS:  # a trend's one point: bisecting beats building arrays
        return [_count(lines, total, t) for t in times]
    at = np.array([t.timestamp() for t in times], dtype=np.float64)
    free = np.zeros(n, dtype=np.int64)
    occupied = np.zeros(n, dtype=np.int64)
    for line in lines:
        known, occ = line.states_at(at)
        free += known & ~occ
        occupied += occ
    return [
        HistoryPoint(t, int(f), int(o), total - int(f) - int(o))
        for t, f, o in zip(times, free, occupied, strict=True)
    ]


def _count(lines: Sequence[Timeline], total: int, at: datetime) -> HistoryPoint:
    states = [line.state_at(at) for line in lines]
    free = sum(s is SpaceState.FREE for s in states)
    occupied = sum(s is SpaceState.OCCUPIED for s in states)
    return HistoryPoint(at, free, occupied, total - free - occupied)


def forecast_model(
    history: Sequence[HistoryPoint], zone: str = DEFAULT_ZONE, holidays: Holidays | None = None
) -> ForecastModel:
    """A forecast of the area fitted on its history (weeks of it: the profile is per slot of
    the week), over the known spaces of each point; points with none known are left out."""
    known = [p for p in history if p.free + p.occupied > 0]
    t = np.array([p.time.timestamp() for p in known], dtype=np.float64)
    share = np.array([p.free / (p.free + p.occupied) for p in known], dtype=np.float64)
    return ForecastModel.fit(t, share, zone, holidays=holidays)
