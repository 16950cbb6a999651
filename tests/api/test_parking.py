"""/api/v1/parking: JSON, history, DATEX II v3, NGSI-LD (Smart Data Models) and BNLC CSV, on the
sample territory's areas with readings written to the real embedded store."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from fastapi.testclient import TestClient

from core.config import HubSettings
from tests.api.conftest import operator_app
from tests.api.hub_fixtures import CATEAU, GARE, T0, THIRD, HubWorld, hub_world
from tests.feed_server import feed_server

PRK = "{http://datex2.eu/schema/3/parking}"
COM = "{http://datex2.eu/schema/3/common}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
# The columns of etalab/schema-lieux-covoiturage v0.2.3, in the order the published schema lists
# them (schema.data.gouv.fr, "Liste des propriétés").
BNLC_FIELDS = [
    "id_lieu", "id_local", "nom_lieu", "ad_lieu", "com_lieu", "insee", "type", "date_maj",
    "ouvert", "source", "Xlong", "Ylat", "nbre_pl", "nbre_pmr", "duree", "horaires", "proprio",
    "lumiere", "comm",
]  # fmt: skip


@pytest.fixture
def world(tmp_path: Path) -> Iterator[HubWorld]:
    with feed_server() as feeds:
        yield from hub_world(tmp_path, feeds, HubSettings())


@pytest.fixture
def client(world: HubWorld) -> Iterator[TestClient]:
    gare = len(world.spaces[GARE])
    world.park(GARE, [i < 10 for i in range(gare)], T0 - timedelta(minutes=30))
    world.park(THIRD, [True] * len(world.spaces[THIRD]), T0 - timedelta(minutes=20))
    with TestClient(operator_app(world.services)) as c:
        yield c


def _areas(client: TestClient) -> dict[str, dict[str, Any]]:
    response = client.get("/api/v1/parking/areas")
    assert response.status_code == 200
    return {a["id_lieu"]: a for a in response.json()}


def test_areas_give_counts_only_when_live(client: TestClient, world: HubWorld) -> None:
    areas = _areas(client)
    gare = len(world.spaces[GARE])
    assert (areas[GARE]["free"], areas[GARE]["occupied"], areas[GARE]["unknown"]) == (
        gare - 10,
        10,
        0,
    )
    assert (areas[GARE]["status"], areas[GARE]["live"], areas[GARE]["pmr_free"]) == (
        "spacesAvailable",
        True,
        0,  # the PMR spaces are the first ones, both taken
    )
    assert (areas[THIRD]["status"], areas[THIRD]["free"]) == ("full", 0)
    assert (areas[CATEAU]["status"], areas[CATEAU]["free"], areas[CATEAU]["live"]) == (
        "unknown",
        None,
        False,
    )


def test_an_area_lists_its_spaces(client: TestClient, world: HubWorld) -> None:
    body = client.get(f"/api/v1/parking/areas/{GARE}").json()
    states = [s["state"] for s in body["spaces"]]
    assert states == ["occupied"] * 10 + ["free"] * (len(world.spaces[GARE]) - 10)
    silent = client.get(f"/api/v1/parking/areas/{CATEAU}").json()["spaces"]
    assert {(s["state"], s["reason"]) for s in silent} == {("unknown", "never_heard")}
    assert client.get("/api/v1/parking/areas/59000-C-999").status_code == 404
    assert client.get("/api/v1/parking/areas/not-an-id").status_code == 422


def test_history_samples_the_counts(client: TestClient, world: HubWorld) -> None:
    gare = len(world.spaces[GARE])
    world.park(GARE, [False] * 5, T0 - timedelta(minutes=12))  # five leave
    params = {
        "start": (T0 - timedelta(hours=1)).isoformat(),
        "end": T0.isoformat(),
        "step_min": "15",
    }
    points = client.get(f"/api/v1/parking/areas/{GARE}/history", params=params).json()
    assert [(p["free"], p["occupied"], p["unknown"]) for p in points] == [
        (0, 0, gare),  # 45 min before: never heard yet
        (gare - 10, 10, 0),
        (gare - 10, 10, 0),  # 15 min before: the five had not left yet
        (gare - 5, 5, 0),
    ]
    params["step_min"] = "0"
    assert client.get(f"/api/v1/parking/areas/{GARE}/history", params=params).status_code == 422


def test_datex_ii_parking_status_publication(client: TestClient, world: HubWorld) -> None:
    response = client.get("/api/v1/parking/datex")
    assert response.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "{http://datex2.eu/schema/3/d2Payload}payload"
    assert root.attrib[XSI_TYPE] == "prk:ParkingStatusPublication"
    assert root.find(f"{COM}publicationTime") is not None
    records = {
        r.find(f"{PRK}parkingRecordReference").attrib["id"]: r  # type: ignore[union-attr]
        for r in root.iter(f"{PRK}parkingRecordStatus")
    }
    gare = records[GARE]
    assert [child.tag.removeprefix(PRK) for child in gare] == [
        "parkingRecordReference",
        "parkingStatusOriginTime",
        "parkingOccupancy",
        "parkingSiteStatus",
    ]
    occupancy = {c.tag.removeprefix(PRK): c.text for c in gare.find(f"{PRK}parkingOccupancy")}  # type: ignore[union-attr]
    n = len(world.spaces[GARE])
    assert occupancy == {
        "parkingNumberOfVacantSpaces": str(n - 10),
        "parkingNumberOfOccupiedSpaces": "10",
        "parkingOccupancy": f"{100 * 10 / n:.1f}",
    }
    assert gare.findtext(f"{PRK}parkingStatusOriginTime") == "2026-12-07T06:28:00Z"
    # Not live: no counts, an unknown status.
    assert records[CATEAU].find(f"{PRK}parkingOccupancy") is None
    assert records[CATEAU].findtext(f"{PRK}parkingSiteStatus") == "statusUnknown"
    assert records[THIRD].findtext(f"{PRK}parkingSiteStatus") == "full"


def test_ngsi_ld_entities(client: TestClient, world: HubWorld) -> None:
    response = client.get("/api/v1/parking/ngsi-ld/areas")
    assert response.headers["content-type"] == "application/ld+json"
    entities = {e["id"]: e for e in response.json()}
    gare = entities[f"urn:ngsi-ld:OffStreetParking:{GARE}"]
    assert gare["type"] == "OffStreetParking"
    assert any("smart-data-models/dataModel.Parking" in c for c in gare["@context"])
    n = len(world.spaces[GARE])
    assert gare["availableSpotNumber"]["value"] == n - 10
    assert gare["occupiedSpotNumber"]["value"] == 10
    assert gare["totalSpotNumber"]["value"] == n
    assert gare["status"]["value"] == ["open", "spacesAvailable"]
    assert gare["location"]["value"] == {
        "type": "Point",
        "coordinates": [
            gare["location"]["value"]["coordinates"][0],
            pytest.approx(50.108, abs=0.01),
        ],
    }
    assert gare["observationDateTime"]["value"]["@value"] == "2026-12-07T06:28:00Z"
    silent = entities[f"urn:ngsi-ld:OffStreetParking:{CATEAU}"]
    assert "availableSpotNumber" not in silent and "status" not in silent
    spots = client.get(f"/api/v1/parking/ngsi-ld/areas/{GARE}/spots").json()
    assert [s["status"]["value"] for s in spots].count("free") == n - 10
    assert {s["refParkingSite"]["object"] for s in spots} == {gare["id"]}
    assert "forDisabled" in spots[0]["category"]["value"]


def test_bnlc_export_follows_the_national_schema(client: TestClient) -> None:
    response = client.get("/api/v1/parking/bnlc.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == BNLC_FIELDS
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert [r["id_lieu"] for r in records] == sorted([GARE, CATEAU, THIRD])
    for r in records:
        assert re.fullmatch(r"([013-9]\d|2[AB1-9])\d{3}-C-\d{3}", r["id_lieu"])
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", r["date_maj"])
        assert r["ouvert"] in ("true", "false")
        assert re.fullmatch(r"-?\d+\.\d{4,}", r["Xlong"]) and re.fullmatch(
            r"-?\d+\.\d{4,}", r["Ylat"]
        )
        assert int(r["nbre_pl"]) >= int(r["nbre_pmr"]) >= 0
