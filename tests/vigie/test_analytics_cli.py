"""`vigie analytics`: the CSV entry points and one pass of the runner, through the real CLI."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from analytics.detectors.registry import DETECTORS
from core.state.leases import TenantLease
from core.state.models import Tenant
from core.state.registry_io import import_registry
from core.state.store import StateStore
from simulator.territory_file import load_territory, write_registry
from vigie.cli import app

runner = CliRunner()


def test_sector_leaks_finds_a_step_and_says_when_it_knew(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    start = datetime(2026, 1, 5)  # naive: local time in Europe/Paris
    lines = ["timestamp,flow_m3h"]
    for i in range(60 * 24 * 4):  # 60 days, every 15 minutes
        t = start + timedelta(minutes=15 * i)
        day = 2.0 + 3.0 * np.sin(np.pi * max(0, t.hour - 5) / 19) if t.hour >= 5 else 1.0
        leak = 1.2 if i >= 35 * 24 * 4 else 0.0
        lines.append(f"{t.isoformat()},{day + leak + rng.normal(0, 0.05):.3f}")
    (tmp_path / "inflow.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "events.csv"
    result = runner.invoke(
        app,
        ["analytics", "sector-leaks", "--inflow", str(tmp_path / "inflow.csv"), "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 1
    assert rows[0]["start"].startswith("2026-02-0")  # the leak began on 9 February
    onset = datetime(2026, 2, 9, tzinfo=ZoneInfo("Europe/Paris"))
    detected = datetime.fromisoformat(rows[0]["detected_at"])
    assert detected.minute == 45  # a sample's time: the last one the rule had read
    assert timedelta(0) < detected - onset <= timedelta(days=2)
    assert float(rows[0]["flow_m3h_estimate"]) == pytest.approx(1.2, rel=0.2)


def test_household_leaks_finds_the_leaking_home(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    start = datetime(2026, 3, 2)
    lines = ["household_id,timestamp_local,meter_reading_l,other"]
    for home in ("h1", "h2"):
        index = 50_000.0
        for i in range(14 * 24):
            t = start + timedelta(hours=i, minutes=3)
            use = rng.gamma(1.5, 15.0) if (t.hour >= 7 and rng.random() < 0.4) else 0.0
            index += use + (12.0 if home == "h2" and i >= 4 * 24 else 0.0)
            lines.append(f"{home},{t.isoformat(sep=' ')},{index:.0f},x")
    (tmp_path / "readings.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "events.csv"
    result = runner.invoke(
        app,
        [
            "analytics", "household-leaks",
            "--readings", str(tmp_path / "readings.csv"), "--out", str(out),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert [r["household_id"] for r in rows] == ["h2"]
    assert float(rows[0]["flow_lph_estimate"]) == pytest.approx(12.0, abs=1.5)
    detected = datetime.fromisoformat(rows[0]["detected_at"])
    assert detected.minute == 3  # a reading's time
    assert timedelta(hours=24) <= detected - datetime.fromisoformat(rows[0]["start"])


def test_a_bad_csv_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "inflow.csv"
    bad.write_text("timestamp,flow_m3h\n2026-01-05T00:00:00,1.0\nnot-a-time,2.0\n")
    result = runner.invoke(
        app, ["analytics", "sector-leaks", "--inflow", str(bad), "--out", str(tmp_path / "o.csv")]
    )
    assert result.exit_code == 2
    assert "inflow.csv:3: bad timestamp" in result.output


def test_one_pass_of_the_runner_on_empty_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "ts.sqlite"))
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    result = runner.invoke(app, ["analytics", "run", "--once"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["scanned"] == {"detectors": {f"{n}.subjects": 0 for n in DETECTORS}}
    assert report["failed"] == {}


def test_one_partitioned_pass_judges_every_tenant_then_gives_the_leases_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, write_registry(load_territory(), tmp_path / "registry.yaml"))
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "ts.sqlite"))
    monkeypatch.setenv("VIGIE_STATE__URL", str(state.url))
    monkeypatch.setenv("VIGIE_ANALYTICS__PARTITION", "true")
    monkeypatch.setenv("VIGIE_ANALYTICS__RUNNER_ID", "analytics-1")
    result = runner.invoke(app, ["analytics", "run", "--once"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    with state.session() as s:
        tenants = sorted(s.scalars(sa.select(Tenant.code)))
        holders = set(s.scalars(sa.select(TenantLease.holder)))
    state.dispose()
    assert report["tenants"] == tenants
    assert set(report["scanned"]) == {f"detectors@{t}" for t in tenants}
    assert holders == {None}  # released on the way out: the next runner need not wait


def test_a_webhook_route_without_a_secret_is_refused_at_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "ts.sqlite"))
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    monkeypatch.setenv(
        "VIGIE_ALERTS__ROUTES", '[{"channel": "webhook", "to": ["https://hooks.example/x"]}]'
    )
    result = runner.invoke(app, ["analytics", "run", "--once"])
    assert result.exit_code == 2
    assert "secret" in result.output


def test_the_detectors_are_listed_with_their_parameters_and_units() -> None:
    result = runner.invoke(app, ["analytics", "detectors", "--json"])
    assert result.exit_code == 0, result.output
    listed = {d["name"]: d for d in json.loads(result.stdout)}
    assert set(listed) == set(DETECTORS)
    burst = {p["name"]: p for p in listed["burst"]["parameters"]}
    assert burst["floor_lph"] == {"name": "floor_lph", "default": 5000.0, "unit": "L/h"}
    assert (
        listed["river_levels"]["alert_types"][0]["title_fr"] == "Niveau de vigilance crue atteint"
    )
    text = runner.invoke(app, ["analytics", "detectors"]).output
    assert "steps.min_step_m3h" in text and "m³/h" in text
