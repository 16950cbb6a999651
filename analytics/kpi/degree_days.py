"""Heating degree days, base 18 °C, by the Météo and the COSTIC methods, from outdoor readings.

Formulas (S = 18 °C; Tn, Tx the day's minimum and maximum):

- Météo method: DJ = max(0, S − (Tn + Tx) / 2).
- "Professionnels de l'énergie" (COSTIC) method, the one used for heating-contract follow-up and
  by OPERAT: DJ = S − (Tn + Tx) / 2 when Tx ≤ S; 0 when Tn ≥ S; and when Tn < S < Tx,
  DJ = (S − Tn) × (0.08 + 0.42 × (S − Tn) / (Tx − Tn)): the day counts only the part of it that
  is colder than S. Both cases agree at Tx = S and at Tn = S.

Sources: Météo-France's "fiche méthode Degrés Jours" as summarised by the French Wikipedia article
"Degré jour unifié" (two methods, "Météo" and "Professionnels de l'énergie", the latter conform
to the COSTIC method of heating-contract follow-up); Enoptea, "Comment calculer les DJU ?"; the
COSTIC page of its DJU subscription (its method is the one recommended by the 2007 public
procurement guide for heating operation contracts). Cegibat's DJU calculator, built with
Météo-France, offers the same two methods.

Day convention: Météo-France's climatological day. Tn of day D is the minimum from 18:00 UTC on
D−1 to 18:00 UTC on D; Tx is the maximum from 06:00 UTC on D to 06:00 UTC on D+1 (thermometers
are read at 18:00 and 06:00 UTC). We follow it rather than the local calendar day so that our
degree days compare with the published ones (Météo-France, COSTIC, the DJU OPERAT uses), which
is what a climate correction against a reference year needs. It is exact from the store's
six-hour minima and maxima (windows aligned on 00, 06, 12 and 18 UTC), whatever the DST. Day D
belongs to the month of its date.

A day counts when each of its four six-hour windows, for Tn and for Tx, holds a reading; a month
whose valid days cover at least ``MIN_DAY_SHARE`` of its (elapsed) days gets the valid days'
mean × its days, else no value. Several outdoor sensors are combined window by window by their
median, so that one faulty probe does not move the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import numpy as np

from core.series import NS, FloatArray, to_ns
from core.timeseries import Agg, Selection, TimeSeriesStore

BASE_C = 18.0
MIN_DAY_SHARE = 0.8
SIX_HOURS_NS = 6 * 3600 * NS


def dj_meteo(tn: FloatArray, tx: FloatArray, base: float = BASE_C) -> FloatArray:
    """Degree days by the Météo method, element-wise."""
    return np.asarray(np.maximum(0.0, base - (tn + tx) / 2))


def dj_costic(tn: FloatArray, tx: FloatArray, base: float = BASE_C) -> FloatArray:
    """Degree days by the "professionnels de l'énergie" (COSTIC) method, element-wise."""
    tn, tx = np.asarray(tn, dtype=np.float64), np.asarray(tx, dtype=np.float64)
    below = base - (tn + tx) / 2
    span = np.where(tx > tn, tx - tn, 1.0)
    share = (base - tn) / span
    straddle = (base - tn) * (0.08 + 0.42 * share)
    out = np.where(tx <= base, below, np.where(tn >= base, 0.0, straddle))
    return np.asarray(np.where(tx < tn, np.nan, out))


@dataclass(frozen=True, slots=True)
class OutdoorProbe:
    """A temperature series that measures the outdoor air: a device and its channel."""

    device: str
    channel: str | None


@dataclass(frozen=True, slots=True)
class DailyTemperatures:
    """Tn and Tx of consecutive days (Météo-France convention); NaN where a window is empty."""

    first_day: date
    tn: FloatArray
    tx: FloatArray

    @property
    def days(self) -> list[date]:
        return [self.first_day + timedelta(days=k) for k in range(len(self.tn))]

    @property
    def valid(self) -> FloatArray:
        return np.asarray(np.isfinite(self.tn) & np.isfinite(self.tx))


def daily_temperatures(
    store: TimeSeriesStore, probes: Sequence[OutdoorProbe], first_day: date, last_day: date
) -> DailyTemperatures:
    """Tn and Tx of each day from ``first_day`` to ``last_day`` included."""
    n = (last_day - first_day).days + 1
    if n <= 0 or not probes:
        return DailyTemperatures(first_day, np.full(max(n, 0), np.nan), np.full(max(n, 0), np.nan))
    start = datetime.combine(first_day - timedelta(days=1), time(18), UTC)
    end = datetime.combine(last_day + timedelta(days=1), time(6), UTC)
    lows = _windows(store, probes, start, end, Agg.MIN)
    highs = _windows(store, probes, start, end, Agg.MAX)
    # Window k starts at start + 6h·k: day d's Tn takes windows 4d..4d+3, its Tx 4d+2..4d+5.
    tn = np.full(n, np.nan)
    tx = np.full(n, np.nan)
    for d in range(n):
        low = lows[4 * d : 4 * d + 4]
        high = highs[4 * d + 2 : 4 * d + 6]
        if len(low) == 4 and np.isfinite(low).all():
            tn[d] = low.min()
        if len(high) == 4 and np.isfinite(high).all():
            tx[d] = high.max()
    return DailyTemperatures(first_day, tn, tx)


def _windows(
    store: TimeSeriesStore,
    probes: Sequence[OutdoorProbe],
    start: datetime,
    end: datetime,
    agg: Agg,
) -> FloatArray:
    """Six-hour minima or maxima from ``start``, the probes' median window by window."""
    n = (to_ns(end) - to_ns(start)) // SIX_HOURS_NS
    rows: list[FloatArray] = []
    by_channel: dict[str | None, list[str]] = {}
    for p in probes:
        by_channel.setdefault(p.channel, []).append(p.device)
    for channel, devices in by_channel.items():
        grid = store.aggregate(
            Selection.of("temperature_c", devices=devices, channel=channel), start, end, "6h", agg
        )
        offset = (
            int((int(grid.starts[0]) - to_ns(start)) // SIX_HOURS_NS) if len(grid.starts) else 0
        )
        for i in range(len(grid)):
            row = np.full(n, np.nan)
            values = grid.values[i]
            lo = max(offset, 0)
            hi = min(n, offset + len(values))
            row[lo:hi] = values[lo - offset : hi - offset]
            rows.append(row)
    if not rows:
        return np.full(n, np.nan)
    stacked = np.vstack(rows)
    filled = np.isfinite(stacked).any(axis=0)
    out = np.full(n, np.nan)
    if filled.any():
        out[filled] = np.nanmedian(stacked[:, filled], axis=0)
    return out


@dataclass(frozen=True, slots=True)
class MonthDegreeDays:
    """One month's degree days by both methods, and the days they rest on."""

    month: date  # first day of the month
    meteo: float | None
    costic: float | None
    days: int  # days of the month within the period
    valid_days: int


def monthly_degree_days(
    daily: DailyTemperatures, until: date | None = None
) -> list[MonthDegreeDays]:
    """Degree days of each calendar month the days touch; days from ``until`` on are left out
    (the year in progress)."""
    meteo = dj_meteo(daily.tn, daily.tx)
    costic = dj_costic(daily.tn, daily.tx)
    valid = daily.valid
    months: dict[date, list[int]] = {}
    for k, day in enumerate(daily.days):
        if until is not None and day >= until:
            continue
        months.setdefault(day.replace(day=1), []).append(k)
    out: list[MonthDegreeDays] = []
    for month, index in months.items():
        idx = np.asarray(index)
        good = idx[valid[idx]]
        share = len(good) / len(idx)
        if len(good) == 0 or share < MIN_DAY_SHARE:
            out.append(MonthDegreeDays(month, None, None, len(idx), len(good)))
            continue
        scale = len(idx) / len(good)
        out.append(
            MonthDegreeDays(
                month,
                float(meteo[good].sum() * scale),
                float(costic[good].sum() * scale),
                len(idx),
                len(good),
            )
        )
    return out
