"""What an area's past teaches its live view: stuck-space limits, a forecast, and each space's
current state as it began (``learn_area``, from weeks of readings, refreshed rarely).

A live view reads only the sensors' heartbeat window, so a state older than the window looks as
if it began at the window's first reading; ``anchors`` carry the reading that really began each
space's current state, so that a stay of days can be judged against ``limits``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from analytics.parking.forecast import ForecastModel
from analytics.parking.frozen import SpaceLimits
from analytics.parking.history import HistoryPoint, counts_at, forecast_model
from analytics.parking.registry import AreaLike, SpaceLike
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import QUANTITY, Change, SpaceState, SpaceStatus, Timeline, changes
from analytics.parking.week import Holidays
from core.reading import Reading
from core.series import SeriesSet, from_ns, to_ns

# A profile per slot of the week needs a week of history at least; with less, the forecast
# would be persistence dressed as a model, so none is given.
MIN_FORECAST_HISTORY = timedelta(days=7)
HISTORY_STEP = timedelta(minutes=15)


@dataclass(frozen=True)
class AreaModels:
    limits: SpaceLimits
    forecast: ForecastModel | None  # None: less than ``MIN_FORECAST_HISTORY`` of known counts
    anchors: Mapping[str, Reading] = field(default_factory=dict)  # by DevEUI


def learn_area(
    area: AreaLike,
    spaces: Sequence[SpaceLike],
    seqs: Mapping[str, Sequence[tuple[datetime, bool]]],
    start: datetime,
    until: datetime,
    settings: ParkingSettings | None = None,
    zone: str | None = None,
    holidays: Holidays | None = None,
) -> AreaModels:
    """Limits, forecast and anchors from the area's sensors' samples over [start, until]
    (``seqs`` by DevEUI, as ``samples`` or ``samples_by_device`` give them); the local week is
    ``zone``'s, by default the settings'."""
    settings = settings or ParkingSettings()
    zone = zone or settings.zone
    histories: dict[str, list[Change]] = {}
    lines: list[Timeline] = []
    for sp in spaces:
        if sp.device is None:
            continue
        seq = seqs.get(sp.device.dev_eui, ())
        histories[sp.device.dev_eui] = changes(seq, settings.hold, until)
        silent = settings.silent_after(sp.device.codec_id, sp.device.parameters)
        lines.append(Timeline.of_samples(seq, until, silent, settings.hold))
    limits = SpaceLimits.learn(histories, zone, holidays=holidays, until=until)
    total = max(area.nbre_pl, len(spaces))
    points = counts_at(lines, total, start, until, HISTORY_STEP)
    return AreaModels(limits, _forecast(points, zone, holidays), anchors_of(histories))


def samples_by_device(series: SeriesSet, until: datetime) -> dict[str, list[tuple[datetime, bool]]]:
    """Each device's ``occupied`` samples up to ``until``, as ``space.samples`` gives them from
    readings (sorted, one per instant, occupied winning a tie), straight from the columns."""
    out: dict[str, list[tuple[datetime, bool]]] = {}
    last = to_ns(until)
    for i, key in enumerate(series.keys):
        if key.quantity != QUANTITY:
            continue
        t, values = series.series(i)
        keep = t <= last
        order = np.argsort(t[keep], kind="stable")
        t, x = t[keep][order], values[keep][order] >= 0.5
        times, first = np.unique(t, return_index=True)
        occupied = np.logical_or.reduceat(x, first) if len(t) else x
        seq = out.setdefault(key.device, [])
        seq.extend(zip(map(from_ns, times.tolist()), occupied.tolist(), strict=True))
    for seq in out.values():
        seq.sort()  # a device in several series (channels) merges into one sequence
    return out


def _forecast(
    points: Sequence[HistoryPoint], zone: str, holidays: Holidays | None
) -> ForecastModel | None:
    known = [p for p in points if p.free + p.occupied > 0]
    if not known or known[-1].time - known[0].time < MIN_FORECAST_HISTORY:
        return None
    return forecast_model(known, zone, holidays)


def anchors_of(histories: Mapping[str, Sequence[Change]]) -> dict[str, Reading]:
    """The reading that began each device's last shown state."""
    return {
        dev_eui: Reading(shown[-1].time, dev_eui, QUANTITY, 1.0 if shown[-1].occupied else 0.0)
        for dev_eui, shown in histories.items()
        if shown
    }


def anchor_of(dev_eui: str, status: SpaceStatus) -> Reading | None:
    """The reading that began a space's current state, from its live status."""
    if status.last_change is None or status.known is None:
        return None
    occupied = status.known is SpaceState.OCCUPIED
    return Reading(status.last_change, dev_eui, QUANTITY, 1.0 if occupied else 0.0)
