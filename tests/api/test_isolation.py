"""Tenant isolation over every route of the OpenAPI document, on PostgreSQL.

Two communes of one agglomeration each own one of everything. For every operation the app
documents — so a route added later without scoping fails here — a request without a key is a
401 unless the route is in ``PUBLIC``; with an administrator key of commune ``alpha``, a request
naming ``beta``'s objects is a 404 (as for an object that does not exist: nothing tells that it
does), and a list never mentions ``beta``'s objects, while ``beta``'s own key gets them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.main import create_app
from api.services import Services
from core.state.store import StateStore
from tests.api.conftest import NOW
from tests.api.tenancy_world import Commune, World, build_world
from tests.state_fixtures import PostgresDatabases

# Published without a key (docs/decisions/018-access-control.md): health and metrics for
# supervisors, the hub screens (opened by their display token) and the open-data carpool feeds.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/metrics"),
    ("GET", "/hub/{code}"),
    ("GET", "/hub/{code}/data"),
    ("GET", "/api/v1/parking/areas"),
    ("GET", "/api/v1/parking/areas/{id_lieu}"),
    ("GET", "/api/v1/parking/datex"),
    ("GET", "/api/v1/parking/ngsi-ld/areas"),
    ("GET", "/api/v1/parking/ngsi-ld/areas/{id_lieu}/spots"),
    ("GET", "/api/v1/parking/bnlc.csv"),
}
# Operations that change something are sent with a valid body, so that only scoping decides.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/alerts/{alert_id}/ack"): {},
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): {"comment": "réparé"},
    ("POST", "/api/v1/alerts/{alert_id}/snooze"): {
        "until": "2026-11-09T12:00:00+00:00",
        "comment": "travaux",
    },
    ("POST", "/api/v1/alerts/{alert_id}/lift"): {},
    ("POST", "/api/v1/alerts/{alert_id}/assign"): {"assignee": "m.dupont"},
    ("POST", "/api/v1/hubs/{code}/messages"): {"text": "Canicule"},
    ("DELETE", "/api/v1/hubs/{code}/messages/{message_id}"): {},
}


def _values(path: str, commune: Commune) -> dict[str, str]:
    """The commune's object for each parameter a route may take."""
    code = (
        commune.building
        if "/kpis/" in path
        else commune.sector
        if "/water/" in path
        else commune.hub
    )
    return {
        "code": code,
        "dev_eui": commune.meter,
        "device": commune.meter,
        "alert_id": str(commune.alert_id),
        "message_id": str(commune.message_id),
        "id_lieu": commune.id_lieu,
        "tenant": commune.code,
        "year": str(NOW.year),
        "quantity": "energy_kwh",
        "start": "2026-11-01T00:00:00+00:00",
        "end": "2026-11-02T00:00:00+00:00",
    }


@pytest.fixture(scope="module")
def world(
    postgres_databases: PostgresDatabases, migrated_template: str, tmp_path_factory: Any
) -> Iterator[World]:
    with postgres_databases.database(migrated_template) as url:
        state = StateStore(url)
        yield from build_world(state, Path(tmp_path_factory.mktemp("isolation")))
        state.dispose()


@pytest.fixture(scope="module")
def api(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(world.services)) as client:
        yield client


def _operations() -> list[tuple[str, str]]:
    """Every (method, path) of the app's OpenAPI document, built on a store with no data."""
    app = create_app(Services(store=None, state=None))  # type: ignore[arg-type]
    return [
        (method.upper(), path)
        for path, item in app.openapi()["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    ]


OPERATIONS = _operations()


def _call(
    api: TestClient, method: str, path: str, commune: Commune, headers: dict[str, str]
) -> Response:
    values = _values(path, commune)
    operation = api.app.openapi()["paths"][path][method.lower()]  # type: ignore[attr-defined]
    params = [p for p in operation.get("parameters", []) if p["in"] in ("path", "query")]
    unknown = [p["name"] for p in params if p["in"] == "path" and p["name"] not in values]
    assert not unknown, f"{method} {path}: give each commune's object for {unknown} in _values"
    url = path
    for p in params:
        if p["in"] == "path":
            url = url.replace("{" + p["name"] + "}", values[p["name"]])
    query = {
        p["name"]: values[p["name"]] for p in params if p["in"] == "query" and p["name"] in values
    }
    if method == "GET":
        return api.get(url, params=query, headers=headers)
    body = BODIES.get((method, path))
    assert body is not None, f"{method} {path}: give it a valid body in BODIES"
    return api.request(method, url, params=query, json=body, headers=headers)


def test_every_route_is_covered() -> None:
    assert len(OPERATIONS) >= 30
    assert set(OPERATIONS) >= PUBLIC, "a public route was removed: update PUBLIC"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_key_is_a_401_except_on_public_routes(
    api: TestClient, world: World, method: str, path: str
) -> None:
    response = _call(api, method, path, world.communes["alpha"], headers={})
    if (method, path) in PUBLIC:
        assert response.status_code != 401
    else:
        assert response.status_code == 401, response.text
        assert response.headers["www-authenticate"] == "Bearer"
        bad = _call(api, method, path, world.communes["alpha"], {"X-API-Key": "vigie_guess"})
        assert bad.status_code == 401


def _mentions(response: Response, commune: Commune) -> bool:
    text = response.text
    return any(
        marker in text
        for marker in (commune.code, commune.household, commune.meter, commune.id_lieu)
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [op for op in OPERATIONS if op not in PUBLIC],
    ids=[f"{m} {p}" for m, p in OPERATIONS if (m, p) not in PUBLIC],
)
def test_a_commune_key_never_reaches_another_communes_data(
    api: TestClient, world: World, method: str, path: str
) -> None:
    alpha, beta = world.communes["alpha"], world.communes["beta"]
    names_objects = "{" in path or any(
        p["required"] and p["name"] in ("device", "tenant")
        for p in api.app.openapi()["paths"][path][method.lower()].get("parameters", [])  # type: ignore[attr-defined]
        if p["in"] == "query"
    )
    # Alpha's key, beta's objects (first: a change must not happen).
    response = _call(api, method, path, beta, world.headers("alpha"))
    if names_objects:
        assert response.status_code == 404, f"{response.status_code}: {response.text[:300]}"
    else:
        assert response.status_code < 300, response.text[:300]
        assert not _mentions(response, beta), response.text[:300]
        assert not _mentions(_call(api, method, path, alpha, world.headers("alpha")), beta)
    # Beta's own key reaches them: the 404 above is scoping, not a missing object.
    own = _call(api, method, path, beta, world.headers("beta"))
    assert own.status_code not in (401, 403, 404), f"{own.status_code}: {own.text[:300]}"
    if not names_objects and method == "GET":
        assert _mentions(own, beta), "the list shows its own tenant's objects"
    # The agglomeration's key sees both communes.
    agglo = _call(api, method, path, beta, world.headers("agglo"))
    assert agglo.status_code not in (401, 403, 404), f"{agglo.status_code}: {agglo.text[:300]}"
