"""DATEX II v3 ``ParkingStatusPublication``: the areas' live counts as European road operators
exchange them (namespaces and element order of the v3 parking schema; no schema package is on
PyPI, so the structure is what the tests check).

An area whose data is not live is published with ``statusUnknown`` and no counts: a consumer
must not read an old number as current.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from analytics.parking.availability import AreaStatus
from api.parking_board import AreaView

D2 = "http://datex2.eu/schema/3/d2Payload"
COM = "http://datex2.eu/schema/3/common"
PRK = "http://datex2.eu/schema/3/parking"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
for _prefix, _uri in (("d2", D2), ("com", COM), ("prk", PRK), ("xsi", XSI)):
    ET.register_namespace(_prefix, _uri)

SITE_STATUS = {
    AreaStatus.SPACES_AVAILABLE: "spacesAvailable",
    AreaStatus.ALMOST_FULL: "almostFull",
    AreaStatus.FULL: "full",
    AreaStatus.CLOSED: "closed",
    AreaStatus.UNKNOWN: "statusUnknown",
}


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(
    parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str
) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    if text is not None:
        element.text = text
    return element


def parking_status_publication(
    views: Sequence[tuple[AreaView, bool]], now: datetime, *, publisher: str = "vigie"
) -> bytes:
    """The publication for ``(area, live)`` pairs, as UTF-8 XML."""
    root = ET.Element(
        f"{{{D2}}}payload",
        {
            f"{{{XSI}}}type": "prk:ParkingStatusPublication",
            "lang": "fr",
            "modelBaseVersion": "3",
        },
    )
    _sub(root, COM, "publicationTime", _stamp(now))
    creator = _sub(root, COM, "publicationCreator")
    _sub(creator, COM, "country", "fr")
    _sub(creator, COM, "nationalIdentifier", publisher)
    for view, live in views:
        a = view.availability
        record = _sub(
            root, PRK, "parkingRecordStatus", **{f"{{{XSI}}}type": "prk:ParkingSiteStatus"}
        )
        _sub(
            record,
            PRK,
            "parkingRecordReference",
            id=view.info.id_lieu,
            version="1",
            targetClass="prk:ParkingRecord",
        )
        _sub(record, PRK, "parkingStatusOriginTime", _stamp(a.last_update or now))
        status = a.status if live or a.status is AreaStatus.CLOSED else AreaStatus.UNKNOWN
        if live:
            occupancy = _sub(record, PRK, "parkingOccupancy")
            _sub(occupancy, PRK, "parkingNumberOfVacantSpaces", str(a.free))
            _sub(occupancy, PRK, "parkingNumberOfOccupiedSpaces", str(a.occupied))
            known = a.free + a.occupied
            share = 100.0 * a.occupied / known if known else 0.0
            _sub(occupancy, PRK, "parkingOccupancy", f"{share:.1f}")
        _sub(record, PRK, "parkingSiteStatus", SITE_STATUS[status])
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
