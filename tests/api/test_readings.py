"""/api/v1/readings returns one device's series, raw or per window, in local calendar days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.services import Services
from core.reading import Reading

DEVICE = "0123456789abcdef"
START = datetime(2026, 10, 23, 22, tzinfo=UTC)  # 24 Oct 00:00 in Paris, before the DST change


@pytest.fixture
def hourly(services: Services) -> list[Reading]:
    readings = [
        Reading(START + timedelta(hours=h), DEVICE, "volume_m3", 100 + 0.25 * h) for h in range(73)
    ]
    services.store.write(readings, {DEVICE: {"tenant": "caudry"}})
    return readings


def test_raw_points_come_back_in_order_with_their_unit(client: TestClient, hourly: list) -> None:
    body = client.get(
        "/api/v1/readings",
        params={
            "device": DEVICE,
            "quantity": "volume_m3",
            "start": START.isoformat(),
            "end": (START + timedelta(hours=5)).isoformat(),
        },
    ).json()
    assert body["unit"] == "m³"
    [series] = body["series"]
    assert [p["value"] for p in series["points"]] == [100, 100.25, 100.5, 100.75, 101]
    assert series["tags"] == {"tenant": "caudry"}


def test_daily_windows_follow_paris_days_including_the_25_hour_one(
    client: TestClient, hourly: list
) -> None:
    body = client.get(
        "/api/v1/readings",
        params={
            "device": DEVICE,
            "quantity": "volume_m3",
            "start": START.isoformat(),
            "end": (START + timedelta(hours=73)).isoformat(),
            "every": "1d",
            "agg": "count",
            "tz": "Europe/Paris",
        },
    ).json()
    points = body["series"][0]["points"]
    # 24 Oct: 24 hours; 25 Oct: 25 hours (clocks go back); 26 Oct: 24 hours.
    assert [p["value"] for p in points] == [24, 25, 24]
    assert points[1]["time"] == "2026-10-24T22:00:00Z"


def test_default_window_is_the_last_day_before_now(client: TestClient, services: Services) -> None:
    now = services.clock.now()
    services.store.write(
        [
            Reading(now - timedelta(hours=30), DEVICE, "temperature_c", 18.0),
            Reading(now - timedelta(hours=3), DEVICE, "temperature_c", 19.0),
        ]
    )
    body = client.get("/api/v1/readings", params={"device": DEVICE, "quantity": "temperature_c"})
    assert [p["value"] for p in body.json()["series"][0]["points"]] == [19.0]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"quantity": "volume_litres"}, "unknown quantity"),
        ({"every": "7x"}, "every="),
        ({"every": "7h"}, "divide 24 hours"),
        ({"tz": "Mars/Olympus"}, "unknown time zone"),
        ({"start": "2026-10-02T00:00:00Z", "end": "2026-10-01T00:00:00Z"}, "after start"),
    ],
)
def test_bad_parameters_are_422_with_a_reason(
    client: TestClient, params: dict[str, str], needle: str
) -> None:
    query = {"device": DEVICE, "quantity": "volume_m3", **params}
    response = client.get("/api/v1/readings", params=query)
    assert response.status_code == 422
    assert needle in response.json()["detail"]


def test_channel_filter_keeps_one_tariff_register(client: TestClient, services: Services) -> None:
    t = START
    services.store.write(
        [
            Reading(t, DEVICE, "energy_kwh", 1200.5, "hc"),
            Reading(t, DEVICE, "energy_kwh", 3400.25, "hp"),
        ]
    )
    params = {
        "device": DEVICE,
        "quantity": "energy_kwh",
        "start": t.isoformat(),
        "end": (t + timedelta(hours=1)).isoformat(),
    }
    both = client.get("/api/v1/readings", params=params).json()["series"]
    assert {s["channel"] for s in both} == {"hc", "hp"}
    only = client.get("/api/v1/readings", params={**params, "channel": "hp"}).json()["series"]
    assert [(s["channel"], s["points"][0]["value"]) for s in only] == [("hp", 3400.25)]
