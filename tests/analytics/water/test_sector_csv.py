"""The sector-leaks CSV entry point: timestamps with and without offsets, any sampling, bad rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.water.sector_csv import SectorCsvError, parse_timestamp, sector_leaks_csv

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2025, 3, 1, tzinfo=UTC)
ONSET = datetime(2025, 3, 22, 14, 0, tzinfo=UTC)


def _series(step_min: int, days: int = 40, seed: int = 3) -> tuple[list[datetime], np.ndarray]:
    """A sector inflow with a 0.6 m³/h leak from ONSET (crosses the spring DST change)."""
    n = days * 24 * 60 // step_min
    times = [START + timedelta(minutes=step_min * k) for k in range(n)]
    hour = np.array([t.astimezone(PARIS).hour for t in times])
    rng = np.random.default_rng(seed)
    flow = 1.1 + np.where((hour >= 6) & (hour < 23), 2.5, 0.0)
    flow = flow + rng.normal(0, 0.06 if step_min >= 15 else 0.2, n)
    flow[np.asarray(times) >= ONSET] += 0.6
    return times, flow


def _write(path: Path, rows: list[str], header: str = "timestamp,flow_m3h") -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _out_rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "start,detected_at,end,flow_m3h_estimate,volume_m3"
    return [line.split(",") for line in lines[1:]]


@pytest.mark.parametrize("step_min", [1, 15, 60])
def test_any_sampling_interval_finds_the_leak(tmp_path: Path, step_min: int) -> None:
    times, flow = _series(step_min)
    rows = [f"{t.isoformat()},{v:.4f}" for t, v in zip(times, flow, strict=True)]
    out = tmp_path / "events.csv"
    leaks = sector_leaks_csv(_write(tmp_path / "in.csv", rows), out)
    [row] = _out_rows(out)
    [leak] = leaks
    assert datetime.fromisoformat(row[0]) == leak.start
    assert datetime.fromisoformat(row[1]) == leak.detected_at
    assert ONSET - timedelta(days=1) <= leak.start <= ONSET  # the water day it began in
    assert ONSET < leak.detected_at <= ONSET + timedelta(days=2)
    assert row[2] == ""  # still running
    assert row[3] == f"{leak.flow_m3h_estimate:.3f}"
    assert float(row[3]) == pytest.approx(0.6, abs=0.1)
    assert float(row[4]) == pytest.approx(leak.volume_m3, abs=1e-3)


def test_naive_local_and_offset_timestamps_give_the_same_leaks(tmp_path: Path) -> None:
    times, flow = _series(15)
    aware = [f"{t.astimezone(PARIS).isoformat()},{v:.4f}" for t, v in zip(times, flow, strict=True)]
    # Naive wall-clock times (the series crosses the spring change): read back in Paris time.
    naive = [
        f"{t.astimezone(PARIS).replace(tzinfo=None).isoformat()},{v:.4f}"
        for t, v in zip(times, flow, strict=True)
    ]
    zulu = [
        f"{t.isoformat().replace('+00:00', 'Z')},{v:.4f}" for t, v in zip(times, flow, strict=True)
    ]
    outs = []
    for name, rows in (("aware", aware), ("naive", naive), ("zulu", zulu)):
        out = tmp_path / f"{name}.out.csv"
        sector_leaks_csv(_write(tmp_path / f"{name}.csv", rows), out)
        outs.append(out.read_text(encoding="utf-8"))
    assert outs[0] == outs[1] == outs[2]
    [row] = _out_rows(tmp_path / "naive.out.csv")
    start = datetime.fromisoformat(row[0])
    assert start.utcoffset() == timedelta(hours=1)  # 23 March 02:00, winter time in Paris


def test_columns_may_come_in_any_order_with_blank_flows_skipped(tmp_path: Path) -> None:
    times, flow = _series(60)
    rows = [f"{v:.4f},x,{t.isoformat()}" for t, v in zip(times, flow, strict=True)]
    rows[10] = f",x,{times[10].isoformat()}"
    out = tmp_path / "o.csv"
    leaks = sector_leaks_csv(_write(tmp_path / "i.csv", rows, "flow_m3h,site,timestamp"), out)
    assert len(leaks) == 1


def test_the_same_rows_up_to_detected_at_give_the_same_leak(tmp_path: Path) -> None:
    """The detection is causal: the rows up to ``detected_at`` already hold the leak, with the
    same onset and the same ``detected_at``; the rows before it do not."""
    times, flow = _series(15, days=50)
    flow[np.asarray(times) >= ONSET + timedelta(days=16)] += 0.5  # a second leak
    rows = [f"{t.isoformat()},{v:.4f}" for t, v in zip(times, flow, strict=True)]
    whole = _out_rows(_run(tmp_path, "whole", rows))
    assert len(whole) == 2
    for k, (_, detected_at, *_) in enumerate(whole):
        cut = datetime.fromisoformat(detected_at)
        upto = [r for r, t in zip(rows, times, strict=True) if t <= cut]
        again = _out_rows(_run(tmp_path, f"upto{k}", upto))
        assert [r[:2] for r in again] == [r[:2] for r in whole[: k + 1]]
        before = [r for r, t in zip(rows, times, strict=True) if t < cut]
        assert [r[:2] for r in _out_rows(_run(tmp_path, f"before{k}", before))] == [
            r[:2] for r in whole[:k]
        ]


def _run(tmp_path: Path, name: str, rows: list[str]) -> Path:
    out = tmp_path / f"{name}.out.csv"
    sector_leaks_csv(_write(tmp_path / f"{name}.csv", rows), out)
    return out


def test_a_timestamp_utc_column_is_read_as_utc(tmp_path: Path) -> None:
    times, flow = _series(60)
    naive = [
        f"{t.replace(tzinfo=None).isoformat()},{v:.4f}" for t, v in zip(times, flow, strict=True)
    ]
    aware = [f"{t.isoformat()},{v:.4f}" for t, v in zip(times, flow, strict=True)]
    a = tmp_path / "a.out.csv"
    b = tmp_path / "b.out.csv"
    sector_leaks_csv(_write(tmp_path / "a.csv", naive, "timestamp_utc,flow_m3h"), a)
    sector_leaks_csv(_write(tmp_path / "b.csv", aware), b)
    assert a.read_text() == b.read_text() and len(_out_rows(a)) == 1


def test_ambiguous_autumn_time_is_its_first_occurrence_and_spring_gap_is_refused() -> None:
    assert parse_timestamp("2025-10-26T02:30:00", PARIS) == datetime(
        2025, 10, 26, 0, 30, tzinfo=UTC
    )
    assert parse_timestamp("2025-10-26T02:30:00+01:00", PARIS) == datetime(
        2025, 10, 26, 1, 30, tzinfo=UTC
    )
    with pytest.raises(ValueError, match="does not exist"):
        parse_timestamp("2025-03-30T02:30:00", PARIS)


@pytest.mark.parametrize(
    ("rows", "line", "needle"),
    [
        (["2025-03-01T00:00:00Z,1.0", "yesterday,1.0"], 3, "bad timestamp"),
        (["2025-03-01T00:00:00Z,1.0", "2025-03-01T00:15:00Z,one"], 3, "bad flow_m3h"),
        (["2025-03-01T00:00:00Z,-2"], 2, ">= 0"),
        (["2025-03-01T00:00:00Z,nan"], 2, ">= 0"),
        (["2025-03-01T00:00:00Z"], 2, "expected 2 fields"),
        (["2025-03-29T23:00:00,1", "2025-03-30T02:15:00,1"], 3, "does not exist"),
    ],
)
def test_bad_rows_are_reported_with_their_line(
    tmp_path: Path, rows: list[str], line: int, needle: str
) -> None:
    path = _write(tmp_path / "bad.csv", rows)
    with pytest.raises(SectorCsvError, match=needle) as err:
        sector_leaks_csv(path, tmp_path / "o.csv")
    assert err.value.line == line
    assert f"bad.csv:{line}:" in str(err.value)


@pytest.mark.parametrize(
    ("header", "rows", "needle"),
    [
        ("time,flow", ["2025-03-01T00:00:00Z,1"], "missing column"),
        ("timestamp,flow_m3h", [], "no flow sample"),
        (
            "timestamp,flow_m3h",
            ["2025-03-01T00:00:00Z,1", "2025-03-01T06:00:00Z,1", "2025-03-01T12:00:00Z,1"],
            "too coarse",
        ),
    ],
)
def test_unusable_files_are_refused(
    tmp_path: Path, header: str, rows: list[str], needle: str
) -> None:
    with pytest.raises(SectorCsvError, match=needle):
        sector_leaks_csv(_write(tmp_path / "f.csv", rows, header), tmp_path / "o.csv")


def test_unknown_zone_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "f.csv", ["2025-03-01T00:00:00,1"])
    with pytest.raises(SectorCsvError, match="unknown time zone"):
        sector_leaks_csv(path, tmp_path / "o.csv", tz="Europe/Nowhere")
