"""`vigie readings import`: a file of readings, or a load curve, into the configured store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection
from vigie.cli import SAMPLE_REGISTRY, app

runner = CliRunner()
LINKY = "0018b2000000c002"  # the school's Linky in the sample registry


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "series.sqlite"))
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, SAMPLE_REGISTRY)
    state.dispose()
    return tmp_path


def test_a_load_curve_is_imported_and_a_bad_file_writes_nothing(env: Path) -> None:
    curve = env / "courbe.csv"
    curve.write_text("Horodate;Valeur\n2026-11-30 10:00:00;2,5\n2026-11-30 10:30:00;3\n")
    args = ["readings", "import", str(curve), "--device", LINKY, "--quantity", "power_w"]
    options = ["--time-column", "Horodate", "--value-column", "Valeur", "--delimiter", ";"]
    result = runner.invoke(app, [*args, *options, "--decimal-comma", "--scale", "1000"])
    assert result.exit_code == 0, result.output
    assert "2 readings of 1 device(s)" in result.stdout
    bad = env / "bad.csv"
    bad.write_text(
        "device,timestamp,quantity,value\nffffffffffff0001,2026-11-30T10:00Z,power_w,1\n"
    )
    refused = runner.invoke(app, ["readings", "import", str(bad)])
    assert refused.exit_code == 1
    assert "line 2: device ffffffffffff0001 is not in the registry" in refused.output
    store = SqliteStore(env / "series.sqlite")
    start = datetime(2026, 11, 30, tzinfo=UTC)
    got = store.read(Selection.of("power_w"), start, start + timedelta(days=1))
    store.close()
    assert [(r.time.hour, r.time.minute, r.value) for r in got.readings()] == [
        (9, 0, 2500.0),  # 10:00 in Paris, winter
        (9, 30, 3000.0),
    ]
