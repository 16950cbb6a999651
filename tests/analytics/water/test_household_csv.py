"""Household leaks from a readings CSV: simulated homes read like real meters, out to a CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.household_csv import (
    HouseholdLeak,
    ReadingsFileError,
    household_leaks_csv,
    household_matrix,
    read_register_csv,
    write_leaks_csv,
)
from core.calendar import FrenchCalendar
from simulator.water import simulate_water
from tests.simulator.conftest import territory

PARIS = ZoneInfo("Europe/Paris")
HEADER = "household_id,timestamp_local,meter_reading_l,consumption_l_since_prev"


def _homes(start: datetime, days: int, n: int = 24, seed: int = 3) -> np.ndarray:
    run = simulate_water(
        territory(households=n).sectors, {}, start, days, seed, FrenchCalendar(), faults=False
    )
    return np.stack(list(run.households_l.values()))


def _readings(litres: np.ndarray, start: datetime, seed: int) -> list[tuple[str, datetime, float]]:
    """Hourly register readings at a per-home odd minute, whole litres, like a DAIAD meter."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, home in enumerate(litres):
        minute = int(rng.integers(1, 59))
        index = 150_000.0 + np.concatenate([[0.0], np.cumsum(home)])
        for h in range(1, home.size):
            value = np.floor(index[h] + home[h] * minute / 60)
            rows.append((str(k + 1), start + timedelta(hours=h, minutes=minute), float(value)))
    return rows


def _write(path: Path, rows: list[tuple[str, datetime, float]]) -> Path:
    with open(path, "w") as fh:
        fh.write(HEADER + "\n")
        for hid, when, value in rows:
            local = when.astimezone(PARIS).strftime("%Y-%m-%d %H:%M:%S")
            fh.write(f"{hid},{local},{value:.1f},0\n")
    return path


def _events(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_leaking_home_is_found_and_written(tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    litres = _homes(start, 30)
    onset = 24 * 14 + 9
    litres[6, onset:] += 15.0
    src = _write(tmp_path / "readings.csv", _readings(litres, start, 1))
    leaks = household_leaks_csv(src, tmp_path / "events.csv")
    assert [k.household_id for k in leaks] == ["7"]
    leak = leaks[0]
    assert abs((leak.start - (start + timedelta(hours=onset))).total_seconds()) <= 12 * 3600
    assert leak.end is None
    assert leak.flow_lph_estimate == pytest.approx(15.0, abs=1.5)
    (row,) = _events(tmp_path / "events.csv")
    assert list(row) == ["household_id", "start", "detected_at", "end", "flow_lph_estimate"]
    assert row["household_id"] == "7" and row["end"] == ""
    assert datetime.fromisoformat(row["start"]) == leak.start
    assert datetime.fromisoformat(row["detected_at"]) == leak.detected_at
    assert leak.start < leak.detected_at <= leak.start + timedelta(hours=48)
    assert row["start"].endswith("+02:00")
    assert row["flow_lph_estimate"] == f"{leak.flow_lph_estimate:.1f}"


def test_the_same_readings_up_to_detected_at_give_the_same_alert(tmp_path: Path) -> None:
    """The alert is causal: the readings up to ``detected_at`` (a reading's time) already raise
    it with the same onset and time; the readings before it do not raise it yet."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    litres = _homes(start, 30)
    litres[6, 24 * 14 + 9 :] += 15.0
    litres[11, 24 * 20 + 2 :] += 8.0
    rows = _readings(litres, start, 1)
    whole = household_leaks_csv(_write(tmp_path / "all.csv", rows), tmp_path / "all.out.csv")
    assert {k.household_id for k in whole} == {"7", "12"}
    for k, leak in enumerate(whole):
        when = leak.detected_at.astimezone(UTC)
        assert any(hid == leak.household_id and t == when for hid, t, _ in rows)
        upto = [r for r in rows if r[1] <= when]
        again = household_leaks_csv(_write(tmp_path / f"u{k}.csv", upto), tmp_path / "u.out")
        mine = [x for x in again if x.household_id == leak.household_id]
        assert [(x.start, x.detected_at) for x in mine] == [(leak.start, leak.detected_at)]
        before = [r for r in rows if r[1] < when]
        sooner = household_leaks_csv(_write(tmp_path / f"b{k}.csv", before), tmp_path / "b.out")
        assert leak.household_id not in {x.household_id for x in sooner}


def test_foreign_register_readings_neither_break_a_leak_nor_raise_one(tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    litres = _homes(start, 30, seed=4)
    litres[2, 24 * 10 + 10 :] += 12.0  # from noon: the onset night is a whole leaky night
    rows = _readings(litres, start, 2)
    # DAIAD artefact: a second register ~248,5xx L higher read a few minutes earlier, for
    # several hours, inside the leak on home 3 and on the quiet home 5, at night.
    for hid, day in (("3", 18), ("5", 12)):
        own = [r for r in rows if r[0] == hid]
        for h in range(24 * day + 1, 24 * day + 5):
            _, when, value = own[h - 1]
            rows.append((hid, when - timedelta(minutes=3), value + 248_200.0 + 80.0 * h))
    src = _write(tmp_path / "readings.csv", rows)
    leaks = household_leaks_csv(src, tmp_path / "events.csv")
    assert [(k.household_id, k.end) for k in leaks] == [("3", None)]
    assert leaks[0].flow_lph_estimate == pytest.approx(12.0, abs=1.5)
    assert len(_events(tmp_path / "events.csv")) == 1
    hours = household_matrix(read_register_csv(src))
    spikes = hours.quality.spikes
    assert (spikes[2], spikes[4], spikes.sum()) == (4, 4, 8)
    assert np.isfinite(hours.volume_l[[2, 4], 24 * 12 : 24 * 12 + 6]).all()
    assert np.isfinite(hours.volume_l[[2, 4], 24 * 18 : 24 * 18 + 6]).all()


def test_a_leak_across_the_autumn_dst_change(tmp_path: Path) -> None:
    start = datetime(2024, 10, 14, tzinfo=UTC)
    litres = _homes(start, 21)
    on, off = 24 * 5 + 15, 24 * 15 + 8  # 19 Oct 17:00 CEST to 29 Oct 09:00 CET
    litres[0, on:off] += 25.0
    src = _write(tmp_path / "readings.csv", _readings(litres, start, 3))
    readings = read_register_csv(src)
    per_home = readings.time_utc_s[readings.meter == 0]
    assert np.all(np.diff(per_home) == 3600)  # the repeated 02:xx reading is an hour later
    (leak,) = household_leaks_csv(src, tmp_path / "events.csv")
    assert leak.household_id == "1"
    assert leak.end is not None
    assert abs((leak.end - (start + timedelta(hours=off))).total_seconds()) <= 3 * 3600
    (row,) = _events(tmp_path / "events.csv")
    assert row["start"].endswith("+02:00") and row["end"].endswith("+01:00")


@pytest.mark.parametrize(
    ("local", "expected_utc"),
    [
        # Autumn: 02:00-03:00 happens twice; the order of a home's readings decides.
        (["01:50", "02:50", "02:50", "03:50"], ["26T23:50", "27T00:50", "27T01:50", "27T02:50"]),
        (
            ["02:00", "02:30", "02:15", "02:45", "03:00"],
            ["27T00:00", "27T00:30", "27T01:15", "27T01:45", "27T02:00"],
        ),
        (["02:40", "02:10"], ["27T00:40", "27T01:10"]),
    ],
)
def test_repeated_autumn_hour_resolved_by_reading_order(
    tmp_path: Path, local: list[str], expected_utc: list[str]
) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        "household_id,timestamp_local,meter_reading_l\n"
        + "".join(f"h,2024-10-27 {hm}:00,{100 + i}\n" for i, hm in enumerate(local))
        + "g,2024-10-27 02:30:00,5\n"  # another home's reading does not flip this one
    )
    r = read_register_csv(src)

    def utc(home: str) -> list[str]:
        times = r.time_utc_s[r.meter == r.household_ids.index(home)]
        return [datetime.fromtimestamp(int(t), UTC).strftime("%dT%H:%M") for t in times]

    assert utc("h") == expected_utc
    assert utc("g") == ["27T00:30"]


def test_skipped_spring_hour_is_read_with_the_winter_offset(tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        "household_id,timestamp_local,meter_reading_l\n"
        "h,2024-03-31 01:30:00,1\nh,2024-03-31 02:30:00,2\nh,2024-03-31T03:30:00,3\n"
    )
    r = read_register_csv(src)
    hours = [datetime.fromtimestamp(int(t), UTC).strftime("%H:%M") for t in r.time_utc_s]
    assert hours == ["00:30", "01:30", "01:30"]


def test_extra_columns_any_order_and_explicit_offsets(tmp_path: Path) -> None:
    src = tmp_path / "r.csv"
    src.write_text(
        "meter_reading_l,note,timestamp_local,household_id\n"
        "10,x,2024-06-01 10:00:00,b-2\n"
        "20,y,2024-06-01T11:00:00+02:00,b-2\n"
        "30,z,2024-06-01 10:00:00,10\n"
        "40,,2024-06-01 10:00:00,9\n"
    )
    r = read_register_csv(src)
    assert r.household_ids == ["9", "10", "b-2"]
    b2 = r.time_utc_s[r.meter == 2]
    assert (b2[1] - b2[0]) == 3600
    assert r.index_l[r.meter == 0].tolist() == [40.0]


@pytest.mark.parametrize(
    ("body", "line", "what"),
    [
        ("a,2024-06-01 10:00:00,1\na,2024-13-01 10:00:00,2\n", 3, "timestamp_local"),
        ("a,2024-06-01 10:00:00,1\na,2024-06-01 11:00:00,x\n", 3, "meter_reading_l"),
        ("a,2024-06-01 10:00:00,1\n\na,2024-06-01 11:00:00\n", 4, "fields"),
        ("a,2024-06-01 10:00:00,nan\n", 2, "meter_reading_l"),
        (" ,2024-06-01 10:00:00,1\n", 2, "household_id"),
    ],
)
def test_a_bad_row_is_reported_with_its_line(
    tmp_path: Path, body: str, line: int, what: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("household_id,timestamp_local,meter_reading_l\n" + body)
    with pytest.raises(ReadingsFileError, match=rf"bad\.csv:{line}: .*{what}"):
        household_leaks_csv(src, tmp_path / "out.csv")


def test_a_missing_column_is_reported(tmp_path: Path) -> None:
    src = tmp_path / "bad.csv"
    src.write_text("household_id,time,meter_reading_l\na,2024-06-01 10:00:00,1\n")
    with pytest.raises(ReadingsFileError, match=r"bad\.csv:1: missing column\(s\) timestamp_local"):
        read_register_csv(src)


def test_a_household_id_a_spreadsheet_would_run_is_written_as_text(tmp_path: Path) -> None:
    """The id comes from the input file: written back, it must not become a formula."""
    when = datetime(2024, 5, 1, tzinfo=UTC)
    leak = HouseholdLeak('=HYPERLINK("http://x")', when, None, when, 12.0, 300.0)
    write_leaks_csv([leak], tmp_path / "events.csv")
    (row,) = _events(tmp_path / "events.csv")
    assert row["household_id"] == '\'=HYPERLINK("http://x")'
