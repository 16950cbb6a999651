"""What the parking board learns from weeks of readings, seen through the API: a space stuck
occupied for days shows as unknown (``frozen``), an area with a week of history gets a forecast
and the hub screen's arrow follows it; on the sample territory with the real embedded store."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from core.config import HubSettings
from core.reading import Reading
from tests.api.conftest import operator_app
from tests.api.hub_fixtures import GARE, HUB, T0, THIRD, HubWorld, hub_world
from tests.feed_server import feed_server

DAYS = 10
STUCK_SINCE = T0 - timedelta(days=4)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[HubWorld]:
    with feed_server() as feeds:
        yield from hub_world(tmp_path, feeds, HubSettings())


def _commuters(world: HubWorld) -> None:
    """Every day for ten days, the Gare's spaces but the first fill at 06:00 UTC and empty at
    07:10; the first is occupied since four days ago and keeps saying so every six hours."""
    (stuck, _), *others = world.spaces[GARE]
    readings: list[Reading] = []
    for day in range(DAYS, -1, -1):
        morning = T0.replace(hour=6, minute=0) - timedelta(days=day)
        for dev_eui, _ in others:
            readings.append(Reading(morning, dev_eui, "occupied", 1.0))
            if day > 0:  # today they are still there at T0 (06:58)
                readings.append(Reading(morning + timedelta(minutes=70), dev_eui, "occupied", 0.0))
            readings.append(Reading(morning - timedelta(hours=12), dev_eui, "occupied", 0.0))
    readings.append(Reading(STUCK_SINCE - timedelta(days=1), stuck, "occupied", 0.0))
    at = STUCK_SINCE
    while at < T0:
        readings.append(Reading(at, stuck, "occupied", 1.0))
        at += timedelta(hours=6)
    world.services.store.write(readings)
    world.park(THIRD, [True] * len(world.spaces[THIRD]), T0 - timedelta(minutes=20))


@pytest.fixture
def client(world: HubWorld) -> Iterator[TestClient]:
    _commuters(world)
    with TestClient(operator_app(world.services)) as c:
        yield c


def _detail(client: TestClient, id_lieu: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/parking/areas/{id_lieu}")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_a_space_stuck_for_days_is_unknown_and_frozen(client: TestClient, world: HubWorld) -> None:
    gare = _detail(client, GARE)
    first, *others = gare["spaces"]
    # Heard six hours ago, occupied for four days: the area's stays last 70 minutes.
    assert (first["state"], first["reason"]) == ("unknown", "frozen")
    assert first["last_change"].startswith(STUCK_SINCE.isoformat()[:16])
    assert {(s["state"], s["reason"]) for s in others} == {("occupied", None)}
    assert (gare["live"], gare["unknown"], gare["occupied"]) == (True, 1, len(others))
    # An area with no past to learn from judges against a weekend and a day: 20 minutes is fine.
    third = _detail(client, THIRD)
    assert third["live"] and {s["state"] for s in third["spaces"]} == {"occupied"}


def test_a_stuck_space_stays_frozen_between_learnings(client: TestClient, world: HubWorld) -> None:
    """The board reads only the heartbeat window (36 h here); what began four days ago is known
    from the reading it carries forward, snapshot to snapshot, until the next day's learning."""
    stuck, _ = world.spaces[GARE][0]
    assert _detail(client, GARE)["spaces"][0]["reason"] == "frozen"
    for _ in range(3):
        world.clock.advance(timedelta(hours=6))
        world.services.store.write([Reading(world.clock.now(), stuck, "occupied", 1.0)])
        space = _detail(client, GARE)["spaces"][0]
        assert space["reason"] == "frozen"
        assert space["last_change"].startswith(STUCK_SINCE.isoformat()[:16])
    world.services.store.write([Reading(world.clock.now(), stuck, "occupied", 0.0)])
    world.clock.advance(timedelta(minutes=2))  # the change holds a minute before it shows
    assert _detail(client, GARE)["spaces"][0]["state"] == "free"


def test_an_area_with_a_week_of_history_has_a_forecast(client: TestClient) -> None:
    gare = _detail(client, GARE)
    assert [p["horizon_min"] for p in gare["forecast"]] == [15, 30, 60]
    assert [p["at"][:16] for p in gare["forecast"]] == [
        (T0 + timedelta(minutes=m)).isoformat()[:16] for m in (15, 30, 60)
    ]
    # Every morning the commuters leave at 07:10: at 07:58 the spaces are expected free.
    assert gare["free"] == 0 and gare["forecast"][-1]["free"] > 20
    assert _detail(client, THIRD)["forecast"] == []  # no week of history: no forecast


def test_the_hub_arrow_follows_the_forecast(client: TestClient, world: HubWorld) -> None:
    response = client.get(f"/hub/{HUB}/data", params={"token": world.token})
    areas = {a["id_lieu"]: a for a in response.json()["areas"]}
    # Nothing moved in the last 15 minutes; the forecast sees the commuters leave.
    assert areas[GARE]["trend"] == "up"
    assert areas[THIRD]["trend"] == "steady"
