"""NGSI-LD entities of the Smart Data Models ``dataModel.Parking``: ``OffStreetParking`` per area
and ``ParkingSpot`` per space, keyed by the BNLC ``id_lieu`` and the space code."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from analytics.parking.availability import AreaStatus
from analytics.parking.space import SpaceState
from api.parking_board import AreaView

CONTEXT = [
    "https://raw.githubusercontent.com/smart-data-models/dataModel.Parking/master/context.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]
MEDIA_TYPE = "application/ld+json"
# SDM's status of an off-street parking: a list from DATEX II's site and opening statuses.
SITE_STATUS = {
    AreaStatus.SPACES_AVAILABLE: ["open", "spacesAvailable"],
    AreaStatus.ALMOST_FULL: ["open", "almostFull"],
    AreaStatus.FULL: ["open", "full"],
    AreaStatus.CLOSED: ["closed"],
}


def area_urn(id_lieu: str) -> str:
    return f"urn:ngsi-ld:OffStreetParking:{id_lieu}"


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _property(value: Any, observed: datetime | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "Property", "value": value}
    if observed is not None:
        out["observedAt"] = _stamp(observed)
    return out


def off_street_parking(view: AreaView, live: bool) -> dict[str, Any]:
    """One area; its counts only when live (an old count is left out, not repeated)."""
    info, a = view.info, view.availability
    entity: dict[str, Any] = {
        "id": area_urn(info.id_lieu),
        "type": "OffStreetParking",
        "name": _property(info.nom_lieu),
        "category": _property(["public", "free", "parkingLot"]),
        "location": {
            "type": "GeoProperty",
            "value": {"type": "Point", "coordinates": [info.xlong, info.ylat]},
        },
        "totalSpotNumber": _property(a.total),
        "requiredPermit": _property([]),
    }
    if info.nbre_pmr:
        entity["extraSpotNumber"] = _property(info.nbre_pmr)
    if live:
        entity["availableSpotNumber"] = _property(a.free, a.last_update)
        entity["occupiedSpotNumber"] = _property(a.occupied, a.last_update)
    if a.status is AreaStatus.CLOSED or live:
        entity["status"] = _property(SITE_STATUS[a.status], a.last_update)
    if a.last_update is not None:
        entity["observationDateTime"] = _property(
            {"@type": "DateTime", "@value": _stamp(a.last_update)}
        )
    entity["@context"] = CONTEXT
    return entity


def parking_spots(view: AreaView) -> list[dict[str, Any]]:
    """The area's spaces: free, occupied, closed (the area is) or unknown."""
    closed = view.availability.status is AreaStatus.CLOSED
    spots = []
    for space in view.info.spaces:
        status = view.availability.spaces.get(space.code)
        state = "closed" if closed else (status.state.value if status else SpaceState.UNKNOWN)
        entity: dict[str, Any] = {
            "id": f"urn:ngsi-ld:ParkingSpot:{space.code}",
            "type": "ParkingSpot",
            "name": _property(space.code),
            "category": _property(["offStreet"] + (["forDisabled"] if space.pmr else [])),
            "status": _property(str(state), status.last_seen if status else None),
            "refParkingSite": {"type": "Relationship", "object": area_urn(view.info.id_lieu)},
            "@context": CONTEXT,
        }
        if status is not None and status.last_seen is not None:
            entity["observationDateTime"] = _property(
                {"@type": "DateTime", "@value": _stamp(status.last_seen)}
            )
        spots.append(entity)
    return spots


def entities(views: Sequence[tuple[AreaView, bool]]) -> list[dict[str, Any]]:
    return [off_street_parking(view, live) for view, live in views]
