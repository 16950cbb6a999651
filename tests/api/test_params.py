"""Shared parameter bounds: ids beyond the id columns (PostgreSQL's are 32-bit) and offsets
beyond 64 bits are refused with 422 before a database sees them (they were 500s)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize("big", [2**31, 2**63], ids=["beyond PostgreSQL", "beyond SQLite"])
def test_ids_and_offsets_beyond_the_columns_are_422_not_a_database_error(
    backend_client: TestClient, big: int
) -> None:
    assert backend_client.get(f"/api/v1/alerts/{big}").status_code == 422
    assert backend_client.post(f"/api/v1/alerts/{big}/ack", json={}).status_code == 422
    assert backend_client.get(f"/api/v1/alerts/{2**31 - 1}").status_code == 404


def test_offsets_beyond_64_bits_are_422(backend_client: TestClient) -> None:
    for path in ("/api/v1/alerts", "/api/v1/devices"):
        assert backend_client.get(path, params={"offset": 2**63}).status_code == 422
        assert backend_client.get(path, params={"offset": 2**63 - 1}).json()["items"] == []
