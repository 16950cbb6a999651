"""The hub screen's data document: counts, freshness, departures, messages, vigilance, tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.alerts.engine import AlertEngine
from analytics.findings import Finding, SubjectKind
from analytics.levels.findings import VIGILANCE
from api.display_tokens import issue_display_token
from core.config import AlertsSettings, HubSettings
from tests.api.conftest import operator_app
from tests.api.hub_fixtures import CATEAU, GARE, HUB, T0, THIRD, HubWorld, hub_world
from tests.feed_server import feed_server


@pytest.fixture
def world(tmp_path: Path) -> Iterator[HubWorld]:
    with feed_server() as feeds:
        yield from hub_world(tmp_path, feeds, HubSettings(realtime_poll_s=1))


@pytest.fixture
def client(world: HubWorld) -> Iterator[TestClient]:
    with TestClient(operator_app(world.services)) as c:
        yield c


def _doc(client: TestClient, world: HubWorld) -> dict[str, Any]:
    response = client.get(f"/hub/{HUB}/data", params={"token": world.token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


def _areas(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {a["id_lieu"]: a for a in doc["areas"]}


def test_a_screen_opens_only_with_its_current_token(client: TestClient, world: HubWorld) -> None:
    for token in (None, "", "not-the-token"):
        params = {} if token is None else {"token": token}
        assert client.get(f"/hub/{HUB}/data", params=params).status_code == 403
        assert client.get(f"/hub/{HUB}", params=params).status_code == 403
    assert client.get(f"/hub/{HUB}", params={"token": world.token}).status_code == 200
    assert client.get("/hub/nowhere/data", params={"token": world.token}).status_code == 404
    old = world.token
    world.token = issue_display_token(world.services.state, HUB)
    # The hub's row is cached (30 s, and up to 60 s while a request refreshes it): a new token
    # takes effect within a minute.
    world.clock.advance(timedelta(seconds=61))
    assert client.get(f"/hub/{HUB}/data", params={"token": old}).status_code == 403
    assert client.get(f"/hub/{HUB}/data", params={"token": world.token}).status_code == 200


def test_counts_status_and_pmr_follow_the_sensors(client: TestClient, world: HubWorld) -> None:
    gare = world.spaces[GARE]
    occupied = [i % 3 == 0 for i in range(len(gare))]  # the two PMR spaces come first: P01 taken
    world.park(GARE, occupied, T0 - timedelta(minutes=30))
    world.park(THIRD, [True] * len(world.spaces[THIRD]), T0 - timedelta(minutes=20))
    areas = _areas(_doc(client, world))
    free = occupied.count(False)
    pmr_free = sum(not o for (_, pmr), o in zip(gare, occupied, strict=True) if pmr)
    assert (areas[GARE]["free"], areas[GARE]["pmr_free"], areas[GARE]["total"]) == (
        free,
        pmr_free,
        len(gare),
    )
    assert (areas[GARE]["status"], areas[GARE]["status_fr"]) == (
        "spacesAvailable",
        "Places disponibles",
    )
    assert (areas[THIRD]["free"], areas[THIRD]["status_fr"]) == (0, "Complet")
    # Never heard from: not a zero, an unknown.
    assert (areas[CATEAU]["free"], areas[CATEAU]["live"], areas[CATEAU]["status"]) == (
        None,
        False,
        "unknown",
    )
    assert [a["id_lieu"] for a in _doc(client, world)["areas"]] == [GARE, CATEAU, THIRD]


def test_silent_sensors_make_the_area_unavailable_not_an_old_number(
    client: TestClient, world: HubWorld
) -> None:
    world.park(GARE, [False] * len(world.spaces[GARE]), T0 - timedelta(minutes=5))
    assert _areas(_doc(client, world))[GARE]["free"] == len(world.spaces[GARE])
    world.clock.advance(timedelta(hours=37))  # beyond 1.5 × the 24-h heartbeat
    gare = _areas(_doc(client, world))[GARE]
    assert (gare["free"], gare["live"], gare["status_fr"]) == (None, False, "Données indisponibles")
    assert gare["last_update"] == (T0 - timedelta(minutes=5)).isoformat().replace("+00:00", "Z")


def test_the_trend_says_where_the_area_is_heading(client: TestClient, world: HubWorld) -> None:
    n = len(world.spaces[GARE])
    world.park(GARE, [True] * n, T0 - timedelta(minutes=40))
    world.park(GARE, [i >= 6 for i in range(n)], T0 - timedelta(minutes=5))  # 6 left
    assert _areas(_doc(client, world))[GARE]["trend"] == "up"


def test_departures_messages_and_vigilance_share_the_screen(
    client: TestClient, world: HubWorld
) -> None:
    world.delay("T1", 420)
    published = client.post(
        f"/api/v1/hubs/{HUB}/messages",
        json={"text": "Canicule : pensez à vous hydrater", "severity": "warning"},
    )
    assert published.status_code == 201
    engine = AlertEngine(world.services.state, world.clock, AlertsSettings())
    engine.apply(
        [
            Finding(
                VIGILANCE,
                "ca-caudresis",
                SubjectKind.STATION,
                "selle-caudry",
                T0 - timedelta(hours=2),
                T0 - timedelta(hours=1),
                evidence={"colour": "orange", "threshold_m": 1.2, "level_m": 1.3},
            )
        ]
    )
    doc = _doc(client, world)
    departures = doc["departures"]
    assert (departures["configured"], departures["available"], departures["realtime"]) == (
        True,
        True,
        "live",
    )
    assert [(d["line"], d["headsign"], d["delay_min"]) for d in departures["items"]] == [
        ("1", "Lycée Jean Moulin", None),
        ("1", "Lycée", 7),
    ]
    assert doc["messages"] == [{"text": "Canicule : pensez à vous hydrater", "severity": "warning"}]
    (vigilance,) = doc["vigilance"]
    assert (vigilance["colour"], vigilance["colour_fr"]) == ("orange", "orange")


def test_a_broken_bus_feed_leaves_the_rest_of_the_screen(
    client: TestClient, world: HubWorld
) -> None:
    world.feeds.failing.add("/gtfs.zip")
    doc = _doc(client, world)
    assert (doc["departures"]["configured"], doc["departures"]["available"]) == (True, False)
    assert len(doc["areas"]) == 3
