"""Household leak detection on outside data: a register-readings CSV in, leak events CSV out.

Input columns ``household_id,timestamp_local,meter_reading_l`` (any order, extra columns
ignored): the register in litres at an ISO 8601 local time without offset in ``tz`` (a
timestamp with an explicit offset is taken as given). Local times are made UTC thus:

- the hour repeated when clocks go back is ambiguous; it is resolved by the order of readings:
  a household's readings in that hour are read as the first (summer) occurrence until one is not
  later than the household's previous reading in that hour, from which on they are the second
  (winter) occurrence. Readings of that hour listed out of time order defeat this rule;
- a time in the hour skipped in spring does not exist; it is read with the winter offset, as a
  clock not yet moved would show it.

The readings become hourly litres with :data:`HOUSEHOLD_HOURLY_RULES` (see ``meter_hours``), the
continuous-flow detector runs on them, and each event is written as
``household_id,start,detected_at,end,flow_lph_estimate``: ISO 8601 times with the offset of
``tz``; ``start`` the onset (the first hour of the run without a zero hour); ``detected_at``
when the rule, reading the readings in time order, first knew: the time of the reading that
closes the last interval whose litres go to the hour that raised the alert (each interval goes
to the hour holding its midpoint; the same readings up to it give the same alert, but for a
foreign register reading, which is recognised by the reading after it); ``end``
exclusive and empty while the leak lasts; the flow in L/h with one decimal.  A delay is
measured from ``detected_at``.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from analytics.water.axis import HourlyAxis, hourly_axis
from analytics.water.household import ContinuousFlowParams, detect_continuous_flow
from analytics.water.meter_hours import HOUSEHOLD_HOURLY_RULES, MeterHours, meter_hours
from core.config import DEFAULT_ZONE
from core.csv_cells import safe_cell

COLUMNS = ("household_id", "timestamp_local", "meter_reading_l")
OUT_COLUMNS = ("household_id", "start", "detected_at", "end", "flow_lph_estimate")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


class ReadingsFileError(ValueError):
    """A readings file that cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class RegisterReadings:
    """Register readings of several households, one entry per reading."""

    household_ids: list[str]  # row r of the matrices is household_ids[r]
    meter: NDArray[np.int64]
    time_utc_s: NDArray[np.int64]
    index_l: NDArray[np.float64]


@dataclass(frozen=True)
class HouseholdLeak:
    """One continuous-flow leak of one household (times aware, in the file's zone)."""

    household_id: str
    start: datetime
    end: datetime | None
    detected_at: datetime  # the reading that completed the alert's hour
    flow_lph_estimate: float
    volume_l: float


def _id_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), text) if text.isdigit() else (1, 0, text)


def read_register_csv(path: Path, tz: str = DEFAULT_ZONE) -> RegisterReadings:
    """Parse a readings CSV (see the module docstring) into UTC register readings."""
    ids: dict[str, int] = {}
    meter: list[int] = []
    stamps: list[str] = []
    values: list[str] = []
    lines: list[int] = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise ReadingsFileError(f"{path}: empty file, expected a header {','.join(COLUMNS)}")
        names = [h.strip() for h in header]
        missing = [c for c in COLUMNS if c not in names]
        if missing:
            raise ReadingsFileError(f"{path}:1: missing column(s) {', '.join(missing)}")
        ci, ct, cv = (names.index(c) for c in COLUMNS)
        width = max(ci, ct, cv) + 1
        for rec in reader:
            if not rec:
                continue
            if len(rec) < width:
                raise ReadingsFileError(f"{path}:{reader.line_num}: expected {len(names)} fields")
            hid = rec[ci].strip()
            if not hid:
                raise ReadingsFileError(f"{path}:{reader.line_num}: empty household_id")
            meter.append(ids.setdefault(hid, len(ids)))
            stamps.append(rec[ct])
            values.append(rec[cv])
            lines.append(reader.line_num)
    try:
        local_s, aware_s, index = _parse_fast(stamps, values)
    except ValueError:  # find the bad line, or read explicit offsets, row by row
        local_s, aware_s, index = _parse_rows(path, stamps, values, lines)
    order = sorted(ids, key=_id_key)
    remap = np.empty(len(ids), dtype=np.int64)
    remap[[ids[h] for h in order]] = np.arange(len(order))
    m = remap[np.asarray(meter, dtype=np.int64)]
    t = _to_utc(m, local_s, ZoneInfo(tz))
    t = np.where(aware_s >= 0, aware_s, t)
    return RegisterReadings(order, m, t, index)


def _parse_fast(
    stamps: list[str], values: list[str]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Whole columns at once; any doubt (an offset, a bad value) raises ``ValueError``."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy only warns about an explicit offset
        try:
            when = np.array(stamps, dtype="datetime64[s]")
        except Warning as w:
            raise ValueError(str(w)) from None
    index = np.array(values, dtype=np.float64)
    if np.isnat(when).any() or not np.isfinite(index).all():
        raise ValueError("a timestamp or a reading is not valid")
    return when.astype(np.int64), np.full(when.size, -1, dtype=np.int64), index


def _parse_rows(
    path: Path, stamps: list[str], values: list[str], lines: list[int]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Row by row: naive local seconds, UTC seconds of explicit offsets (else -1), readings."""
    local_s: list[int] = []
    aware_s: list[int] = []
    index: list[float] = []
    for text, raw, line in zip(stamps, values, lines, strict=True):
        try:
            when = datetime.fromisoformat(text.strip())
        except ValueError:
            raise ReadingsFileError(
                f"{path}:{line}: timestamp_local {text!r} is not ISO 8601"
            ) from None
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise ReadingsFileError(f"{path}:{line}: meter_reading_l {raw!r} is not a number")
        index.append(value)
        if when.tzinfo is None:
            day_s = (when.toordinal() - _EPOCH_ORDINAL) * 86400
            local_s.append(day_s + when.hour * 3600 + when.minute * 60 + when.second)
            aware_s.append(-1)
        else:
            local_s.append(0)
            aware_s.append(int(when.timestamp()))
    return (
        np.asarray(local_s, dtype=np.int64),
        np.asarray(aware_s, dtype=np.int64),
        np.asarray(index, dtype=np.float64),
    )


def _to_utc(
    meter: NDArray[np.int64], local_s: NDArray[np.int64], zone: ZoneInfo
) -> NDArray[np.int64]:
    """UTC seconds of naive local seconds; the repeated hour resolved by reading order."""
    if local_s.size == 0:
        return local_s
    hours, inv = np.unique(local_s // 3600, return_inverse=True)
    off = np.empty((hours.size, 2), dtype=np.int64)
    for k, h in enumerate(hours.tolist()):
        naive = datetime.fromtimestamp(h * 3600, UTC).replace(tzinfo=None)
        for fold in (0, 1):
            uo = naive.replace(tzinfo=zone, fold=fold).utcoffset()
            off[k, fold] = int(uo.total_seconds()) if uo is not None else 0
    off0, off1 = off[inv, 0], off[inv, 1]
    utc: NDArray[np.int64] = (
        local_s - off0
    )  # a skipped spring time: fold 0 holds the offset before the change
    last: dict[int, tuple[int, bool]] = {}  # household → (its last repeated-hour reading, fold)
    for i in np.flatnonzero(off0 > off1).tolist():
        m, loc = int(meter[i]), int(local_s[i])
        prev = last.get(m)
        second = prev is not None and abs(loc - prev[0]) < 3600 and (prev[1] or loc <= prev[0])
        last[m] = (loc, second)
        if second:
            utc[i] = loc - off1[i]
    return utc


def household_matrix(readings: RegisterReadings, tz: str = DEFAULT_ZONE) -> MeterHours:
    """Hourly litres of every household over the hours its readings span."""
    if readings.time_utc_s.size == 0:
        raise ValueError("no readings")
    h0 = int(readings.time_utc_s.min()) // 3600
    n_h = int(readings.time_utc_s.max()) // 3600 - h0 + 1
    axis = hourly_axis(datetime.fromtimestamp(h0 * 3600, UTC), n_h, tz)
    return meter_hours(
        readings.meter,
        readings.time_utc_s,
        readings.index_l,
        axis,
        len(readings.household_ids),
        HOUSEHOLD_HOURLY_RULES,
    )


def _when(axis: HourlyAxis, col: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(int(axis.utc[col].astype("datetime64[s]").astype(np.int64)), zone)


def household_leaks(
    readings: RegisterReadings, tz: str = DEFAULT_ZONE, params: ContinuousFlowParams | None = None
) -> list[HouseholdLeak]:
    """Continuous-flow leaks of every household, in household then start order."""
    hours = household_matrix(readings, tz)
    ax = hours.axis
    zone = ZoneInfo(tz)
    order = np.lexsort((readings.time_utc_s, readings.meter))
    meter, when = readings.meter[order], readings.time_utc_s[order]
    bounds = np.searchsorted(meter, np.arange(len(readings.household_ids) + 1))
    out: list[HouseholdLeak] = []
    for e in detect_continuous_flow(hours.volume_l, ax.local_hour, ax.local_date, params):
        end = None if e.end is None else _when(ax, e.end, zone)
        mine = when[bounds[e.meter] : bounds[e.meter + 1]]
        hour_end = int(ax.utc[e.alert].astype("datetime64[s]").astype(np.int64)) + 3600
        # The alert's hour holds the intervals whose midpoint is in it: the last one ends at
        # the last reading whose interval from the reading before has its midpoint before the
        # hour's end.
        mids = (mine[:-1] + mine[1:]) / 2
        k = int(np.searchsorted(mids, hour_end, side="left"))
        out.append(
            HouseholdLeak(
                household_id=readings.household_ids[e.meter],
                start=_when(ax, e.start, zone),
                end=end,
                detected_at=datetime.fromtimestamp(int(mine[k]), zone),
                flow_lph_estimate=e.flow_lph_estimate,
                volume_l=e.volume_l,
            )
        )
    return out


def write_leaks_csv(leaks: list[HouseholdLeak], out: Path) -> None:
    """Write ``household_id,start,detected_at,end,flow_lph_estimate`` (empty end: still open)."""
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(OUT_COLUMNS)
        for k in leaks:
            end = "" if k.end is None else k.end.isoformat()
            row = [
                k.household_id,  # from the input file: neutralised like any text cell
                k.start.isoformat(),
                k.detected_at.isoformat(),
                end,
                f"{k.flow_lph_estimate:.1f}",
            ]
            w.writerow([safe_cell(cell) for cell in row])


def household_leaks_csv(readings: Path, out: Path, tz: str = DEFAULT_ZONE) -> list[HouseholdLeak]:
    """Read register readings from ``readings``, write the leaks found to ``out``, return them."""
    leaks = household_leaks(read_register_csv(Path(readings), tz), tz)
    write_leaks_csv(leaks, Path(out))
    return leaks
