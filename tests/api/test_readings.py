"""/api/v1/readings returns one device's series, raw or per window, in local calendar days."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.routes import readings
from api.services import Services
from core.reading import Reading
from core.series import SeriesSet
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from tests.api.conftest import operator_app

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
    [error] = response.json()["detail"]  # the shape of FastAPI's own validation errors
    assert needle in error["msg"]


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


def _error(response: Response) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    return dict(error)


@pytest.mark.parametrize(
    ("params", "limit"),
    [
        # 1 s windows over two years: 63 million windows. It was a 500 (a ValueError deep in
        # the store); now refused before anything is read, naming the bound.
        ({"every": "1s", "start": "2024-11-01T00:00:00Z"}, {"max_points": readings.MAX_POINTS}),
        ({"every": "1d", "start": "2020-01-01T00:00:00Z"}, {"max_span_days": 732}),
        ({"start": "2026-09-01T00:00:00Z"}, {"max_raw_span_days": 31}),
    ],
    ids=["too many windows", "windows over too long", "raw points over too long"],
)
def test_a_request_past_a_bound_is_422_naming_it(
    client: TestClient, params: dict[str, str], limit: dict[str, int]
) -> None:
    query = {"device": DEVICE, "quantity": "volume_m3", "end": "2026-11-01T00:00:00Z", **params}
    assert _error(client.get("/api/v1/readings", params=query))["ctx"] == limit


class CountingStore(SqliteStore):
    """The real SQLite store, counting the raw reads made through it."""

    raw_reads = 0

    def read(self, selection: Selection, start: datetime, end: datetime) -> SeriesSet:
        self.raw_reads += 1
        return super().read(selection, start, end)


def test_points_beyond_the_limit_are_counted_not_read(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CountingStore(tmp_path / "counting.sqlite")
    store.write([Reading(START + timedelta(minutes=m), DEVICE, "volume_m3", m) for m in range(30)])
    monkeypatch.setattr(readings, "MAX_POINTS", 20)
    query = {
        "device": DEVICE,
        "quantity": "volume_m3",
        "start": START.isoformat(),
        "end": (START + timedelta(hours=1)).isoformat(),
    }
    try:
        with TestClient(operator_app(replace(services, store=store))) as client:
            assert _error(client.get("/api/v1/readings", params=query))["ctx"] == {"max_points": 20}
            assert store.raw_reads == 0
            query["end"] = (START + timedelta(minutes=20)).isoformat()
            assert (
                len(client.get("/api/v1/readings", params=query).json()["series"][0]["points"])
                == 20
            )
            assert store.raw_reads == 1
    finally:
        store.close()


@pytest.mark.parametrize(
    "params",
    [
        {"device": "not-a-deveui"},
        {"end": "0001-01-01T00:00:00Z"},  # end − 24 h was an OverflowError: a 500
        {"start": "2300-01-01T00:00:00Z", "end": "2300-01-02T00:00:00Z"},  # beyond 64-bit ns
        {"tz": "../../etc/passwd"},
    ],
)
def test_values_the_stores_cannot_hold_are_422(client: TestClient, params: dict[str, str]) -> None:
    query = {"device": DEVICE, "quantity": "volume_m3", **params}
    assert client.get("/api/v1/readings", params=query).status_code == 422
