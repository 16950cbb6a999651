"""Hourly energy and weather files read into per-building arrays on one UTC hourly axis.

Readings: ``building_id,timestamp,kwh`` (any column order, extra columns ignored), one row per
building and hour, ``timestamp`` the start of the hour in ISO 8601, UTC (``Z``, an explicit
offset, or naive meaning UTC), ``kwh`` the energy of that hour; an empty ``kwh`` is a missing
hour. Weather: ``timestamp,temperature_c``, hourly or finer (values are averaged per UTC hour).

Meters and their exporters record a gap as zeros: a run of exact zeros lasting
``zero_run_hours`` or more is a missing stretch, not a building that used nothing (a single zero
hour is kept). Every bad line is reported with its number, and nothing is returned then.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

READINGS_COLUMNS = ("building_id", "timestamp", "kwh")
WEATHER_COLUMNS = ("timestamp", "temperature_c")
ZERO_RUN_HOURS = 3
MAX_ERRORS = 20  # reported in one message; the count of the rest is given

FloatArray = NDArray[np.float64]
HourArray = NDArray[np.datetime64]


class HourlyFileError(ValueError):
    """A file that cannot be read; the message names the file and every bad line (up to 20)."""


@dataclass(frozen=True)
class HourlyEnergy:
    """kWh per building (rows, in ``building_ids`` order) and UTC hour (columns); NaN = missing."""

    building_ids: list[str]
    hours: HourArray  # datetime64[s], hour starts, consecutive
    kwh: FloatArray  # shape (len(building_ids), len(hours))

    def row(self, building_id: str) -> FloatArray:
        row: FloatArray = self.kwh[self.building_ids.index(building_id)]
        return row


def hour_axis(first: np.datetime64, last: np.datetime64) -> HourArray:
    """Every UTC hour start from ``first`` to ``last`` inclusive, as ``datetime64[s]``."""
    h0, h1 = first.astype("datetime64[h]"), last.astype("datetime64[h]")
    return np.arange(h0, h1 + np.timedelta64(1, "h"), dtype="datetime64[h]").astype("datetime64[s]")


def mask_zero_runs(kwh: FloatArray, min_hours: int = ZERO_RUN_HOURS) -> FloatArray:
    """A copy of ``kwh`` (1-D or rows of meters) with runs of ≥ ``min_hours`` exact zeros as NaN."""
    out = np.array(kwh, dtype=np.float64, copy=True)
    if min_hours <= 0 or out.size == 0:
        return out
    flat = out.reshape(-1, out.shape[-1])
    zero = flat == 0.0
    edge = np.zeros((flat.shape[0], 1), dtype=bool)
    d = np.diff(np.concatenate([edge, zero, edge], axis=1).astype(np.int8), axis=1)
    for r, s in zip(*np.nonzero(d == 1), strict=True):
        e = s + int(np.argmax(d[r, s:] == -1))
        if e - s >= min_hours:
            flat[r, s:e] = np.nan
    return out


def _columns(path: Path, reader: csv.DictReader[str], wanted: Sequence[str]) -> None:
    names = [n.strip() for n in reader.fieldnames or []]
    if not names:
        raise HourlyFileError(f"{path}: empty file, expected a header {','.join(wanted)}")
    missing = [c for c in wanted if c not in names]
    if missing:
        raise HourlyFileError(f"{path}:1: missing column(s) {', '.join(missing)}")
    reader.fieldnames = names


def _natural(text: str) -> list[tuple[int, int | str]]:
    """Sort key putting ``b2`` before ``b10``."""
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p]


def _utc_seconds(text: str) -> int:
    """UTC seconds of an ISO 8601 time (``Z``, an offset, or naive as UTC); ValueError if not."""
    when = datetime.fromisoformat(text.strip())
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


def _raise(path: Path, errors: list[str], total: int) -> None:
    more = f"\n… and {total - len(errors)} more bad line(s)" if total > len(errors) else ""
    raise HourlyFileError("\n".join(f"{path}:{e}" for e in errors) + more)


def read_energy_csv(path: Path, zero_run_hours: int = ZERO_RUN_HOURS) -> HourlyEnergy:
    """Read a readings file (see the module docstring) into a building × hour matrix."""
    path = Path(path)
    ids: dict[str, int] = {}
    rows: list[int] = []
    secs: list[int] = []
    vals: list[float] = []
    lines: list[int] = []
    errors: list[str] = []
    bad = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        _columns(path, reader, READINGS_COLUMNS)
        for rec in reader:
            problem = None
            bid = (rec.get("building_id") or "").strip()
            stamp, raw = rec.get("timestamp"), (rec.get("kwh") or "").strip()
            if not bid:
                problem = "empty building_id"
            elif stamp is None:
                problem = "missing fields"
            else:
                try:
                    t = _utc_seconds(stamp)
                except ValueError:
                    problem = f"timestamp {stamp!r} is not ISO 8601"
                else:
                    if t % 3600:
                        problem = f"timestamp {stamp!r} is not the start of an hour"
                try:
                    v = float(raw) if raw else math.nan
                except ValueError:
                    problem = problem or f"kwh {raw!r} is not a number"
                else:
                    if math.isinf(v) or v < 0:
                        problem = problem or f"kwh {raw!r} is not a finite, non-negative number"
            if problem:
                bad += 1
                if len(errors) < MAX_ERRORS:
                    errors.append(f"{reader.line_num}: {problem}")
                continue
            rows.append(ids.setdefault(bid, len(ids)))
            secs.append(t)
            vals.append(v)
            lines.append(reader.line_num)
    if bad:
        _raise(path, errors, bad)
    if not secs:
        raise HourlyFileError(f"{path}: no readings")
    t_s = np.asarray(secs, dtype=np.int64)
    axis = hour_axis(np.datetime64(int(t_s.min()), "s"), np.datetime64(int(t_s.max()), "s"))
    col = (t_s - int(axis[0].astype(np.int64))) // 3600
    row = np.asarray(rows, dtype=np.int64)
    cell = row * axis.size + col
    order = np.argsort(cell, kind="stable")
    dup = np.flatnonzero(cell[order][1:] == cell[order][:-1])
    if dup.size:
        line_nums = sorted(lines[int(order[i + 1])] for i in dup)
        _raise(
            path,
            [f"{n}: a second reading for the same building and hour" for n in line_nums[:20]],
            len(line_nums),
        )
    kwh = np.full((len(ids), axis.size), np.nan)
    kwh.flat[cell] = np.asarray(vals, dtype=np.float64)
    names = sorted(ids, key=_natural)
    kwh = kwh[[ids[b] for b in names]]
    return HourlyEnergy(names, axis, mask_zero_runs(kwh, zero_run_hours))


def read_weather_csv(path: Path) -> tuple[HourArray, FloatArray]:
    """Read a weather file into (UTC hour starts, mean °C of each hour), hours ascending."""
    path = Path(path)
    secs: list[int] = []
    vals: list[float] = []
    errors: list[str] = []
    bad = 0
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        _columns(path, reader, WEATHER_COLUMNS)
        for rec in reader:
            stamp, raw = rec.get("timestamp") or "", (rec.get("temperature_c") or "").strip()
            problem = None
            try:
                t = _utc_seconds(stamp)
            except ValueError:
                problem = f"timestamp {stamp!r} is not ISO 8601"
            try:
                v = float(raw) if raw else math.nan
            except ValueError:
                problem = problem or f"temperature_c {raw!r} is not a number"
            else:
                if not (math.isnan(v) or -90.0 <= v <= 70.0):
                    problem = problem or f"temperature_c {raw!r} is not an outdoor temperature"
            if problem:
                bad += 1
                if len(errors) < MAX_ERRORS:
                    errors.append(f"{reader.line_num}: {problem}")
                continue
            if not math.isnan(v):
                secs.append(t)
                vals.append(v)
    if bad:
        _raise(path, errors, bad)
    if not secs:
        raise HourlyFileError(f"{path}: no temperatures")
    hour = np.asarray(secs, dtype=np.int64) // 3600
    uniq, inv = np.unique(hour, return_inverse=True)
    mean = np.bincount(inv, weights=np.asarray(vals)) / np.bincount(inv)
    return (uniq * 3600).astype("datetime64[s]"), mean


def temperature_on(
    hours: HourArray, weather_hours: HourArray, temperature_c: FloatArray
) -> FloatArray:
    """Temperature of each hour of ``hours`` from a weather series (NaN where it has none)."""
    out = np.full(hours.size, np.nan)
    wh = weather_hours.astype("datetime64[s]")
    k = np.searchsorted(wh, hours.astype("datetime64[s]"))
    k = np.minimum(k, max(wh.size - 1, 0))
    hit = wh.size > 0
    if hit:
        same = wh[k] == hours
        out[same] = temperature_c[k[same]]
    return out
