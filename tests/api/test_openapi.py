"""The OpenAPI document describes every public route, so clients can be generated from it."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_openapi_lists_the_public_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/health",
        "/metrics",
        "/api/v1/devices",
        "/api/v1/devices/{dev_eui}",
        "/api/v1/readings",
    } <= set(paths)
    assert client.get("/docs").status_code == 200
