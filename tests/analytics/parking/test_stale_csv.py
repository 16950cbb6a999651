"""`vigie analytics parking-stale`: one verdict per area at the end of a counts file."""

from __future__ import annotations

import csv
import random
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from typer.testing import CliRunner

from tests.analytics.parking.test_frozen import area_feed, last_week_at
from vigie.cli import app

runner = CliRunner()
PARIS = ZoneInfo("Europe/Paris")


def _write(path: Path, end_hour: float) -> None:
    """Four simulated areas to Tuesday ``end_hour`` of the last week: live, frozen since 09:00,
    silent since 09:00, and live but quiet (12 spaces); rows shuffled, one repeated, naive local
    timestamps."""
    end = last_week_at(1, end_hour).timestamp()
    nine = last_week_at(1, 9).timestamp()
    rows: list[list[str]] = []
    for area, seed, spaces in (
        ("live", 1, 40),
        ("frozen", 2, 40),
        ("silent", 3, 40),
        ("quiet", 4, 12),
    ):
        t, x = area_feed(seed, spaces)
        keep = t <= end
        t, x = t[keep], x[keep]
        if area == "frozen":
            x = np.where(t >= nine, x[np.searchsorted(t, nine)], x)
        if area == "silent":
            t, x = t[t <= nine], x[t <= nine]
        for s, v in zip(t.tolist(), x.tolist(), strict=True):
            local = datetime.fromtimestamp(s, UTC).astimezone(PARIS)
            stamp = local.replace(tzinfo=None).isoformat(sep=" ")
            rows.append([area, stamp, f"{v:g}", str(spaces)])
    rng = random.Random(1)
    rows.append(rows[10])
    rng.shuffle(rows)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["area_id", "timestamp", "free_spaces", "total_spaces", "source"])
        w.writerows([*r, "sim"] for r in rows)


def _run(tmp_path: Path, end_hour: float) -> dict[str, str]:
    src, out = tmp_path / "counts.csv", tmp_path / "flags.csv"
    _write(src, end_hour)
    result = runner.invoke(
        app, ["analytics", "parking-stale", "--occupancy", str(src), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    with out.open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["area_id", "stale"]
    return {r["area_id"]: r["stale"] for r in rows}


def test_frozen_and_silent_areas_are_flagged_at_the_end_of_the_file(tmp_path: Path) -> None:
    flags = _run(tmp_path, 19)
    assert flags == {"live": "0", "frozen": "1", "silent": "1", "quiet": "0"}


def test_an_hour_after_the_fault_nothing_is_sure_yet(tmp_path: Path) -> None:
    assert set(_run(tmp_path, 10).values()) == {"0"}


def test_a_file_without_the_columns_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("area,timestamp,free\na,2026-01-01T00:00:00,3\n")
    result = runner.invoke(
        app,
        ["analytics", "parking-stale", "--occupancy", str(src), "--out", str(tmp_path / "o.csv")],
    )
    assert result.exit_code == 2
    assert "missing column(s) area_id, free_spaces, total_spaces" in result.output
