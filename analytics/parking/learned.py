"""What an area's past teaches its live view: stuck-space limits, a forecast, and each space's
current state as it began (``learn_area``, from weeks of readings, refreshed rarely).

A live view reads only the sensors' heartbeat window, so a state older than the window looks as
if it began at the window's first reading; ``anchors`` carry the reading that really began each
space's current state, so that a stay of days can be judged against ``limits``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from analytics.parking.availability import by_device
from analytics.parking.forecast import ForecastModel
from analytics.parking.frozen import SpaceLimits
from analytics.parking.history import HistoryPoint, forecast_model, occupancy_history
from analytics.parking.registry import AreaLike, SpaceLike
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import QUANTITY, Change, SpaceState, SpaceStatus, changes, samples
from analytics.parking.week import PARIS, Holidays
from core.reading import Reading

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
    readings: Iterable[Reading],
    start: datetime,
    until: datetime,
    settings: ParkingSettings | None = None,
    zone: str = PARIS,
    holidays: Holidays | None = None,
) -> AreaModels:
    """Limits, forecast and anchors from the area's ``occupied`` readings over [start, until]."""
    settings = settings or ParkingSettings()
    mine = by_device(readings)
    histories: dict[str, list[Change]] = {
        sp.device.dev_eui: changes(
            samples(mine.get(sp.device.dev_eui, ()), until), settings.hold, until
        )
        for sp in spaces
        if sp.device is not None
    }
    limits = SpaceLimits.learn(list(histories.values()), zone, holidays=holidays)
    own = [r for d in histories for r in mine.get(d, ())]
    points = occupancy_history(area, spaces, own, start, until, HISTORY_STEP, settings)
    return AreaModels(limits, _forecast(points, zone, holidays), anchors_of(histories))


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
