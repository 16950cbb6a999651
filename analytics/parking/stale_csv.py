"""CSV entry point of the frozen/stale feed check: area counts in, one verdict per area out.

Input: a header naming ``area_id``, ``timestamp``, ``free_spaces`` and ``total_spaces`` (any
order, other columns ignored), one count per row, areas and times in any order. ``timestamp``
is ISO 8601; without an offset it is wall-clock time in ``tz`` (as ``vigie analytics
sector-leaks`` reads it). Two rows of one area at one instant: the last one counts. An empty
``free_spaces`` is a missing count (the row proves nothing). Values are taken as they come
(a count above the total or below zero still tells whether the feed moves).

Output: ``area_id,stale``, one row per area in the order first seen, ``stale`` 1 when, at the
end of the file (its latest timestamp, whatever the area), the area's free count has not
changed for longer than its own past makes plausible, or no count has come for longer than
that (``analytics.parking.frozen``; the public holidays of ``holidays``, France by default, count
as Sundays), else 0. Bad rows raise :class:`ParkingCsvError` naming the
file and line.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from analytics.parking.frozen import FeedJudgement, FeedParams, judge_feed
from analytics.parking.week import Holidays, country_holidays
from analytics.water.sector_csv import parse_timestamp
from core.config import DEFAULT_ZONE
from core.csv_cells import safe_cell

COLUMNS = ("area_id", "timestamp", "free_spaces", "total_spaces")
OUT_COLUMNS = ("area_id", "stale")


class ParkingCsvError(ValueError):
    """A CSV file the check cannot read; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line


@dataclass(frozen=True)
class AreaVerdict:
    area_id: str
    judgement: FeedJudgement


def read_counts(path: Path, tz: str = DEFAULT_ZONE) -> dict[str, dict[float, float]]:
    """Area → {Unix seconds: free spaces}, the last row of an instant winning."""
    zone = _zone(path, tz)
    out: dict[str, dict[float, float]] = {}
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise ParkingCsvError(path, 0, f"empty file; expected a header {','.join(COLUMNS)}")
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise ParkingCsvError(path, 1, f"missing column(s) {', '.join(missing)} in header")
        ia, it, iv = (names.index(c) for c in COLUMNS[:3])
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) < len(names):
                raise ParkingCsvError(path, line, f"expected {len(names)} fields, got {len(row)}")
            area = row[ia].strip()
            if not area:
                raise ParkingCsvError(path, line, "empty area_id")
            try:
                t = parse_timestamp(row[it], zone).timestamp()
            except ValueError as exc:
                raise ParkingCsvError(path, line, f"bad timestamp {row[it]!r}: {exc}") from None
            counts = out.setdefault(area, {})
            cell = row[iv].strip()
            if not cell:
                continue
            try:
                v = float(cell)
            except ValueError:
                raise ParkingCsvError(path, line, f"bad free_spaces {cell!r}") from None
            if not math.isfinite(v):
                raise ParkingCsvError(path, line, f"free_spaces must be finite, got {cell}")
            counts[t] = v
    if not out:
        raise ParkingCsvError(path, 0, "no count")
    return out


def judge_counts(
    counts: dict[str, dict[float, float]],
    tz: str = DEFAULT_ZONE,
    params: FeedParams | None = None,
    holidays: Holidays | None = None,
) -> list[AreaVerdict]:
    """Each area judged at the file's end (the latest instant of any area)."""
    end = max((t for c in counts.values() for t in c), default=0.0)
    now = datetime.fromtimestamp(end, UTC)
    out = []
    for area, by_t in counts.items():
        t = np.array(sorted(by_t), dtype=np.float64)
        x = np.array([by_t[s] for s in t.tolist()], dtype=np.float64)
        out.append(AreaVerdict(area, judge_feed(t, x, now, tz, params, holidays)))
    return out


def parking_stale_csv(
    occupancy: Path,
    out: Path,
    tz: str = DEFAULT_ZONE,
    params: FeedParams | None = None,
    holidays: str | None = "FR",
) -> list[AreaVerdict]:
    """Judge every area of ``occupancy`` and write ``area_id,stale`` to ``out``."""
    try:
        days_off = country_holidays(holidays)
    except (KeyError, NotImplementedError):
        raise ParkingCsvError(occupancy, 0, f"unknown holiday country {holidays!r}") from None
    verdicts = judge_counts(read_counts(occupancy, tz), tz, params, days_off)
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(OUT_COLUMNS)
        for v in verdicts:
            w.writerow([safe_cell(v.area_id), int(v.judgement.suspect)])
    return verdicts


def _zone(path: Path, tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ParkingCsvError(path, 0, f"unknown time zone {tz!r}") from None
