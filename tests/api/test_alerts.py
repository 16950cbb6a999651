"""/api/v1/alerts through the real app on real state stores (SQLite and PostgreSQL): filtered
lists, CSV export, one alert with its history and evidence series, and the operator actions."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from analytics.alerts.engine import AlertEngine
from analytics.findings import Clearance, Estimates, Finding, Severity, SubjectKind
from api.deps import Caller, get_caller
from api.main import create_app
from api.services import Services
from core.clock import ManualClock
from core.config import AlertsSettings
from core.reading import Reading
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from tests.api.conftest import NOW

METER = "0123456789abcdef"
# A POST without a body must still say it is JSON (api/json_bodies.py).
JSON = {"Content-Type": "application/json"}
START = NOW - timedelta(hours=6)


@pytest.fixture
def services(state_store: StateStore, tmp_path: Path) -> Iterator[Services]:
    """Overrides the API fixture: the same app, on each state-store backend."""
    store = SqliteStore(tmp_path / "series.sqlite")
    yield Services(store=store, state=state_store, clock=ManualClock(NOW))
    store.close()


@pytest.fixture
def engine(services: Services) -> AlertEngine:
    return AlertEngine(services.state, services.clock, AlertsSettings(price_eur_m3=4.0))


def finding(
    subject: str = METER,
    *,
    type_: str = "household_leak",
    tenant: str = "caudry",
    severity: Severity | None = None,
    evidence: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        type=type_,
        tenant=tenant,
        subject_kind=SubjectKind.DEVICE,
        subject=subject,
        start=START,
        observed_at=NOW - timedelta(hours=1),
        severity=severity,
        evidence=evidence if evidence is not None else {"night_min_lph": [14.0]},
        estimates=Estimates(flow_lph=14.0, volume_m3=0.5),
    )


def open_alert(engine: AlertEngine, *args: Any, **kwargs: Any) -> int:
    [change] = engine.apply([finding(*args, **kwargs)])
    return change.alert_id


@pytest.fixture
def three(engine: AlertEngine) -> dict[str, int]:
    ids = {
        "leak": open_alert(engine, "leak"),
        "burst": open_alert(engine, "burst", type_="burst"),
        "beauvois": open_alert(engine, "beauvois", tenant="beauvois"),
    }
    engine.apply([], [Clearance("household_leak", "beauvois", SubjectKind.DEVICE, "beauvois", NOW)])
    return ids


def subjects(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/alerts", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted(item["subject"] for item in body["items"])


def test_the_list_filters_by_tenant_type_severity_status_and_time(
    client: TestClient, three: dict[str, int]
) -> None:
    assert subjects(client) == ["beauvois", "burst", "leak"]
    assert subjects(client, tenant="caudry") == ["burst", "leak"]
    assert subjects(client, type="burst") == ["burst"]
    assert subjects(client, type=["burst", "household_leak"]) == ["beauvois", "burst", "leak"]
    assert subjects(client, severity="critical") == ["burst"]
    assert subjects(client, status="resolved") == ["beauvois"]
    assert subjects(client, status=["open", "acknowledged"]) == ["burst", "leak"]
    assert subjects(client, since=NOW.isoformat()) == []
    assert subjects(client, until=START.isoformat()) == []
    assert client.get("/api/v1/alerts", params={"severity": "major"}).status_code == 422
    assert client.get("/api/v1/alerts", params={"since": "2026-11-02T10:00"}).status_code == 422


def test_an_item_carries_estimates_and_evidence(client: TestClient, engine: AlertEngine) -> None:
    open_alert(engine)

    [item] = client.get("/api/v1/alerts").json()["items"]
    assert item["title"] == "Fuite probable chez un abonné"
    assert (item["status"], item["severity"], item["subject_kind"]) == ("open", "warning", "device")
    assert item["estimates"] == {"flow_lph": 14.0, "volume_m3": 0.5, "cost_eur": 2.0}
    assert item["evidence"] == {"night_min_lph": [14.0]}


def test_pages_are_ordered_newest_first(
    client: TestClient, engine: AlertEngine, services: Services
) -> None:
    assert isinstance(services.clock, ManualClock)
    for i in range(3):
        open_alert(engine, f"m{i}")
        services.clock.advance(timedelta(minutes=1))

    body = client.get("/api/v1/alerts", params={"limit": 2, "offset": 1}).json()
    assert (body["total"], [i["subject"] for i in body["items"]]) == (3, ["m1", "m0"])


def test_the_detail_has_the_history_and_the_evidence_series(
    client: TestClient, engine: AlertEngine, services: Services
) -> None:
    services.store.write(
        [
            Reading(START + timedelta(minutes=30 * i), METER, "volume_m3", 10 + 0.01 * i)
            for i in range(12)
        ],
        {METER: {"tenant": "caudry"}},
    )
    evidence = {
        "night_min_lph": [14.0],
        "series": [
            {
                "device": METER.upper(),
                "quantity": "volume_m3",
                "start": START.isoformat(),
                "end": (START + timedelta(hours=2)).isoformat(),
            },
            {"device": METER, "quantity": "volume_m3", "every": "1h", "agg": "max"},
        ],
    }
    alert_id = open_alert(engine, evidence=evidence)
    engine.acknowledge(alert_id, "m.dupont", "équipe prévenue")

    body = client.get(f"/api/v1/alerts/{alert_id}").json()
    assert [(e["kind"], e["actor"], e["comment"]) for e in body["events"]] == [
        ("opened", None, None),
        ("acknowledged", "m.dupont", "équipe prévenue"),
    ]
    raw, hourly = body["series"]
    assert (raw["unit"], raw["error"]) == ("m³", None)
    assert [p["value"] for p in raw["points"]] == [10.0, 10.01, 10.02, 10.03]
    assert raw["points"][0]["time"] == "2026-11-02T06:00:00Z"
    # Default window: from the alert's start to now, per hour.
    assert [p["value"] for p in hourly["points"]] == [10.01, 10.03, 10.05, 10.07, 10.09, 10.11]


@pytest.mark.parametrize(
    "spec",
    [
        {"device": METER, "quantity": "litres"},
        {"device": METER, "quantity": "volume_m3", "start": "yesterday"},
        {"device": METER, "quantity": "volume_m3", "start": "2026-11-02T06:00:00"},
        {"device": METER, "quantity": "volume_m3", "every": "fortnight"},
        {"quantity": "volume_m3"},
    ],
)
def test_a_bad_series_in_the_evidence_leaves_the_alert_readable(
    client: TestClient, engine: AlertEngine, spec: dict[str, Any]
) -> None:
    alert_id = open_alert(engine, evidence={"series": spec})

    response = client.get(f"/api/v1/alerts/{alert_id}")
    assert response.status_code == 200
    [series] = response.json()["series"]
    assert series["error"].startswith("bad series in evidence")
    assert series["points"] == []


def test_an_unknown_alert_is_404(client: TestClient) -> None:
    assert client.get("/api/v1/alerts/999").status_code == 404
    assert client.post("/api/v1/alerts/999/ack", headers=JSON).status_code == 404
    assert client.post("/api/v1/alerts/999/resolve", json={"comment": "x"}).status_code == 404


def test_acknowledge_then_resolve_with_a_comment(client: TestClient, engine: AlertEngine) -> None:
    alert_id = open_alert(engine)

    ack = client.post(f"/api/v1/alerts/{alert_id}/ack", json={"comment": "j'y vais"})
    assert ack.status_code == 200
    assert (ack.json()["status"], ack.json()["acknowledged_by"]) == ("acknowledged", "local")
    assert ack.json()["acknowledged_at"] == NOW.isoformat().replace("+00:00", "Z")
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=JSON).status_code == 200  # again

    done = client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"comment": "vanne refermée"})
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["resolution"]) == ("resolved", "fixed")
    history = client.get(f"/api/v1/alerts/{alert_id}").json()["events"]
    assert history[-1]["comment"] == "vanne refermée"


@pytest.mark.parametrize("body", [None, {}, {"comment": ""}, {"comment": "   "}])
def test_resolving_without_a_comment_is_422(
    client: TestClient, engine: AlertEngine, body: dict[str, str] | None
) -> None:
    alert_id = open_alert(engine)

    response = client.post(f"/api/v1/alerts/{alert_id}/resolve", json=body, headers=JSON)
    assert response.status_code == 422
    assert client.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "open"


@pytest.mark.parametrize(
    ("action", "body"),
    [("ack", None), ("resolve", {"comment": "encore"}), ("assign", {"assignee": "j.martin"})],
)
def test_acting_on_a_resolved_alert_is_409(
    client: TestClient, engine: AlertEngine, action: str, body: dict[str, str] | None
) -> None:
    alert_id = open_alert(engine)
    client.post(f"/api/v1/alerts/{alert_id}/resolve", json={"comment": "fausse alerte"})

    response = client.post(f"/api/v1/alerts/{alert_id}/{action}", json=body, headers=JSON)
    assert response.status_code == 409
    assert "resolved" in response.json()["detail"]


def test_a_false_alarm_resolved_through_the_api_does_not_reopen(
    client: TestClient, engine: AlertEngine
) -> None:
    alert_id = open_alert(engine)

    done = client.post(
        f"/api/v1/alerts/{alert_id}/resolve",
        json={"comment": "remplissage de la piscine", "resolution": "false_alarm"},
    )
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["resolution"]) == ("resolved", "false_alarm")

    assert engine.apply([finding()]) == []  # the analytics' next pass
    assert subjects(client, status=["open", "acknowledged"]) == []
    [event] = [e for e in client.get(f"/api/v1/alerts/{alert_id}").json()["events"][1:]]
    assert (event["kind"], event["details"]["resolution"]) == ("resolved", "false_alarm")


def test_snooze_then_lift_through_the_api(client: TestClient, engine: AlertEngine) -> None:
    alert_id = open_alert(engine)
    until = NOW + timedelta(days=2)

    snoozed = client.post(
        f"/api/v1/alerts/{alert_id}/snooze",
        json={"until": until.isoformat(), "comment": "travaux jeudi"},
    )
    assert snoozed.status_code == 200, snoozed.text
    assert (snoozed.json()["resolution"], snoozed.json()["suppressed_until"]) == (
        "snoozed",
        until.isoformat().replace("+00:00", "Z"),
    )
    assert engine.apply([finding()]) == []

    lifted = client.post(f"/api/v1/alerts/{alert_id}/lift", json={"comment": "annulé"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["suppression_ended_at"] == NOW.isoformat().replace("+00:00", "Z")
    [again] = engine.apply([finding()])
    assert again.alert_id != alert_id
    assert client.post(f"/api/v1/alerts/{alert_id}/lift", json={}).status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {"until": "2026-11-01T00:00:00Z", "comment": "x"},  # past
        {"until": "2028-11-01T00:00:00Z", "comment": "x"},  # beyond a year
        {"until": "2026-11-05T00:00:00", "comment": "x"},  # no time zone
        {"until": "2026-11-05T00:00:00Z"},  # no comment
    ],
)
def test_a_bad_snooze_is_422(client: TestClient, engine: AlertEngine, body: dict[str, str]) -> None:
    alert_id = open_alert(engine)
    response = client.post(f"/api/v1/alerts/{alert_id}/snooze", json=body)
    assert response.status_code == 422
    assert client.get(f"/api/v1/alerts/{alert_id}").json()["status"] == "open"


def test_assign_and_unassign(client: TestClient, engine: AlertEngine) -> None:
    alert_id = open_alert(engine)

    given = client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "j.martin"})
    assert given.json()["assignee"] == "j.martin"
    taken = client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": None})
    assert taken.json()["assignee"] is None
    kinds = [e["kind"] for e in client.get(f"/api/v1/alerts/{alert_id}").json()["events"]]
    assert kinds == ["opened", "assigned", "assigned"]


def test_the_csv_export_has_the_same_filters(client: TestClient, three: dict[str, int]) -> None:
    response = client.get("/api/v1/alerts.csv", params={"tenant": "caudry"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "alertes.csv" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r["subject"] for r in rows) == ["burst", "leak"]
    leak = next(r for r in rows if r["subject"] == "leak")
    assert leak["titre"] == "Fuite probable chez un abonné"
    assert (leak["start"], leak["last_seen"]) == ("2026-11-02T06:00:00Z", "2026-11-02T11:00:00Z")
    assert (leak["volume_m3"], leak["cost_eur"], leak["resolved_at"]) == ("0.5", "2.0", "")
    assert int(leak["id"]) == three["leak"]


def test_the_csv_export_starts_with_a_bom_so_excel_reads_accents(
    client: TestClient, engine: AlertEngine
) -> None:
    alert_id = open_alert(engine)
    client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "Hélène Dupré, régie"})

    response = client.get("/api/v1/alerts.csv")

    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbfid,type,titre,")  # one BOM, then the header
    [row] = csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")))
    assert row["titre"] == "Fuite probable chez un abonné"
    assert row["assignee"] == "Hélène Dupré, régie"


def test_the_csv_export_never_hands_a_spreadsheet_a_formula(
    client: TestClient, engine: AlertEngine
) -> None:
    alert_id = open_alert(engine, '=HYPERLINK("http://evil.example","ok")')
    client.post(f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "@SUM(1+1)"})

    text = client.get("/api/v1/alerts.csv").content.decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(text))
    assert row["subject"] == '\'=HYPERLINK("http://evil.example","ok")'
    assert row["assignee"] == "'@SUM(1+1)"
    assert (row["flow_lph"], row["volume_m3"]) == ("14.0", "0.5")  # numbers stay numbers


def test_a_caller_sees_only_its_tenants(
    services: Services, engine: AlertEngine, three: dict[str, int]
) -> None:
    app = create_app(services)
    app.dependency_overrides[get_caller] = lambda: Caller("caudry", frozenset({"caudry"}))
    with TestClient(app) as client:
        assert subjects(client) == ["burst", "leak"]
        assert subjects(client, tenant="beauvois") == []
        other = three["beauvois"]
        assert client.get(f"/api/v1/alerts/{other}").status_code == 404
        assert client.post(f"/api/v1/alerts/{other}/ack", headers=JSON).status_code == 404
        csv_rows = client.get("/api/v1/alerts.csv").text.strip().splitlines()
        assert len(csv_rows) == 3  # header and two alerts


def test_openapi_lists_the_alert_routes(client: TestClient) -> None:
    paths = set(client.get("/openapi.json").json()["paths"])
    assert {
        "/api/v1/alerts",
        "/api/v1/alerts.csv",
        "/api/v1/alerts/{alert_id}",
        "/api/v1/alerts/{alert_id}/ack",
        "/api/v1/alerts/{alert_id}/resolve",
        "/api/v1/alerts/{alert_id}/assign",
        "/api/v1/alerts/{alert_id}/snooze",
        "/api/v1/alerts/{alert_id}/lift",
    } <= paths


def test_times_are_utc(client: TestClient, engine: AlertEngine) -> None:
    open_alert(engine)
    [item] = client.get("/api/v1/alerts").json()["items"]
    assert datetime.fromisoformat(item["opened_at"]) == NOW.astimezone(UTC)
