"""`vigie analytics baseline-fit`: seeded buildings in CSV files, scored through the real CLI."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from typer.testing import CliRunner

from analytics.energy.week_hours import week_hours
from core.calendar import DayKind, FrenchCalendar
from vigie.cli import app

runner = CliRunner()
PARIS = ZoneInfo("Europe/Paris")


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Two years of three buildings: ``steady``, ``moved`` (half its use gone in year two) and
    ``new`` (test period only); hourly UTC, one gap exported as zeros."""
    rng = np.random.default_rng(12)
    hours = (np.datetime64("2024-01-01T00", "h") + np.arange(731 * 24)).astype("datetime64[s]")
    day = (hours - hours[0]).astype(np.int64) / 86_400
    temp = 11 - 8 * np.cos(2 * np.pi * (day - 15) / 365) + rng.normal(0, 2, hours.size)
    cal = FrenchCalendar()
    wk = week_hours(hours, PARIS, lambda d: cal.day_kind(d) is DayKind.PUBLIC_HOLIDAY)
    hod, dow = wk.hour_of_week % 24, wk.hour_of_week // 24
    open_ = (dow < 5) & (hod >= 8) & (hod < 19)
    kwh = 30 + 50 * open_ + 2.5 * np.maximum(14 - temp, 0) * (1 + open_)
    steady = kwh * rng.normal(1, 0.06, hours.size)
    moved = kwh * rng.normal(1, 0.06, hours.size)
    year_two = hours >= np.datetime64("2025-01-01")
    moved[year_two] *= 0.5
    steady[5000:5010] = 0.0
    stamps = [str(h) + "Z" for h in hours]
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    for path, rows in ((train, ~year_two), (test, year_two)):
        with open(path, "w") as fh:
            fh.write("building_id,timestamp,kwh\n")
            for name, series in (("steady", steady), ("moved", moved), ("new", kwh)):
                if name == "new" and path == train:
                    continue
                for i in np.flatnonzero(rows):
                    fh.write(f"{name},{stamps[i]},{series[i]:.2f}\n")
    weather = tmp_path / "weather.csv"
    with open(weather, "w") as fh:
        fh.write("timestamp,temperature_c\n")
        fh.writelines(f"{s},{t:.1f}\n" for s, t in zip(stamps, temp, strict=True))
    return train, test, weather


def test_baseline_fit_scores_each_building_on_the_test_period(tmp_path: Path) -> None:
    train, test, weather = _files(tmp_path)
    out = tmp_path / "fit.csv"
    args = ["analytics", "baseline-fit", "--train", str(train), "--test", str(test)]
    result = runner.invoke(app, [*args, "--weather", str(weather), "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = {r["building_id"]: r for r in csv.DictReader(out.open())}
    assert list(rows) == ["moved", "new", "steady"]
    assert list(rows["steady"]) == ["building_id", "cv_rmse", "nmbe", "passes_g14"]
    assert rows["steady"]["passes_g14"] == "true"
    assert float(rows["steady"]["cv_rmse"]) < 0.15
    assert abs(float(rows["steady"]["nmbe"])) < 0.03
    # Half the use gone: the model predicts twice what is measured, NMBE about −100 %.
    assert rows["moved"]["passes_g14"] == "false"
    assert float(rows["moved"]["nmbe"]) == pytest.approx(-1.0, abs=0.1)
    assert rows["new"] == {"building_id": "new", "cv_rmse": "", "nmbe": "", "passes_g14": "false"}
    assert "new: no readings in the fit period" in result.output
    assert "1/3 building(s) pass Guideline 14" in result.output


def test_baseline_fit_reports_a_bad_line_and_writes_nothing(tmp_path: Path) -> None:
    train, test, weather = _files(tmp_path)
    with open(test, "a") as fh:
        fh.write("steady,2025-13-01T00:00:00Z,4\n")
    n = len(test.read_text().splitlines())
    out = tmp_path / "fit.csv"
    args = ["analytics", "baseline-fit", "--train", str(train), "--test", str(test)]
    result = runner.invoke(app, [*args, "--weather", str(weather), "--out", str(out)])
    assert result.exit_code == 2
    assert f"test.csv:{n}: timestamp '2025-13-01T00:00:00Z' is not ISO 8601" in result.output
    assert not out.exists()


def test_an_unknown_holiday_country_is_refused(tmp_path: Path) -> None:
    train, test, weather = _files(tmp_path)
    args = ["analytics", "baseline-fit", "--train", str(train), "--test", str(test)]
    out = tmp_path / "fit.csv"
    result = runner.invoke(
        app, [*args, "--weather", str(weather), "--out", str(out), "--holidays", "ZZ"]
    )
    assert result.exit_code == 2
    assert "no public-holiday calendar for country 'ZZ'" in result.output


def test_holidays_are_a_public_calendar(tmp_path: Path) -> None:
    from vigie.baseline_cli import _holidays

    fr, gb = _holidays("FR"), _holidays("GB-ENG")
    assert fr is not None and gb is not None and _holidays("none") is None
    assert fr(date(2025, 7, 14)) and not gb(date(2025, 7, 14))
    assert gb(date(2025, 8, 25)) and not fr(date(2025, 8, 25))  # England's summer bank holiday


def test_a_school_zone_adds_its_holidays_weekends_included() -> None:
    from vigie.baseline_cli import _days_off

    off = _days_off("FR", "B")
    assert off is not None and off(date(2025, 7, 14))  # still the public holidays
    # Autumn holidays, zone B: Saturday 18 October to Sunday 2 November 2025.
    assert off(date(2025, 10, 18)) and off(date(2025, 10, 22)) and off(date(2025, 11, 2))
    assert not off(date(2025, 11, 5))  # a term Wednesday
    public = _days_off("FR", "")
    assert public is not None and not public(date(2025, 10, 22))
    with pytest.raises(ValueError, match="school-holiday zone"):
        _days_off("FR", "Q")
