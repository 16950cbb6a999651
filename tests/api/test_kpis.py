"""/api/v1/kpis: a building's and a portfolio's year as JSON, CSV, OPERAT CSV and HTML, on the
KPI tests' territory (registry and two years of readings, tests/analytics/kpi/conftest.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.deps import Caller, get_caller
from api.services import Services
from core.clock import ManualClock
from core.config import KpiSettings
from core.state.models import Building
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

# The territory's fixtures, shared with the analytics tests.
from tests.analytics.kpi.conftest import (  # noqa: F401
    NOW,
    SITES,
    YEAR,
    kpi_registry,
    kpi_series,
    kpi_settings,
    kpi_state,
    kpi_store,
    raw_kwh,
)
from tests.api.conftest import operator_app

START = datetime(2024, 12, 31, 23, tzinfo=UTC)
END = datetime(2025, 12, 31, 23, tzinfo=UTC)


@pytest.fixture
def api(
    kpi_state: StateStore,  # noqa: F811
    kpi_store: SqliteStore,  # noqa: F811
    kpi_settings: KpiSettings,  # noqa: F811
) -> Iterator[TestClient]:
    services = Services(kpi_store, kpi_state, ManualClock(NOW), kpi=kpi_settings)
    with TestClient(operator_app(services)) as client:
        yield client


def _rows(response: object) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")  # type: ignore[attr-defined]
    return list(csv.DictReader(io.StringIO(text)))


def test_a_buildings_year(api: TestClient, kpi_store: SqliteStore) -> None:  # noqa: F811
    response = api.get("/api/v1/kpis/buildings/ecole-jaures", params={"year": YEAR})

    assert response.status_code == 200
    body = response.json()
    site = SITES[0]
    assert body["building"]["operat_id"] == "EFA-0001" and body["partial"] is False
    assert body["energy_kwh"] == raw_kwh(kpi_store, [site.linky, site.gas or ""], START, END)
    assert [c["carrier"] for c in body["carriers"]] == ["electricity", "gas"]
    assert len(body["months"]) == 12 and body["months"][0]["month"] == "2025-01-01"
    assert body["degree_days_costic"] > body["degree_days_meteo"] > 2000
    assert body["heating_corrected_kwh"] is not None
    assert body["trajectory"]["reference"] == {
        "year": 2015,
        "energy_kwh": 420000.0,
        "degree_days": 2600.0,
        "source": "registry",
    }
    assert set(body["trajectory"]["targets_kwh"]) == {"2030", "2040", "2050"}
    assert body["sobriety"]["baseline"]["year"] == 2019
    # Alone, no peers: its own last year and the national reference.
    assert body["savings"]["peer_count"] == 1 and body["savings"]["peers_kwh"] is None
    assert body["savings"]["national_kwh_m2"] == 120.0
    assert body["comfort"]["measured_hours"] > 0
    assert {"code": "meter_reset", "subject": site.gas, "value": 1.0} in body["notes"]


def test_a_buildings_months_as_csv(api: TestClient) -> None:
    response = api.get("/api/v1/kpis/buildings/ecole-jaures.csv", params={"year": YEAR})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = _rows(response)
    body = api.get("/api/v1/kpis/buildings/ecole-jaures", params={"year": YEAR}).json()
    assert [r["month"] for r in rows] == [m["month"] for m in body["months"]]
    assert [float(r["gas_kwh"]) for r in rows] == [
        m["by_carrier_kwh"]["gas"] for m in body["months"]
    ]
    assert rows[0]["wood_kwh"] == ""


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/api/v1/kpis/buildings/nowhere", {"year": YEAR}, 404),
        ("/api/v1/kpis/buildings/ecole-jaures", {"year": 2009}, 422),
        ("/api/v1/kpis/buildings/ecole-jaures", {"year": 2027}, 422),
        ("/api/v1/kpis/buildings/ecole-jaures", {}, 422),
        ("/api/v1/kpis/portfolio", {"tenant": "nowhere", "year": YEAR}, 404),
        ("/api/v1/kpis/portfolio", {"tenant": "agglo", "year": 2030}, 422),
        ("/api/v1/kpis/operat.csv", {"tenant": "agglo"}, 422),
    ],
)
def test_refusals(api: TestClient, path: str, params: dict[str, object], status: int) -> None:
    response = api.get(path, params=params)
    assert response.status_code == status
    if status == 422 and "year" in params:
        assert response.json()["detail"][0]["loc"] == ["query", "year"]


def test_the_portfolio_ranks_the_territorys_buildings(
    api: TestClient,
    kpi_store: SqliteStore,  # noqa: F811
) -> None:
    body = api.get("/api/v1/kpis/portfolio", params={"tenant": "agglo", "year": YEAR}).json()
    assert body["tenants"] == ["agglo", "ville"]
    assert [b["savings"]["rank"] for b in body["buildings"]] == [1, 2, 3, 4]
    assert body["buildings"][0]["building"]["code"] == "ecole-curie"
    meters = [m for s in SITES for m in (s.linky, s.gas) if m]
    assert body["energy_kwh"] == raw_kwh(kpi_store, meters, START, END)
    assert body["by_carrier_kwh"]["gas"] == raw_kwh(
        kpi_store, [s.gas for s in SITES if s.gas], START, END
    )

    rows = _rows(api.get("/api/v1/kpis/portfolio.csv", params={"tenant": "agglo", "year": YEAR}))
    assert [r["building"] for r in rows] == [b["building"]["code"] for b in body["buildings"]]
    assert [float(r["energy_kwh"]) for r in rows] == [b["energy_kwh"] for b in body["buildings"]]


def test_csv_cells_never_run_as_formulas(api: TestClient, kpi_state: StateStore) -> None:  # noqa: F811
    with kpi_state.session() as session:
        b = session.scalars(select(Building).where(Building.code == "mairie")).one()
        b.name = "=1+1"
        session.commit()
    rows = _rows(api.get("/api/v1/kpis/portfolio.csv", params={"tenant": "ville", "year": YEAR}))
    assert "'=1+1" in [r["name"] for r in rows]
    operat = _rows(api.get("/api/v1/kpis/operat.csv", params={"tenant": "ville", "year": YEAR}))
    assert "'=1+1" in [r["nom_batiment"] for r in operat]


def test_operat_and_html_exports(api: TestClient) -> None:
    operat = api.get("/api/v1/kpis/operat.csv", params={"tenant": "agglo", "year": YEAR})
    assert (
        operat.status_code == 200
        and "operat-agglo-2025.csv" in operat.headers["content-disposition"]
    )
    assert len(_rows(operat)) == 7  # 4 buildings, 3 of them with gas
    html = api.get("/api/v1/kpis/portfolio.html", params={"tenant": "agglo", "year": YEAR})
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert '<table id="classement">' in html.text and '<html lang="fr">' in html.text


@pytest.mark.parametrize(
    ("tenants", "path", "params", "status"),
    [
        ({"ville"}, "/api/v1/kpis/buildings/ecole-jaures", {"year": YEAR}, 200),
        ({"agglo"}, "/api/v1/kpis/buildings/ecole-jaures", {"year": YEAR}, 404),
        ({"ville"}, "/api/v1/kpis/portfolio", {"tenant": "agglo", "year": YEAR}, 404),
        ({"ville"}, "/api/v1/kpis/operat.csv", {"tenant": "agglo", "year": YEAR}, 404),
    ],
)
def test_callers_see_only_their_tenants(
    api: TestClient, tenants: set[str], path: str, params: dict[str, object], status: int
) -> None:
    api.app.dependency_overrides[get_caller] = lambda: Caller("mairie", frozenset(tenants))  # type: ignore[attr-defined]
    assert api.get(path, params=params).status_code == status


def test_an_agglomeration_caller_sees_only_its_own_buildings_in_its_portfolio(
    api: TestClient,
) -> None:
    api.app.dependency_overrides[get_caller] = lambda: Caller("agglo", frozenset({"agglo"}))  # type: ignore[attr-defined]
    body = api.get("/api/v1/kpis/portfolio", params={"tenant": "agglo", "year": YEAR}).json()
    assert body["buildings"] == []  # every building belongs to the commune
