"""API keys and roles on real keys (PostgreSQL and SQLite): both headers, roles refused with
403 whatever the object, household meters kept from roles without a need, revocation."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.access import KEY_TTL
from api.main import create_app
from core.state.api_keys import Role, list_keys, revoke_key
from core.state.store import StateStore
from tests.api.tenancy_world import World, build_world

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(state_store: StateStore, tmp_path: Path) -> Iterator[World]:
    yield from build_world(state_store, tmp_path)


@pytest.fixture
def api(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.services)) as client:
        yield client


def test_a_key_is_accepted_as_bearer_or_x_api_key(api: TestClient, world: World) -> None:
    key = world.keys[("alpha", Role.VIEWER)]
    assert api.get("/api/v1/devices", headers={"Authorization": f"Bearer {key}"}).is_success
    assert api.get("/api/v1/devices", headers={"X-API-Key": key}).is_success
    assert api.get("/api/v1/devices", headers={"Authorization": f"Basic {key}"}).status_code == 401
    assert api.get("/api/v1/devices", headers={"X-API-Key": key + "x"}).status_code == 401


def test_keys_are_stored_hashed(world: World, state_store: StateStore) -> None:
    with state_store.engine.connect() as connection:
        stored = " ".join(
            str(row) for row in connection.exec_driver_sql("SELECT * FROM api_key").all()
        )
    assert world.keys[("alpha", Role.ADMIN)] not in stored
    assert world.keys[("alpha", Role.ADMIN)][:10] in stored  # the hint, for listings


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        (Role.TECHNICIAN, "GET", "/api/v1/kpis/buildings/alpha-ecole?year=2026", 200),
        (Role.TECHNICIAN, "GET", "/api/v1/water/sectors/alpha-secteur/balance", 403),
        (Role.TECHNICIAN, "GET", "/api/v1/water/sectors/beta-secteur/balance", 403),
        (Role.WATER, "GET", "/api/v1/water/sectors/alpha-secteur/balance", 200),
        (Role.WATER, "GET", "/api/v1/kpis/buildings/alpha-ecole?year=2026", 403),
        (Role.VIEWER, "GET", "/api/v1/water/sectors/alpha-secteur/balance", 200),
        (Role.VIEWER, "POST", "/api/v1/alerts/{alpha_alert}/ack", 403),
        (Role.TECHNICIAN, "POST", "/api/v1/alerts/{alpha_alert}/ack", 200),
        (Role.TECHNICIAN, "POST", "/api/v1/hubs/alpha-pole/messages", 403),
        (Role.DISPLAY, "GET", "/api/v1/hubs/alpha-pole/messages", 200),
        (Role.DISPLAY, "GET", "/api/v1/devices", 403),
        (Role.DISPLAY, "GET", "/api/v1/alerts", 403),
        (
            Role.DISPLAY,
            "GET",
            "/api/v1/parking/areas/59001-C-001/history"
            "?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z",
            200,
        ),
        (
            Role.DISPLAY,
            "GET",
            "/api/v1/parking/areas/59002-C-001/history"
            "?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z",
            404,
        ),
    ],
)
def test_roles(
    api: TestClient, world: World, role: Role, method: str, path: str, status: int
) -> None:
    path = path.replace("{alpha_alert}", str(world.communes["alpha"].alert_id))
    body = {"text": "Canicule"} if method == "POST" else None
    response = api.request(method, path, json=body, headers=world.headers("alpha", role))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("role", "status"),
    [(Role.ADMIN, 200), (Role.WATER, 200), (Role.TECHNICIAN, 403), (Role.VIEWER, 403)],
)
def test_household_meter_readings_need_a_water_or_admin_key(
    api: TestClient, world: World, role: Role, status: int
) -> None:
    household = world.communes["alpha"].household
    params = {"device": household, "quantity": "volume_m3"}
    response = api.get("/api/v1/readings", params=params, headers=world.headers("alpha", role))
    assert response.status_code == status
    # Another commune's household meter is a 404 whatever the role: it is not theirs to see.
    other = {"device": world.communes["beta"].household, "quantity": "volume_m3"}
    assert (
        api.get("/api/v1/readings", params=other, headers=world.headers("alpha", role)).status_code
        == 404
    )


def test_a_revoked_key_is_refused_once_the_cache_expires(
    api: TestClient, world: World, state_store: StateStore
) -> None:
    headers = world.headers("alpha", Role.VIEWER)
    assert api.get("/api/v1/devices", headers=headers).status_code == 200
    with state_store.session() as session:
        [key_id] = [k.id for k in list_keys(session) if k.name == "alpha viewer"]
        revoke_key(session, key_id, world.clock.now())
    assert api.get("/api/v1/devices", headers=headers).status_code == 200  # cached
    world.clock.advance(KEY_TTL + timedelta(seconds=1))
    assert api.get("/api/v1/devices", headers=headers).status_code == 401


def test_every_change_is_in_the_audit_log_of_its_tenant(api: TestClient, world: World) -> None:
    alert_id = world.communes["alpha"].alert_id
    technician = world.headers("alpha", Role.TECHNICIAN)
    assert api.post(f"/api/v1/alerts/{alert_id}/ack", json={}, headers=technician).is_success
    refused = api.post("/api/v1/hubs/alpha-pole/messages", json={"text": "x"}, headers=technician)
    assert refused.status_code == 403
    api.get("/api/v1/alerts", headers=technician)  # reads are not logged

    page = api.get("/api/v1/audit", headers=world.headers("alpha")).json()
    assert page["total"] == 1  # the refusal changed nothing
    [first] = page["items"]
    assert (first["actor"], first["method"], first["path"], first["status"]) == (
        "alpha technician",
        "POST",
        f"/api/v1/alerts/{alert_id}/ack",
        200,
    )
    assert first["tenant"] == "alpha" and first["client_ip"] == "testclient"
    assert first["at"].startswith("2026-11-02T12:00") and first["key_id"] is not None

    assert api.get("/api/v1/audit", headers=world.headers("beta")).json()["total"] == 0
    assert api.get("/api/v1/audit", headers=world.headers("agglo")).json()["total"] == 1
    assert api.get("/api/v1/audit", headers=technician).status_code == 403
    text = api.get("/api/v1/audit.csv", headers=world.headers("alpha")).content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,at,key_id,actor") and len(lines) == 2
    assert "alpha technician" in text and "2026-11-02T12:00:00Z" in text


@pytest.mark.parametrize(
    ("role", "visible"),
    [(Role.ADMIN, True), (Role.WATER, True), (Role.TECHNICIAN, False), (Role.VIEWER, False)],
)
def test_household_consumption_is_kept_from_roles_without_a_need(
    api: TestClient, world: World, role: Role, visible: bool
) -> None:
    alpha = world.communes["alpha"]
    headers = world.headers("alpha", role)
    detail = api.get(f"/api/v1/devices/{alpha.household}", headers=headers)
    assert detail.status_code == (200 if visible else 403)
    assert api.get(f"/api/v1/devices/{alpha.meter}", headers=headers).status_code == 200
    alert = api.get(f"/api/v1/alerts/{alpha.alert_id}", headers=headers)
    assert alert.status_code == 200  # the alert is theirs; the home's series is not
    devices = [s["device"] for s in alert.json()["series"]]
    assert devices == ([alpha.household] if visible else [])


@pytest.mark.parametrize(
    ("role", "real"),
    [(Role.WATER, True), (Role.ADMIN, True), (Role.TECHNICIAN, False), (Role.VIEWER, False)],
)
def test_household_meter_ids_are_pseudonymised_for_other_roles(
    api: TestClient, world: World, role: Role, real: bool
) -> None:
    alpha = world.communes["alpha"]
    headers = world.headers("alpha", role)
    calls = [
        api.get("/api/v1/devices", headers=headers),
        api.get("/api/v1/alerts", headers=headers),
        api.get("/api/v1/alerts.csv", headers=headers),
        api.get(f"/api/v1/alerts/{alpha.alert_id}", headers=headers),
    ]
    assert all(c.status_code == 200 for c in calls)
    devices = {d["dev_eui"]: d for d in calls[0].json()["items"]}
    assert alpha.meter in devices  # a public building's meter keeps its id
    [alert] = calls[1].json()["items"]
    if real:
        assert alpha.household in devices and alert["subject"] == alpha.household
        return
    assert all(alpha.household not in c.text for c in calls)
    [alias] = [eui for eui in devices if eui.startswith("m-")]
    assert devices[alias]["name"] is None
    # The same meter has the same pseudonym everywhere: rows can be followed, not named.
    assert alert["subject"] == alias and alias in calls[2].text
    assert calls[3].json()["evidence"]["series"]["device"] == alias
