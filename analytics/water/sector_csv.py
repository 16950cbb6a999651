"""CSV entry point of the sector leak detector: ``timestamp,flow_m3h`` in, one row per leak out.

Input: a header naming the columns ``timestamp`` (or ``timestamp_utc``) and ``flow_m3h`` (any
order, other columns ignored), then one sample per row at any interval of one hour or less, in
any order.

- ``timestamp`` is ISO 8601.  With an offset (``2025-03-30T03:15:00+02:00``, ``…Z``) it is an
  instant.  Without one it is wall-clock time in ``tz`` (Europe/Paris by default): a wall time
  that happens twice (the autumn change, 02:00-03:00) is taken at its *first* occurrence
  (``fold=0``), so a naive series folds its repeated hour onto the first one; a wall time that
  does not exist (the spring change, 02:00-03:00) is an error.  In a ``timestamp_utc`` column
  a time without an offset is UTC.
- ``flow_m3h`` is a decimal number ≥ 0; an empty cell is a missing sample.

Output: ``start,detected_at,end,flow_m3h_estimate,volume_m3``, one row per detected leak, oldest
first, times as ISO 8601 with the offset of ``tz``: ``start`` the estimated onset (the start of
the water day it began in), ``detected_at`` when the rule, reading the series in time order,
first knew (the time of the last sample it had read: the same rows up to that sample give the
same leak), ``end`` empty while the leak runs, the added flow (m³/h) and the volume lost so far
(m³) with three decimals.  A delay is measured from ``detected_at``.  Bad rows raise
:class:`SectorCsvError` naming the file and line.
"""

from __future__ import annotations

import csv
import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from analytics.water.sector import SectorLeak, SectorLeakParams, detect_sector_leaks
from analytics.water.sector_days import sector_days
from core.config import DEFAULT_ZONE
from core.csv_cells import safe_cell
from core.series import FloatArray, Int64Array, to_ns

COLUMNS = ("timestamp", "flow_m3h")
UTC_COLUMN = "timestamp_utc"
OUT_COLUMNS = ("start", "detected_at", "end", "flow_m3h_estimate", "volume_m3")


class SectorCsvError(ValueError):
    """A CSV file the detector cannot read; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        where = f"{path}:{line}" if line else str(path)
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line


def parse_timestamp(text: str, zone: ZoneInfo) -> datetime:
    """An aware UTC datetime from ISO 8601; naive values are wall-clock time in ``zone``."""
    t = datetime.fromisoformat(text.strip())
    if t.tzinfo is not None:
        return t.astimezone(UTC)
    aware = t.replace(tzinfo=zone)  # fold=0: the first of two ambiguous wall times
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != t:
        raise ValueError(f"{text.strip()} does not exist in {zone.key} (clocks jump forward)")
    return aware.astimezone(UTC)


def read_inflow_csv(path: Path, tz: str = DEFAULT_ZONE) -> tuple[Int64Array, FloatArray]:
    """Sample times (int64 ns UTC) and flows (m³/h) of a ``timestamp,flow_m3h`` file."""
    zone = _zone(path, tz)
    times: list[int] = []
    flows: list[float] = []
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise SectorCsvError(path, 0, "empty file; expected a header timestamp,flow_m3h")
        names = [h.strip() for h in header]
        naive_zone = zone
        if "timestamp" not in names and UTC_COLUMN in names:
            names[names.index(UTC_COLUMN)] = "timestamp"
            naive_zone = ZoneInfo("UTC")
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise SectorCsvError(path, 1, f"missing column(s) {', '.join(missing)} in header")
        it, iv = names.index("timestamp"), names.index("flow_m3h")
        for row in reader:
            line = reader.line_num
            if not row or all(not cell.strip() for cell in row):
                continue
            if len(row) <= max(it, iv):
                raise SectorCsvError(path, line, f"expected {len(names)} fields, got {len(row)}")
            try:
                t = parse_timestamp(row[it], naive_zone)
            except ValueError as exc:
                raise SectorCsvError(path, line, f"bad timestamp {row[it]!r}: {exc}") from None
            cell = row[iv].strip()
            if not cell:
                continue
            try:
                v = float(cell)
            except ValueError:
                raise SectorCsvError(path, line, f"bad flow_m3h {cell!r}") from None
            if not math.isfinite(v) or v < 0:
                raise SectorCsvError(path, line, f"flow_m3h must be a number >= 0, got {cell}")
            times.append(to_ns(t))
            flows.append(v)
    if not times:
        raise SectorCsvError(path, 0, "no flow sample")
    return np.asarray(times, dtype=np.int64), np.asarray(flows, dtype=np.float64)


def sector_leaks_csv(
    inflow: Path, out: Path, tz: str = DEFAULT_ZONE, params: SectorLeakParams | None = None
) -> list[SectorLeak]:
    """Detect the leaks of a sector's inflow CSV and write them to ``out``; returns them."""
    times, flows = read_inflow_csv(inflow, tz)
    try:
        days = sector_days(times, flows, tz)
    except ValueError as exc:
        raise SectorCsvError(inflow, 0, str(exc)) from None
    leaks = detect_sector_leaks(days, params)
    write_sector_leaks(leaks, out, tz)
    return leaks


def write_sector_leaks(leaks: list[SectorLeak], out: Path, tz: str = DEFAULT_ZONE) -> None:
    """Write ``start,detected_at,end,flow_m3h_estimate,volume_m3``, times in ``tz``."""
    zone = ZoneInfo(tz)
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(OUT_COLUMNS)
        for leak in leaks:
            row = [
                leak.start.astimezone(zone).isoformat(),
                leak.detected_at.astimezone(zone).isoformat(),
                "" if leak.end is None else leak.end.astimezone(zone).isoformat(),
                f"{leak.flow_m3h_estimate:.3f}",
                f"{leak.volume_m3:.3f}",
            ]
            writer.writerow([safe_cell(cell) for cell in row])


def _zone(path: Path, tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise SectorCsvError(path, 0, f"unknown time zone {tz!r}") from None
