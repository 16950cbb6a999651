"""/api/v1/devices lists the registry's devices and shows one with its latest readings."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from api.services import Services
from core.reading import Reading
from tests.api.conftest import NOW


def test_lists_every_sample_device_with_its_registry_links(client: TestClient) -> None:
    page = client.get("/api/v1/devices", params={"limit": 1000}).json()
    assert page["total"] == len(page["items"]) > 10
    assert all(len(d["dev_eui"]) == 16 for d in page["items"])
    assert {d["tenant"] for d in page["items"]} >= {"caudry"}
    assert any(d["area"] for d in page["items"]), "parking sensors are linked to their area"


def test_filters_by_role_and_pages(client: TestClient) -> None:
    spaces = client.get("/api/v1/devices", params={"role": "parking_space"}).json()
    assert spaces["total"] >= 2
    assert {d["role"] for d in spaces["items"]} == {"parking_space"}
    first = client.get("/api/v1/devices", params={"limit": 1, "offset": 0}).json()
    second = client.get("/api/v1/devices", params={"limit": 1, "offset": 1}).json()
    assert first["items"][0]["dev_eui"] < second["items"][0]["dev_eui"]


def test_device_detail_carries_latest_readings_per_quantity(
    client: TestClient, services: Services
) -> None:
    dev = client.get("/api/v1/devices", params={"role": "climate"}).json()["items"][0]["dev_eui"]
    services.store.write(
        [
            Reading(NOW - timedelta(hours=2), dev, "temperature_c", 19.5),
            Reading(NOW - timedelta(hours=1), dev, "temperature_c", 20.25),
            Reading(NOW - timedelta(hours=1), dev, "co2_ppm", 640),
        ]
    )
    detail = client.get(f"/api/v1/devices/{dev.upper()}").json()
    assert detail["dev_eui"] == dev
    latest = {r["quantity"]: r["value"] for r in detail["latest"]}
    assert latest == {"co2_ppm": 640.0, "temperature_c": 20.25}


def test_unknown_device_is_a_404_that_says_so(client: TestClient) -> None:
    response = client.get("/api/v1/devices/ffffffffffffffff")
    assert response.status_code == 404
    assert "ffffffffffffffff" in response.json()["detail"]
