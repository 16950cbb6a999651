"""`vigie analytics energy-anomalies` through the real CLI, on seeded synthetic buildings."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from vigie.cli import app

runner = CliRunner()
START = np.datetime64("2025-01-06T00:00", "s")  # a Monday
DAYS = 300
WEEK_AT = 250 * 24  # a Monday, after the detector's 150 days of learning


def _stamp(t: np.datetime64) -> str:
    return f"{np.datetime_as_string(t, unit='s')}Z"


def write_inputs(tmp_path: Path, hours_kept: int | None = None) -> tuple[Path, Path]:
    """Two offices; ``b2`` gets 30 % more baseload over the week from ``WEEK_AT``."""
    rng = np.random.default_rng(11)
    n = DAYS * 24
    i = np.arange(n)
    hours = START + i * np.timedelta64(3600, "s")
    hod, weekday = i % 24, (i // 24) % 7
    temp = (
        10 + 8 * np.sin(2 * np.pi * (i / 24 - 110) / 365) + 4 * np.sin(2 * np.pi * (hod - 9) / 24)
    )
    occupied = (weekday < 5) & (hod >= 8) & (hod < 18)
    readings = ["building_id,timestamp,kwh"]
    for b in ("b1", "b2"):
        kwh = 20 + 30 * occupied + 1.5 * np.maximum(0, 15 - temp) + rng.normal(0, 2.0, n)
        if b == "b2":
            kwh[WEEK_AT : WEEK_AT + 168] += 6.0
        kept = n if hours_kept is None else hours_kept
        readings += [f"{b},{_stamp(hours[k])},{kwh[k]:.2f}" for k in range(kept)]
    weather = ["timestamp,temperature_c"] + [f"{_stamp(hours[k])},{temp[k]:.1f}" for k in range(n)]
    (tmp_path / "readings.csv").write_text("\n".join(readings) + "\n")
    (tmp_path / "weather.csv").write_text("\n".join(weather) + "\n")
    return tmp_path / "readings.csv", tmp_path / "weather.csv"


def invoke(readings: Path, weather: Path, out: Path, *extra: str) -> list[dict[str, str]]:
    args = ["analytics", "energy-anomalies", "--readings", str(readings)]
    args += ["--weather", str(weather), "--out", str(out), "--tz", "UTC", "--no-french-holidays"]
    args += extra
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(out.open()))


def test_finds_the_week_of_extra_baseload_and_only_it(tmp_path: Path) -> None:
    readings, weather = write_inputs(tmp_path)
    rows = invoke(readings, weather, tmp_path / "scores.csv", "--events", str(tmp_path / "ev.csv"))
    assert list(rows[0]) == [
        "building_id",
        "timestamp",
        "score",
        "is_anomaly",
        "expected_kwh",
        "state",
    ]
    assert len(rows) == 2 * DAYS * 24
    assert rows[0]["timestamp"] == "2025-01-06T00:00:00Z"
    assert rows[0]["score"] == "" and rows[0]["state"] == "learning"
    flagged = [r for r in rows if r["is_anomaly"] == "true"]
    assert {r["building_id"] for r in flagged} == {"b2"}
    week = {
        _stamp(START + np.timedelta64(3600 * (WEEK_AT + k), "s")) for k in range(168 + 72)
    }  # the means fade
    assert all(r["timestamp"] in week and float(r["score"]) > 0 for r in flagged)
    events = list(csv.DictReader((tmp_path / "ev.csv").open()))
    assert [(e["building_id"], e["direction"], e["level_shift"]) for e in events] == [
        ("b2", "excess", "false")
    ]
    assert float(events[0]["excess_kwh"]) == pytest.approx(6.0 * 168, rel=0.35)
    assert float(events[0]["excess_eur"]) == pytest.approx(
        0.2 * float(events[0]["excess_kwh"]), abs=0.01
    )


def test_scores_up_to_an_hour_do_not_change_when_later_hours_are_cut(tmp_path: Path) -> None:
    whole = invoke(*write_inputs(tmp_path), tmp_path / "whole.csv")
    cut = WEEK_AT + 30  # in the middle of the faulty week
    part_dir = tmp_path / "part"
    part_dir.mkdir()
    part = invoke(*write_inputs(part_dir, hours_kept=cut), part_dir / "part.csv")
    assert len(part) == 2 * cut
    by_key = {(r["building_id"], r["timestamp"]): r for r in whole}
    for r in part:
        assert r == by_key[(r["building_id"], r["timestamp"])]
    assert any(r["is_anomaly"] == "true" for r in part)  # it already knew, before the cut


def test_bad_inputs_are_refused_with_their_line(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("building_id,timestamp,kwh\nb1,2025-01-01T00:00:00Z,-3\n")
    (tmp_path / "w.csv").write_text("timestamp,temperature_c\n2025-01-01T00:00:00Z,4.0\n")
    args = ["analytics", "energy-anomalies", "--readings", str(tmp_path / "r.csv")]
    args += ["--weather", str(tmp_path / "w.csv"), "--out", str(tmp_path / "o.csv")]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "r.csv" in result.output and "2:" in result.output
    result = runner.invoke(app, [*args, "--tz", "Mars/Olympus"])
    assert result.exit_code == 2 and "Mars/Olympus" in result.output
