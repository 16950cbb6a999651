"""`vigie store rollup` and `vigie store purge` on the configured SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.reading import Reading
from core.stores.sqlite import SqliteStore
from core.timeseries import Agg, Selection
from vigie.cli import app

runner = CliRunner()
METER = "70b3d50000000001"


@pytest.fixture
def series(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "series.sqlite"
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(path))
    return path


def test_purge_keeps_the_configured_days_of_raw_readings_and_every_daily_answer(
    series: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The command runs on the system clock: readings are placed relative to it.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=60)
    store = SqliteStore(series)
    store.write(
        [Reading(start + timedelta(hours=h), METER, "volume_m3", 100 + h / 10) for h in range(1440)]
    )
    sel = Selection.of("volume_m3")
    daily = store.aggregate(sel, start, now, "1d", Agg.LAST, "Europe/Paris")
    store.close()

    assert runner.invoke(app, ["store", "purge"]).stdout.startswith("no raw retention")
    monkeypatch.setenv("VIGIE_STORE__ROLLUPS__RAW_RETENTION_DAYS", '{"volume_m3": 10}')
    result = runner.invoke(app, ["store", "purge"])
    assert result.exit_code == 0, result.output
    deleted = int(result.stdout.split("volume_m3: ")[1].split()[0])
    assert 1150 <= deleted <= 1200  # about 50 of the 60 days, hour by hour
    assert runner.invoke(app, ["store", "rollup"]).exit_code == 0

    store = SqliteStore(series)
    assert len(store.read(sel, start, now - timedelta(days=11)).times) == 0
    again = store.aggregate(sel, start, now, "1d", Agg.LAST, "Europe/Paris")
    assert again.values.tolist() == daily.values.tolist()
    store.close()
