"""The committed dashboards are what the builder makes, and each keeps the conventions Vigie's
provisioning and tests rely on (stable uids, Paris time, tenant first, known datasources)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from dashboards import JSON_DIR, PROVISIONING_DIR
from dashboards.build import rendered
from tests.dashboards.grafana import dashboards

DASHBOARDS = dashboards()
UIDS = {
    "vigie-building-energy",
    "vigie-indoor-climate",
    "vigie-water-network",
    "vigie-river-levels",
    "vigie-carpool",
    "vigie-sobriety-kpis",
    "vigie-device-health",
}
DATASOURCES = {
    ("influxdb", "vigie-influxdb"),
    ("yesoreyeram-infinity-datasource", "vigie-api"),
    ("grafana-postgresql-datasource", "vigie-state"),
}


def test_the_committed_json_is_what_the_builder_makes() -> None:
    """Run ``python -m dashboards.build`` after changing a dashboard, and commit its output."""
    committed = {p.name: p.read_text(encoding="utf-8") for p in JSON_DIR.glob("*.json")}
    assert committed == rendered()


def test_the_dashboards_and_their_uids_are_stable() -> None:
    assert set(DASHBOARDS) == UIDS


@pytest.mark.parametrize("uid", sorted(UIDS))
def test_a_dashboard_keeps_the_conventions(uid: str) -> None:
    d: dict[str, Any] = DASHBOARDS[uid]
    assert d["timezone"] == "Europe/Paris"
    names = [v["name"] for v in d["templating"]["list"]]
    assert names[0] == "tenant" and len(names) >= 2
    for v in d["templating"]["list"]:
        assert v["query"].startswith("SHOW TAG VALUES FROM ")
        assert (v["datasource"]["type"], v["datasource"]["uid"]) == ("influxdb", "vigie-influxdb")
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    for p in d["panels"]:
        grid = p["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        assert p["targets"], p["title"]
        for t in p["targets"]:
            assert (t["datasource"]["type"], t["datasource"]["uid"]) in DATASOURCES


def test_no_two_panels_overlap() -> None:
    for d in DASHBOARDS.values():
        cells: set[tuple[int, int]] = set()
        for p in d["panels"]:
            g = p["gridPos"]
            mine = {
                (x, y)
                for x in range(g["x"], g["x"] + g["w"])
                for y in range(g["y"], g["y"] + g["h"])
            }
            assert not cells & mine, f"{d['uid']}: {p['title']} overlaps"
            cells |= mine


def test_the_provisioned_datasources_are_the_ones_the_dashboards_use() -> None:
    doc = yaml.safe_load((PROVISIONING_DIR / "datasources" / "vigie.yaml").read_text())
    provided = {(d["type"], d["uid"]) for d in doc["datasources"]}
    assert provided == DATASOURCES
    influx = next(d for d in doc["datasources"] if d["type"] == "influxdb")
    assert influx["jsonData"]["version"] == "InfluxQL"


def test_the_dashboard_provider_reads_a_folder_of_json_files() -> None:
    doc = yaml.safe_load((PROVISIONING_DIR / "dashboards" / "vigie.yaml").read_text())
    [provider] = doc["providers"]
    assert provider["type"] == "file" and provider["folderUid"] == "vigie"
    assert provider["options"]["path"]
