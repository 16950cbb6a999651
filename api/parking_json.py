"""The areas' availability as the JSON list ``/api/v1/parking/areas`` serves, built once a snapshot
(in the parking worker when there is one: the API process then only sends the bytes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, TypeAdapter

from api.parking_snapshot import AreaView

# The name the board keeps the list under among a snapshot's derived values.
AREAS_JSON = "areas.json"


class LocationOut(BaseModel):
    lon: float
    lat: float


class AreaOut(BaseModel):
    id_lieu: str
    name: str
    tenant: str
    type: str
    location: LocationOut
    total: int
    free: int | None  # None when not live
    occupied: int | None
    unknown: int
    pmr_total: int
    pmr_free: int | None
    status: str  # spacesAvailable, almostFull, full, closed, unknown
    live: bool
    trend_15min: int | None
    last_update: datetime | None


AREA_LIST = TypeAdapter(list[AreaOut])


def area_out(view: AreaView, live: bool) -> AreaOut:
    a, info = view.availability, view.info
    return AreaOut(
        id_lieu=info.id_lieu,
        name=info.nom_lieu,
        tenant=info.tenant,
        type=info.type,
        location=LocationOut(lon=info.xlong, lat=info.ylat),
        total=a.total,
        free=a.free if live else None,
        occupied=a.occupied if live else None,
        unknown=a.unknown,
        pmr_total=info.nbre_pmr,
        pmr_free=a.pmr_free if live else None,
        status=a.status.value if live or a.status.value == "closed" else "unknown",
        live=live,
        trend_15min=view.trend if live else None,
        last_update=a.last_update,
    )


def areas_json(views: Sequence[tuple[AreaView, bool]]) -> bytes:
    """Every area (with whether its counts are live) as the list endpoint's body."""
    return AREA_LIST.dump_json([area_out(view, live) for view, live in views])
