"""``vigie evaluate water``: a simulated run scored through the command line, against its truth."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from simulator.territory_file import SAMPLE_TERRITORY, load_territory
from vigie.cli import app

runner = CliRunner()

# 30 days of seed 75 hold every kind of water fault the detectors are judged on: household and
# building leaks, a sector leak past the detector's warm-up, a burst.
DAYS, SEED = 30, 75
ONLY = ["--only", "water_meter", "--only", "sector_inflow"]
DETECTORS = (
    "household continuous flow",
    "building continuous flow",
    "building night flow",
    "building, either detector",
    "sector leak steps",
    "sector bursts",
)


@dataclass(frozen=True)
class Evaluated:
    root: Path
    output: str
    truth: dict[str, Any]
    rows: dict[str, dict[str, Any]]  # "detector / faults" → row
    report: dict[str, Any]

    def row(self, detector: str, faults: str) -> dict[str, Any]:
        return self.rows[f"{detector} / {faults}"]

    def faults(self, kind: str, lo: timedelta, hi: timedelta) -> list[dict[str, Any]]:
        """Faults of ``kind`` starting in [run start + lo, run end - hi]."""
        start = datetime.fromisoformat(self.truth["run"]["start"])
        end = start + timedelta(days=self.truth["run"]["days"])
        return [
            f
            for f in self.truth["faults"]
            if f["kind"] == kind and start + lo <= _when(f["start"]) <= end - hi
        ]


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _simulate(root: Path, *extra: str) -> None:
    result = runner.invoke(
        app,
        [
            "simulate",
            *("--days", str(DAYS), "--start", "2025-01-01T00:00:00", "--seed", str(SEED)),
            *ONLY,
            *extra,
        ],
    )
    assert result.exit_code == 0, result.output


def _evaluate(root: Path, *extra: str) -> Evaluated:
    out = root / "scores.json"
    result = runner.invoke(
        app, ["evaluate", "water", "--truth", str(root / "truth.json"), "--json", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    rows = {f"{r['detector'].strip()} / {r['faults']}": r for r in report["rows"]}
    truth = json.loads((root / "truth.json").read_text(encoding="utf-8"))
    return Evaluated(root, result.output, truth, rows, report)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Evaluated:
    root = tmp_path_factory.mktemp("evaluate")
    _simulate(root, "--out", str(root / "replay.jsonl"), "--truth", str(root / "truth.json"))
    return _evaluate(root, "--replay", str(root / "replay.jsonl"))


def test_the_replay_goes_through_the_ingest_whole(replayed: Evaluated) -> None:
    expected = replayed.truth["expected"]
    ingest = replayed.report["ingest"]
    assert ingest["messages"] == expected["published"]
    assert ingest["stored"] > 0 and "unknown_device" in ingest["dead_letters"]
    assert f"ingest: {expected['published']} messages" in replayed.output


def test_the_table_has_every_detector_and_the_targets(replayed: Evaluated) -> None:
    for name in DETECTORS:
        assert name in replayed.output
    lines = replayed.output.splitlines()
    target = [x for x in lines if x.startswith("household continuous flow   household_leak >=")]
    assert len(target) == 1 and "median<=48h" in target[0]
    assert target[0].endswith(("PASS", "MISS"))
    sector = [x for x in lines if x.startswith("sector leak steps")]
    assert len(sector) == 1 and sector[0].endswith(("PASS", "MISS"))


def test_injected_counts_are_the_truths_eligible_faults(replayed: Evaluated) -> None:
    week, day = timedelta(days=7), timedelta(days=1)
    household = replayed.faults("household_leak", timedelta(0), week)
    big = replayed.row("household continuous flow", "household_leak >= 10 L/h")
    assert big["injected"] == sum(f["magnitude"] >= 10 for f in household) > 0
    every = replayed.row("household continuous flow", "household_leak, every size")
    assert every["injected"] == len(household)
    sizes = ("5-10 L/h", "10-20 L/h", ">= 20 L/h")
    assert sum(replayed.row("by size", f"household_leak {s}")["injected"] for s in sizes) == len(
        household
    )

    devices = load_territory(SAMPLE_TERRITORY).devices()
    metered = {d.building for d in devices if d.role == "water_meter" and d.building}
    building = [
        f for f in replayed.faults("building_leak", timedelta(0), week) if f["subject"] in metered
    ]
    assert replayed.row("building, either detector", "building_leak")["injected"] == len(building)
    # Both building rules need a week of the building's own nights first.
    late = [f for f in replayed.faults("building_leak", 8 * day, week) if f["subject"] in metered]
    assert replayed.row("building continuous flow", "building_leak")["injected"] == len(late)
    assert replayed.row("building night flow", "building_leak")["injected"] == len(late)
    assert late != building  # the run has building leaks in the first week

    sector = replayed.row("every leak", "sector_leak >= 2 % of inflow")
    assert sector["injected"] == len(replayed.faults("sector_leak", 14 * day, week)) > 0
    visible = replayed.row("sector leak steps", "sector_leak >= 2 % within 7 d")
    assert 0 < visible["injected"] <= sector["injected"]
    bursts = replayed.row("sector bursts", "burst")
    assert bursts["injected"] == len(replayed.faults("burst", 14 * day, day)) > 0


def test_the_pool_is_no_continuous_flow_false_alarm(replayed: Evaluated) -> None:
    # The pool never has a zero hour: its use, not a leak. The continuous-flow rule leaves it to
    # the night-flow rule instead of holding it in alert the whole run.
    row = replayed.row("building continuous flow", "building_leak")
    assert not any(a.startswith("le-cateau-piscine@") for a in row["notes"]["false_alarms"])
    assert "le-cateau-piscine" in row["notes"]["unjudged"] + row["notes"]["always_on"]
    assert set(row["notes"]["always_on"]) <= {"le-cateau-piscine"}  # no other building is


def test_the_scores_are_consistent(replayed: Evaluated) -> None:
    for key, r in replayed.rows.items():
        assert 0 <= r["found"] <= r["injected"], key
        if r["injected"]:
            assert r["recall"] == pytest.approx(r["found"] / r["injected"]), key
        if r["detections"]:
            assert r["false_alarms"] <= r["detections"], key
        if r["median_delay_h"] is not None:
            assert 0 < r["median_delay_h"] <= 7 * 24, key
    hh = replayed.row("household continuous flow", "household_leak, every size")
    assert hh["precision"] == pytest.approx(1 - hh["false_alarms"] / hh["detections"])
    big = replayed.row("household continuous flow", "household_leak >= 10 L/h")
    assert len(big["notes"]["false_alarms"]) == hh["false_alarms"]


def test_without_a_replay_the_configured_stores_are_read(
    replayed: Evaluated, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The registry alone, no reading: the meters are known, no fault can be judged, no alert.
    monkeypatch.setenv("VIGIE_STATE__URL", f"sqlite:///{tmp_path / 'state.sqlite'}")
    monkeypatch.setenv("VIGIE_STORE__SQLITE_PATH", str(tmp_path / "timeseries.sqlite"))
    shutil.copy(replayed.root / "truth.json", tmp_path / "truth.json")
    _simulate(tmp_path, "--export-registry", str(tmp_path / "registry.yaml"))
    imported = runner.invoke(app, ["registry", "import", str(tmp_path / "registry.yaml")])
    assert imported.exit_code == 0, imported.output

    evaluated = _evaluate(tmp_path)

    assert "ingest:" not in evaluated.output
    big = evaluated.row("household continuous flow", "household_leak >= 10 L/h")
    leaks = [f for f in evaluated.truth["faults"] if f["kind"] == "household_leak"]
    assert (
        big["notes"]["meters"]
        == replayed.row("household continuous flow", "household_leak >= 10 L/h")["notes"]["meters"]
    )
    assert (big["notes"]["no_meter"], big["notes"]["no_data"]) == (0, len(leaks))
    assert (big["injected"], big["detections"], big["result"]) == (0, 0, "n/a")
    assert "known on arrival / household_leak >= 10 L/h" not in evaluated.rows


def test_with_a_replay_the_household_delay_is_also_counted_from_arrival(
    replayed: Evaluated,
) -> None:
    """The meters send their hours once a day: an alert is known at the next uplink."""
    data = replayed.row("household continuous flow", "household_leak >= 10 L/h")
    arrival = replayed.row("known on arrival", "household_leak >= 10 L/h")
    assert data["target"].endswith("on arrival")
    assert arrival["injected"] == data["injected"] and arrival["found"] <= data["found"]
    assert data["median_delay_h"] < arrival["median_delay_h"] <= data["median_delay_h"] + 25
    ok = arrival["median_delay_h"] <= 48 and data["recall"] >= 0.9 and data["precision"] >= 0.9
    assert data["result"] == ("PASS" if ok else "MISS")
