"""An area's live availability: counts, status and last update, from its spaces' readings.

``area_availability(area, spaces, readings, now, settings)`` is what the API calls:

- ``total`` is the BNLC ``nbre_pl`` (or the number of registered spaces if larger); spaces of
  the total without a sensor in the registry count as ``unknown``;
- ``free``/``occupied`` count the spaces whose state is known at ``now`` (``space.space_status``);
  ``pmr_free`` the free ones marked PMR;
- ``status`` (DATEX II ``parkingSiteStatus`` / NGSI-LD ``status`` values): ``closed`` when the
  area is not ``ouvert``; ``unknown`` when more than ``unknown_share_max`` of the spaces are
  (a screen then says "données indisponibles" with ``last_update``); else ``full`` at
  ``full_free`` free spaces or fewer, ``almostFull`` at ``almost_full_share`` of the total or
  fewer, ``spacesAvailable`` otherwise;
- ``last_update`` is the newest reading's measured time over the area's sensors;
- ``spaces`` holds each space's ``SpaceStatus`` by space code.

A ``SpaceLimits`` (``frozen``, learned from the area's past changes) turns a space heard but
unchanged implausibly long — a stuck sensor, an abandoned car, a sensor stuck free while the
other spaces fill — into unknown;
a ``ForecastModel`` (``forecast``) adds the expected free spaces at its horizons, among the
known spaces (as ``free`` counts them).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from analytics.parking.forecast import ForecastModel, ForecastPoint
from analytics.parking.frozen import Arrivals, SpaceLimits
from analytics.parking.registry import AreaLike, SpaceLike
from analytics.parking.settings import ParkingSettings
from analytics.parking.space import (
    Change,
    SpaceState,
    SpaceStatus,
    UnknownReason,
    changes,
    samples,
    space_history,
)
from analytics.parking.week import Holidays
from core.reading import Reading


class AreaStatus(StrEnum):
    SPACES_AVAILABLE = "spacesAvailable"
    ALMOST_FULL = "almostFull"
    FULL = "full"
    CLOSED = "closed"
    UNKNOWN = "unknown"  # too many spaces unknown: "données indisponibles"


@dataclass(frozen=True, slots=True)
class AreaAvailability:
    id_lieu: str
    total: int
    free: int
    occupied: int
    unknown: int
    pmr_free: int
    status: AreaStatus
    last_update: datetime | None
    spaces: Mapping[str, SpaceStatus] = field(default_factory=dict)
    forecast: tuple[ForecastPoint, ...] = ()  # expected free spaces ahead, nearest first


def by_device(readings: Iterable[Reading]) -> dict[str, list[Reading]]:
    out: dict[str, list[Reading]] = defaultdict(list)
    for r in readings:
        out[r.device].append(r)
    return out


def space_statuses(
    spaces: Sequence[SpaceLike],
    readings: Iterable[Reading],
    now: datetime,
    settings: ParkingSettings,
    frozen: SpaceLimits | None = None,
) -> dict[str, SpaceStatus]:
    """Each space's status by code; ``frozen`` limits mark spaces stuck in one state unknown:
    occupied far longer than the area's stays, or free while the others' cars should have
    taken it (``FreeLimits``, which counts the arrivals the readings show after its window)."""
    mine = by_device(readings)
    out: dict[str, SpaceStatus] = {}
    shown_by: dict[str, list[Change]] = {}
    for sp in spaces:
        device = sp.device
        if device is None:
            out[sp.code] = SpaceStatus(
                SpaceState.UNKNOWN, None, None, None, UnknownReason.NO_SENSOR
            )
            continue
        silent = settings.silent_after(device.codec_id, device.parameters)
        status, shown = space_history(mine.get(device.dev_eui, ()), now, silent, settings.hold)
        shown_by[device.dev_eui] = shown
        if (
            frozen is not None
            and status.state is not SpaceState.UNKNOWN
            and status.last_change is not None
            and frozen.exceeded(status.state is SpaceState.OCCUPIED, status.last_change, now)
        ):
            status = replace(status, state=SpaceState.UNKNOWN, reason=UnknownReason.FROZEN)
        out[sp.code] = status
    free = frozen.free if frozen is not None else None
    if free is None:
        return out
    recent = Arrivals.of(shown_by)  # the cars the readings show, after what ``free`` learned
    for sp in spaces:
        status = out[sp.code]
        if (
            sp.device is not None
            and status.state is SpaceState.FREE
            and status.last_change is not None
            and free.exceeded(sp.device.dev_eui, status.last_change, now, recent)
        ):
            out[sp.code] = replace(
                status, state=SpaceState.UNKNOWN, reason=UnknownReason.STUCK_FREE
            )
    return out


def area_status(
    ouvert: bool, total: int, free: int, unknown: int, settings: ParkingSettings
) -> AreaStatus:
    if not ouvert:
        return AreaStatus.CLOSED
    if total == 0 or unknown > settings.unknown_share_max * total:
        return AreaStatus.UNKNOWN
    if free <= settings.full_free:
        return AreaStatus.FULL
    if free <= math.floor(settings.almost_full_share * total):
        return AreaStatus.ALMOST_FULL
    return AreaStatus.SPACES_AVAILABLE


def area_availability(
    area: AreaLike,
    spaces: Sequence[SpaceLike],
    readings: Iterable[Reading],
    now: datetime,
    settings: ParkingSettings | None = None,
    frozen: SpaceLimits | None = None,
    forecast: ForecastModel | None = None,
) -> AreaAvailability:
    """The area's availability at ``now`` from its spaces' ``occupied`` readings."""
    settings = settings or ParkingSettings()
    statuses = space_statuses(spaces, readings, now, settings, frozen)
    total = max(area.nbre_pl, len(spaces))
    free = sum(s.state is SpaceState.FREE for s in statuses.values())
    occupied = sum(s.state is SpaceState.OCCUPIED for s in statuses.values())
    pmr = {sp.code for sp in spaces if sp.pmr}
    pmr_free = sum(statuses[c].state is SpaceState.FREE for c in pmr)
    unknown = total - free - occupied
    seen = [s.last_seen for s in statuses.values() if s.last_seen is not None]
    status = area_status(area.ouvert, total, free, unknown, settings)
    ahead: tuple[ForecastPoint, ...] = ()
    if forecast is not None and status not in (AreaStatus.CLOSED, AreaStatus.UNKNOWN):
        # Over the known spaces, as ``free`` counts them: an unknown space is no forecast.
        ahead = forecast.predict(now, float(free), free + occupied)
    return AreaAvailability(
        area.id_lieu,
        total,
        free,
        occupied,
        unknown,
        pmr_free,
        status,
        max(seen) if seen else None,
        statuses,
        ahead,
    )


def learn_space_limits(
    spaces: Sequence[SpaceLike],
    readings: Iterable[Reading],
    until: datetime,
    settings: ParkingSettings | None = None,
    zone: str | None = None,
    holidays: Holidays | None = None,
) -> SpaceLimits:
    """How long the area's spaces plausibly stay occupied, and their shares of the area's
    arrivals, from their readings up to ``until`` (weeks of them: the limits are per hour of
    the week; the local week is ``zone``'s, by default the settings')."""
    settings = settings or ParkingSettings()
    zone = zone or settings.zone
    mine = by_device(readings)
    histories = {
        sp.device.dev_eui: changes(
            samples(mine.get(sp.device.dev_eui, ()), until), settings.hold, until
        )
        for sp in spaces
        if sp.device is not None
    }
    return SpaceLimits.learn(histories, zone, holidays=holidays, until=until)
