"""`vigie store rollup`, `retention` and `purge` on the configured SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.reading import Reading
from core.state.audit import audit_page
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Agg, Selection
from vigie.cli import app

runner = CliRunner()
METER = "70b3d50000000001"


@pytest.fixture
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "series.sqlite"
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(path))
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    return path


def _sixty_days(series: Path) -> tuple[datetime, datetime]:
    """A meter's hourly index over the 60 days to the current hour (the command runs on the
    system clock: readings are placed relative to it)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=60)
    store = SqliteStore(series)
    store.write(
        [Reading(start + timedelta(hours=h), METER, "volume_m3", 100 + h / 10) for h in range(1440)]
    )
    store.close()
    return start, now


def test_purge_keeps_the_configured_days_of_raw_readings_and_every_daily_answer(
    series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start, now = _sixty_days(series)
    store = SqliteStore(series)
    sel = Selection.of("volume_m3")
    daily = store.aggregate(sel, start, now, "1d", Agg.LAST, "Europe/Paris")
    store.close()

    assert runner.invoke(app, ["store", "purge"]).stdout.startswith("no retention configured")
    monkeypatch.setenv("VIGIE_STORE__ROLLUPS__RAW_RETENTION_DAYS", '{"volume_m3": 10}')
    result = runner.invoke(app, ["store", "purge"])
    assert result.exit_code == 0, result.output
    deleted = int(result.stdout.split("volume_m3: raw=")[1].split()[0])
    assert 1150 <= deleted <= 1200  # about 50 of the 60 days, hour by hour
    assert runner.invoke(app, ["store", "rollup"]).exit_code == 0

    store = SqliteStore(series)
    assert len(store.read(sel, start, now - timedelta(days=11)).times) == 0
    again = store.aggregate(sel, start, now, "1d", Agg.LAST, "Europe/Paris")
    assert again.values.tolist() == daily.values.tolist()
    store.close()


def test_purge_per_purpose_prints_rows_per_granularity(
    series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _sixty_days(series)
    purposes = {
        "leak_detection": {"quantities": ["volume_m3", "leak"], "raw_days": 10, "hourly_days": 20},
        "billing_history": {"quantities": ["volume_m3"], "daily_days": 30},
    }
    monkeypatch.setenv("VIGIE_STORE__RETENTION__PURPOSES", json.dumps(purposes))
    shown = runner.invoke(app, ["store", "retention"])
    assert shown.exit_code == 0, shown.output
    assert "volume_m3: raw=10d hourly=20d daily=30d  (billing_history, leak_detection)" in (
        shown.stdout
    )
    assert "leak: raw=10d hourly=20d daily=20d  (leak_detection)" in shown.stdout
    result = runner.invoke(app, ["store", "purge"])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.stdout.splitlines() if x.startswith("volume_m3: "))
    counts = dict(pair.split("=") for pair in line.removeprefix("volume_m3: ").split())
    assert set(counts) == {"raw", "hourly", "daily"}
    assert 48 * 24 <= int(counts["raw"]) <= 50 * 24  # about 50 of the 60 days
    assert 38 * 24 <= int(counts["hourly"]) <= 41 * 24  # whole local days: about 40
    assert 28 <= int(counts["daily"]) <= 31
    assert runner.invoke(app, ["store", "purge"]).exit_code == 0  # nothing left to delete
    state = StateStore(f"sqlite:///{series.parent / 'state.sqlite'}")
    with state.session() as session:
        _, entries = audit_page(session, None, None, 10, 0)
    state.dispose()
    assert [(e.method, e.path, e.status) for e in entries] == [("CLI", "vigie store purge", 0)]
    monkeypatch.setenv("VIGIE_STORE__BACKEND", "influxdb")
    shown = runner.invoke(app, ["store", "retention"])
    assert "InfluxDB: water kept forever while flow_m3h is" in shown.stdout
