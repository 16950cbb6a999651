"""State-changing requests must be JSON: what a cross-site HTML form can send is refused with
415 before it reaches a route, so a web page cannot act on alerts through a browser."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from analytics.alerts.engine import AlertEngine
from analytics.alerts.queries import alert_events, get_alert
from analytics.findings import Finding, SubjectKind
from api.services import Services
from core.config import AlertsSettings
from tests.api.conftest import NOW


@pytest.fixture
def alert_id(backend_services: Services) -> int:
    engine = AlertEngine(backend_services.state, backend_services.clock, AlertsSettings())
    [change] = engine.apply(
        [
            Finding(
                type="household_leak",
                tenant="caudry",
                subject_kind=SubjectKind.DEVICE,
                subject="0123456789abcdef",
                start=NOW,
                observed_at=NOW,
            )
        ]
    )
    return change.alert_id


def test_a_form_posted_from_another_site_cannot_resolve_an_alert(
    backend_client: TestClient, backend_services: Services, alert_id: int
) -> None:
    # What <form method="post" action=".../resolve"> sends: urlencoded fields.
    response = backend_client.post(
        f"/api/v1/alerts/{alert_id}/resolve",
        data={"comment": "pwned", "resolution": "false_alarm"},
        headers={"Origin": "https://evil.example"},
    )

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert get_alert(backend_services.state, alert_id).status == "open"
    assert [e.kind for e in alert_events(backend_services.state, alert_id)] == ["opened"]


@pytest.mark.parametrize(
    ("headers", "content"),
    [
        ({"Content-Type": "application/x-www-form-urlencoded"}, b"comment=x"),
        ({"Content-Type": "multipart/form-data; boundary=b"}, b"--b--\r\n"),
        ({"Content-Type": "text/plain"}, b'{"comment": "x"}'),  # enctype="text/plain"
        ({}, b""),  # no body, no type: an acknowledgement from an <img> or a bare form
    ],
    ids=["urlencoded", "multipart", "text/plain", "no content type"],
)
@pytest.mark.parametrize("action", ["ack", "resolve", "snooze", "lift", "assign"])
def test_every_action_refuses_what_is_not_json(
    backend_client: TestClient,
    backend_services: Services,
    alert_id: int,
    action: str,
    headers: dict[str, str],
    content: bytes,
) -> None:
    response = backend_client.post(
        f"/api/v1/alerts/{alert_id}/{action}", headers=headers, content=content
    )

    assert response.status_code == 415
    assert get_alert(backend_services.state, alert_id).status == "open"


def test_json_with_or_without_a_body_is_accepted(backend_client: TestClient, alert_id: int) -> None:
    json_utf8 = {"Content-Type": "application/json; charset=utf-8"}
    assert (
        backend_client.post(f"/api/v1/alerts/{alert_id}/ack", headers=json_utf8).status_code == 200
    )
    assert backend_client.post(
        f"/api/v1/alerts/{alert_id}/assign", json={"assignee": "j.m"}
    ).is_success


def test_reads_need_no_content_type(backend_client: TestClient, alert_id: int) -> None:
    assert backend_client.get("/api/v1/alerts").status_code == 200
    assert backend_client.get("/api/v1/alerts.csv").status_code == 200


def test_the_refusal_is_documented_on_every_action(backend_client: TestClient) -> None:
    paths = backend_client.get("/openapi.json").json()["paths"]
    posts = {path: item["post"] for path, item in paths.items() if "post" in item}
    assert posts and all("415" in op["responses"] for op in posts.values())
