"""Security headers, CORS for screens, rate limits on public routes, and errors without traces."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.security_headers import DEFAULT_CSP
from api.services import Services
from core.clock import ManualClock
from core.config import ApiSettings
from tests.api.conftest import operator_app

SCREEN = "https://affichage.example.fr"


@pytest.fixture
def limited(services: Services) -> Iterator[TestClient]:
    settings = ApiSettings(public_rate_per_s=1.0, public_burst=3, cors_origins=[SCREEN])
    with TestClient(operator_app(replace(services, api=settings))) as client:
        yield client


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/api/v1/devices", "/api/v1/parking/areas", "/health", "/nowhere"):
        headers = client.get(path).headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "content-security-policy" not in client.get("/docs").headers  # Swagger UI's CDN


def test_public_routes_are_rate_limited_per_client(limited: TestClient, services: Services) -> None:
    assert all(limited.get("/api/v1/parking/areas").status_code == 200 for _ in range(3))
    refused = limited.get("/api/v1/parking/bnlc.csv")
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert limited.get("/api/v1/devices").status_code == 200  # keyed routes are not limited
    assert isinstance(services.clock, ManualClock)
    services.clock.advance(timedelta(seconds=1))
    assert limited.get("/api/v1/parking/areas").status_code == 200
    assert limited.get("/api/v1/parking/areas").status_code == 429


def test_cors_lets_only_the_configured_origins_read(limited: TestClient) -> None:
    allowed = limited.get("/api/v1/parking/areas", headers={"Origin": SCREEN})
    assert allowed.headers["access-control-allow-origin"] == SCREEN
    other = limited.get("/api/v1/parking/datex", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = limited.options(
        "/api/v1/devices",
        headers={
            "Origin": SCREEN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200


def test_no_cors_without_configured_origins(client: TestClient) -> None:
    answer = client.get("/api/v1/parking/areas", headers={"Origin": SCREEN})
    assert "access-control-allow-origin" not in answer.headers


def test_an_unexpected_error_is_a_500_without_its_trace(services: Services) -> None:
    app = create_app(services)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("password=hunter2 in /srv/vigie/secret.py")

    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
    assert answer.status_code == 500
    assert answer.json() == {"detail": "internal error"}
    assert "hunter2" not in answer.text and "Traceback" not in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["content-security-policy"] == DEFAULT_CSP
