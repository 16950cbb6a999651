"""Holdout scoring: every building of either file gets a row, with a reason when not scored."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from analytics.energy.goodness import Goodness
from analytics.energy.holdout import HoldoutScore, score_holdout, write_holdout_csv
from analytics.energy.hourly_file import HourlyEnergy

PARIS = ZoneInfo("Europe/Paris")


def _energy(first: str, days: int, ids: list[str], seed: int) -> tuple[HourlyEnergy, np.ndarray]:
    hours = (np.datetime64(first, "h") + np.arange(days * 24)).astype("datetime64[s]")
    rng = np.random.default_rng(seed)
    t = 10 + 6 * np.sin(np.arange(hours.size) / 500) + rng.normal(0, 1, hours.size)
    local_hour = (np.arange(hours.size) + 1) % 24
    kwh = 20 + 30 * ((local_hour >= 8) & (local_hour < 18)) + 1.5 * np.maximum(15 - t, 0)
    rows = np.stack([kwh * rng.normal(1, 0.05, hours.size) for _ in ids])
    return HourlyEnergy(ids, hours, rows), t


def test_buildings_of_either_file_are_scored_or_told_why_not() -> None:
    train, t_train = _energy("2025-01-01T00", 120, ["a", "short", "gone"], 1)
    train.kwh[1, 24 * 10 :] = np.nan  # ten days: too few hours to fit
    test, t_test = _energy("2025-05-01T00", 30, ["a", "short", "new"], 2)
    hours = np.concatenate([train.hours, test.hours])
    temps = np.concatenate([t_train, t_test])
    scores = {s.building_id: s for s in score_holdout(train, test, hours, temps, zone=PARIS)}
    assert list(scores) == ["a", "gone", "new", "short"]
    assert scores["a"].test is not None and scores["a"].passes_g14
    assert scores["a"].fit is not None and scores["a"].fit.passes_g14
    assert scores["gone"].error == "no readings in the test period"
    assert scores["new"].error == "no readings in the fit period"
    assert scores["short"].test is None and "usable hours" in (scores["short"].error or "")
    assert not any(scores[b].passes_g14 for b in ("gone", "new", "short"))


def test_the_csv_holds_fractions_and_no_formula(tmp_path: Path) -> None:
    out = tmp_path / "fit.csv"
    write_holdout_csv(
        [
            HoldoutScore("=HYPERLINK(1)", Goodness(0.123456, -0.05, 100, True)),
            HoldoutScore("b2", Goodness(float("nan"), float("nan"), 0, False)),
            HoldoutScore("b3", None, error="no readings in the fit period"),
        ],
        out,
    )
    rows = list(csv.reader(out.open()))
    assert rows == [
        ["building_id", "cv_rmse", "nmbe", "passes_g14"],
        ["'=HYPERLINK(1)", "0.1235", "-0.0500", "true"],
        ["b2", "", "", "false"],
        ["b3", "", "", "false"],
    ]
