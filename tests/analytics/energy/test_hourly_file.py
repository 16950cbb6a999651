"""Hourly energy and weather files: one UTC axis, zero runs as gaps, bad lines reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.energy.hourly_file import (
    HourlyFileError,
    mask_zero_runs,
    read_energy_csv,
    read_weather_csv,
    temperature_on,
)


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_buildings_share_one_hourly_axis_with_gaps_as_nan(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "r.csv",
        "building_id,timestamp,kwh\n"
        "b2,2019-03-31T00:00:00Z,4.0\n"
        "b10,2019-03-31T01:00:00+00:00,7.5\n"
        "b2,2019-03-31T03:00:00,6.0\n"  # naive: UTC
        "b10,2019-03-31T02:00:00Z,\n",  # empty: missing
    )
    e = read_energy_csv(f)
    assert e.building_ids == ["b2", "b10"]  # natural order
    assert e.hours[0] == np.datetime64("2019-03-31T00:00:00")
    assert e.hours.size == 4 and e.hours.dtype == np.dtype("datetime64[s]")
    np.testing.assert_array_equal(e.row("b2"), [4.0, np.nan, np.nan, 6.0])
    np.testing.assert_array_equal(e.row("b10"), [np.nan, 7.5, np.nan, np.nan])


def test_an_offset_is_converted_to_utc(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "r.csv",
        "timestamp,kwh,building_id\n2019-07-01T02:00:00+02:00,1,a\n2019-07-01T01:00:00Z,2,a\n",
    )
    e = read_energy_csv(f)
    assert e.hours[0] == np.datetime64("2019-07-01T00:00:00")
    np.testing.assert_array_equal(e.row("a"), [1.0, 2.0])


def test_long_zero_runs_are_missing_but_a_single_zero_is_kept() -> None:
    kwh = np.array([[5.0, 0.0, 5.0, 0.0, 0.0, 0.0, 5.0], [0.0, 0.0, 1.0, 0.0, 2.0, 0.0, 0.0]])
    out = mask_zero_runs(kwh, 2)
    np.testing.assert_array_equal(
        out,
        [
            [5.0, 0.0, 5.0, np.nan, np.nan, np.nan, 5.0],
            [np.nan, np.nan, 1.0, 0.0, 2.0, np.nan, np.nan],
        ],
    )
    assert kwh[0, 3] == 0.0  # the input is not modified


def test_zero_runs_are_masked_when_reading(tmp_path: Path) -> None:
    lines = [f"a,2019-01-01T{h:02d}:00:00Z,{v}" for h, v in enumerate([3, 0, 0, 0, 3, 0, 3])]
    f = _write(tmp_path / "r.csv", "building_id,timestamp,kwh\n" + "\n".join(lines) + "\n")
    e = read_energy_csv(f, zero_run_hours=3)
    np.testing.assert_array_equal(e.row("a"), [3, np.nan, np.nan, np.nan, 3, 0, 3])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("a,yesterday,1", ":3: timestamp 'yesterday' is not ISO 8601"),
        ("a,2019-01-01T01:30:00Z,1", ":3: timestamp '2019-01-01T01:30:00Z' is not the start"),
        ("a,2019-01-01T01:00:00Z,lots", ":3: kwh 'lots' is not a number"),
        ("a,2019-01-01T01:00:00Z,-2", ":3: kwh '-2' is not a finite, non-negative number"),
        (",2019-01-01T01:00:00Z,1", ":3: empty building_id"),
        ("a,2019-01-01T00:00:00Z,1", ":3: a second reading for the same building and hour"),
    ],
)
def test_bad_lines_are_reported_with_their_number(tmp_path: Path, line: str, message: str) -> None:
    f = _write(
        tmp_path / "r.csv",
        f"building_id,timestamp,kwh\na,2019-01-01T00:00:00Z,1\n{line}\na,2019-01-01T05:00:00Z,1\n",
    )
    with pytest.raises(HourlyFileError, match=message.replace("(", r"\(")):
        read_energy_csv(f)


def test_every_bad_line_is_reported_at_once(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "r.csv", "building_id,timestamp,kwh\na,x,1\na,2019-01-01T00:00Z,1\na,y,1\n"
    )
    with pytest.raises(HourlyFileError) as err:
        read_energy_csv(f)
    assert ":2:" in str(err.value) and ":4:" in str(err.value) and ":3:" not in str(err.value)


def test_a_missing_column_is_named(tmp_path: Path) -> None:
    f = _write(tmp_path / "r.csv", "building,timestamp,kwh\na,2019-01-01T00:00:00Z,1\n")
    with pytest.raises(HourlyFileError, match=r":1: missing column.*building_id"):
        read_energy_csv(f)


def test_weather_is_averaged_per_hour_and_aligned(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "w.csv",
        "timestamp,temperature_c\n"
        "2019-01-01T00:00:00Z,4.0\n2019-01-01T00:30:00Z,6.0\n"
        "2019-01-01T02:00:00Z,\n2019-01-01T03:00:00Z,-1.5\n",
    )
    hours, temp = read_weather_csv(f)
    np.testing.assert_array_equal(
        hours, np.array(["2019-01-01T00", "2019-01-01T03"], "datetime64[s]")
    )
    np.testing.assert_array_equal(temp, [5.0, -1.5])
    axis = np.arange(
        np.datetime64("2019-01-01T00"), np.datetime64("2019-01-01T05"), np.timedelta64(1, "h")
    )
    np.testing.assert_array_equal(
        temperature_on(axis.astype("datetime64[s]"), hours, temp),
        [5.0, np.nan, np.nan, -1.5, np.nan],
    )


def test_bad_weather_line_is_reported(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "w.csv",
        "timestamp,temperature_c\n2019-01-01T00:00:00Z,4\n2019-01-01T01:00:00Z,400\n",
    )
    with pytest.raises(HourlyFileError, match=":3: temperature_c '400' is not an outdoor"):
        read_weather_csv(f)
