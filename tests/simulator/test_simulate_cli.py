"""`vigie simulate`: replay, ground truth, registry export and stats from the command line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from core.state.registry_io import import_registry
from core.state.store import StateStore
from vigie.cli import app


def test_simulate_writes_replay_truth_and_registry(tmp_path: Path) -> None:
    args = [
        "simulate",
        "--days",
        "1",
        "--start",
        "2025-01-06",
        "--seed",
        "3",
        "--format",
        "tts",
        "--out",
        str(tmp_path / "r.jsonl"),
        "--truth",
        str(tmp_path / "t.json"),
        "--export-registry",
        str(tmp_path / "reg.yaml"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "r.jsonl").read_text().splitlines()
    assert len(lines) > 5000 and '"topic": "v3/' in lines[0]
    assert (tmp_path / "t.json").stat().st_size > 0
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    assert import_registry(state, tmp_path / "reg.yaml").rows > 700
    state.dispose()


def test_simulate_stats_prints_figures_with_their_ranges() -> None:
    result = CliRunner().invoke(
        app, ["simulate", "--days", "7", "--start", "2025-01-06", "--stats"]
    )
    assert result.exit_code == 0, result.output
    assert "Annual degree days" in result.output and "Litres per household" in result.output


def test_a_bad_format_is_refused() -> None:
    result = CliRunner().invoke(app, ["simulate", "--format", "lorawan-raw"])
    assert result.exit_code != 0
