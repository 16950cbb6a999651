"""/metrics exposes request counters per route template in Prometheus text format."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def test_requests_are_counted_per_route_template(client: TestClient) -> None:
    client.get("/api/v1/devices/0000000000000001")
    client.get("/api/v1/devices/0000000000000002")
    text = client.get("/metrics").text
    samples = {
        (s.labels.get("route"), s.labels.get("status")): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "vigie_http_requests"
        for s in family.samples
        if s.name == "vigie_http_requests_total"
    }
    # Both lookups share one label set: the template, not the path.
    assert samples[("/api/v1/devices/{dev_eui}", "404")] == 2
