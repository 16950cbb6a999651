"""Operator messages on the hub screens: published, shown while live, withdrawn, validated."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from core.clock import ManualClock
from tests.api.conftest import NOW

HUB = "/api/v1/hubs/caudry-pole-echanges/messages"


def _texts(client: TestClient, **params: str) -> list[str]:
    response = client.get(HUB, params=params)
    assert response.status_code == 200
    return [m["text"] for m in response.json()]


def test_a_message_is_live_between_its_start_and_end(
    client: TestClient, services: Services
) -> None:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    later = (NOW + timedelta(hours=1)).isoformat()
    end = (NOW + timedelta(hours=3)).isoformat()
    body = {"text": "Canicule : pensez à vous hydrater", "severity": "warning"}
    assert client.post(HUB, json=body).status_code == 201
    response = client.post(HUB, json={"text": "Travaux", "starts_at": later, "ends_at": end})
    assert response.status_code == 201
    assert response.json()["created_by"] == "local"
    assert _texts(client, live="true") == ["Canicule : pensez à vous hydrater"]
    clock.advance(timedelta(hours=2))
    assert _texts(client, live="true") == ["Canicule : pensez à vous hydrater", "Travaux"]
    clock.advance(timedelta(hours=2))
    assert _texts(client, live="true") == ["Canicule : pensez à vous hydrater"]
    assert len(_texts(client)) == 2  # the record keeps both


def test_the_most_severe_message_comes_first(client: TestClient) -> None:
    for text, severity in (("a", "info"), ("b", "critical"), ("c", "warning")):
        assert client.post(HUB, json={"text": text, "severity": severity}).status_code == 201
    assert _texts(client, live="true") == ["b", "c", "a"]


def test_a_withdrawn_message_leaves_the_screens_but_stays_on_record(client: TestClient) -> None:
    created = client.post(HUB, json={"text": "Orage : abritez-vous", "severity": "critical"})
    message_id = created.json()["id"]
    json_header = {"Content-Type": "application/json"}
    assert client.delete(f"{HUB}/{message_id}", headers=json_header).status_code == 204
    assert _texts(client, live="true") == []
    (kept,) = client.get(HUB).json()
    assert kept["withdrawn_at"] is not None
    assert client.delete(f"{HUB}/{message_id + 100}", headers=json_header).status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": ""}, "text"),
        ({"text": "x" * 281}, "text"),
        ({"text": "deux\nlignes"}, "body"),
        ({"text": "ok", "severity": "panic"}, "severity"),
        ({"text": "ok", "starts_at": "2026-11-02T10:00:00"}, "starts_at"),  # no offset
        (
            {
                "text": "ok",
                "starts_at": "2026-11-02T10:00:00+00:00",
                "ends_at": "2026-11-02T09:00:00+00:00",
            },
            "body",
        ),
        ({"text": "ok", "ends_at": "2026-11-01T09:00:00+00:00"}, "ends_at"),  # before now
    ],
)
def test_bad_messages_are_refused_with_the_field(
    client: TestClient, body: dict[str, str], field: str
) -> None:
    response = client.post(HUB, json=body)
    assert response.status_code == 422
    assert field in {str(part) for e in response.json()["detail"] for part in e["loc"]}


def test_an_unknown_hub_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/hubs/nowhere/messages").status_code == 404
    assert client.post("/api/v1/hubs/nowhere/messages", json={"text": "x"}).status_code == 404
