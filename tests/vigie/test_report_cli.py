"""`vigie report sobriety`: the HTML report and the OPERAT CSV, from the configured stores."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.config import KpiSettings
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

# The KPI tests' territory: registry and two years of readings.
from tests.analytics.kpi.conftest import (  # noqa: F401
    SITES,
    kpi_registry,
    kpi_series,
    kpi_settings,
    kpi_state,
    kpi_store,
    raw_kwh,
)
from vigie.cli import app

runner = CliRunner()


@pytest.fixture
def configured(
    kpi_state: StateStore,  # noqa: F811
    kpi_series: Path,  # noqa: F811
    kpi_settings: KpiSettings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIGIE_STATE__URL", kpi_state.url.render_as_string(hide_password=False))
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(kpi_series))
    monkeypatch.setenv("VIGIE_KPI__DEGREE_DAY_NORMALS", json.dumps(kpi_settings.degree_day_normals))


def test_the_report_and_the_operat_file_are_written(
    configured: None,
    tmp_path: Path,
    kpi_store: SqliteStore,  # noqa: F811
) -> None:
    out, operat = tmp_path / "rapport" / "sobriete.html", tmp_path / "operat.csv"
    result = runner.invoke(
        app,
        ["report", "sobriety", "--tenant", "agglo", "--year", "2025", "--out", str(out),
         "--operat", str(operat), "--as-of", "2026-02-10T12:00:00+00:00"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert f"4 building(s), 2025 → {out}" in result.output
    html = out.read_text(encoding="utf-8")
    total = re.search(r'<tr class="total" data-building="\*">.*?</tr>', html, re.DOTALL)
    assert total is not None
    *_, everything = re.findall(r'data-kwh="([^"]+)"', total.group(0))
    meters = [m for s in SITES for m in (s.linky, s.gas) if m]
    start, end = datetime(2024, 12, 31, 23, tzinfo=UTC), datetime(2025, 12, 31, 23, tzinfo=UTC)
    assert float(everything) == raw_kwh(kpi_store, meters, start, end)
    assert "normales mensuelles configurées" in html  # the settings reached the report
    rows = list(csv.DictReader(io.StringIO(operat.read_bytes().decode("utf-8-sig"))))
    assert [r["reference_interne"] for r in rows] == [
        "ecole-curie", "ecole-curie", "ecole-ferry", "ecole-ferry",
        "ecole-jaures", "ecole-jaures", "mairie",
    ]  # fmt: skip


def test_a_year_in_progress_is_said(configured: None, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        ["report", "sobriety", "--tenant", "ville", "--year", "2026", "--out", str(out),
         "--as-of", "2026-02-10T12:00:00"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(year in progress)" in result.output
    assert "Année 2026 en cours" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--tenant", "nowhere", "--year", "2025"], "no tenant 'nowhere'"),
        (["--tenant", "agglo", "--year", "2027"], "year 2027 has not started"),
    ],
)
def test_refusals_say_why(configured: None, tmp_path: Path, args: list[str], message: str) -> None:
    result = runner.invoke(
        app,
        ["report", "sobriety", *args, "--out", str(tmp_path / "r.html"), "--as-of", "2026-02-10"],
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "r.html").exists()
