"""Load the DAIAD hourly register readings into an hourly consumption matrix.

File columns: ``household_id, timestamp_local, meter_reading_l, consumption_l_since_prev``
(naive local time, Spain, same rules as Europe/Paris).  Each diff is the consumption over the
interval since the household's previous reading.  Rules:

- a diff that is negative (reverse flow / register glitch) or above ``max_interval_l`` (the
  ±248,5xx register-reset artefacts) is discarded, leaving its hour missing;
- an interval longer than ``max_interval_min`` is discarded (it spans several hours);
- a diff is assigned to the UTC hour holding the midpoint of its interval; an hour is valid only
  when its valid intervals cover at least ``min_coverage_min`` minutes, else it is ``NaN``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
from numpy.typing import NDArray

from analytics.water.household import PARIS, HourlyAxis, hourly_axis


@dataclass(frozen=True)
class HourlyMatrix:
    """Hourly consumption (litres, NaN = missing) for several households on one axis."""

    household_ids: list[str]
    flow: NDArray[np.float64]
    axis: HourlyAxis


def load_daiad_hourly(
    path: str | Path,
    tz: str = PARIS,
    max_interval_l: float = 3000.0,
    max_interval_min: float = 90.0,
    min_coverage_min: float = 45.0,
) -> HourlyMatrix:
    """Read the DAIAD hourly CSV into a ``[households, hours]`` matrix."""
    zone = ZoneInfo(tz)
    offsets: dict[str, timedelta] = {}
    rows: dict[str, list[tuple[float, float]]] = {}
    with open(path, newline="") as fh:
        for rec in csv.DictReader(fh):
            ts = rec["timestamp_local"]
            hour_key = ts[:13]
            off = offsets.get(hour_key)
            if off is None:
                naive = datetime.fromisoformat(hour_key + ":00:00")
                uo = naive.replace(tzinfo=zone).utcoffset()
                off = uo if uo is not None else timedelta(0)
                offsets[hour_key] = off
            local = datetime.fromisoformat(ts)
            t_utc = (local - off).replace(tzinfo=UTC).timestamp()
            diff = rec["consumption_l_since_prev"]
            rows.setdefault(rec["household_id"], []).append(
                (t_utc, float(diff) if diff not in ("", "nan", "NaN") else float("nan"))
            )
    ids = sorted(rows, key=lambda s: (len(s), s))
    t_min = min(min(t for t, _ in r) for r in rows.values())
    t_max = max(max(t for t, _ in r) for r in rows.values())
    h0 = int(t_min // 3600)
    n_h = int(t_max // 3600) - h0 + 1
    vol = np.zeros((len(ids), n_h))
    cov = np.zeros((len(ids), n_h))
    for i, hid in enumerate(ids):
        arr = np.asarray(sorted(rows[hid]), dtype=np.float64)
        t, d = arr[:, 0], arr[:, 1]
        dt_min = np.diff(t) / 60.0
        d = d[1:]
        mid = (t[1:] + t[:-1]) / 2.0
        good = (
            np.isfinite(d)
            & (d >= 0)
            & (d <= max_interval_l)
            & (dt_min > 0)
            & (dt_min <= max_interval_min)
        )
        col = (mid[good] // 3600).astype(np.int64) - h0
        np.add.at(vol[i], col, d[good])
        np.add.at(cov[i], col, dt_min[good])
    flow = np.where(cov >= min_coverage_min, vol, np.nan)
    axis = hourly_axis(datetime.fromtimestamp(h0 * 3600, tz=UTC), n_h, tz)
    return HourlyMatrix(household_ids=ids, flow=flow, axis=axis)
