"""One building's hours as the energy and comfort detectors see them, built from raw readings.

Each column is one UTC hour of ``[start, end)``. Per hour: whether the building is occupied
(its weekly opening hours, public holidays and, for schools, its zone's school holidays: the
rule of :func:`analytics.kpi.comfort.occupied_heating_hours`, reused with an all-year season),
whether the day is in the heating season, how long since the building was last occupied and
until it next opens (the schedule is known ahead, so these look two weeks either side of the
window), each register's kWh (:func:`analytics.kpi.register.hourly_use`: a reset adds nothing,
an hour framed by readings more than ``max_gap`` apart is unknown), the indoor temperature (mean
over the building's indoor sensors), each CO2 sensor's level and the outdoor temperature
(median over the building's probes). Unknown values are NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from analytics.kpi.comfort import occupied_heating_hours
from analytics.kpi.inventory import BuildingInfo
from analytics.kpi.register import hourly_use
from core.calendar import FrenchCalendar
from core.config import DEFAULT_ZONE, KpiSettings
from core.series import NS, FloatArray, Int64Array, to_ns

BoolArray = npt.NDArray[np.bool_]
HOUR_NS = 3600 * NS
AROUND = timedelta(days=14)  # how far occupancy is looked at either side of the window
ALL_YEAR = ["01-01", "12-31"]
MAX_GAP_NS = 3 * HOUR_NS


@dataclass(frozen=True)
class Register:
    """One energy register (a meter's channel) and its raw readings."""

    device: str
    channel: str | None
    carrier: str
    heating_share: float
    times_ns: Int64Array
    index_kwh: FloatArray


@dataclass(frozen=True)
class BuildingHours:
    """Hourly arrays of one building over ``hours_ns`` (start of each UTC hour)."""

    code: str
    tenant: str
    hours_ns: Int64Array
    local_day: npt.NDArray[np.datetime64]  # the hour's local date (in ``zone``)
    occupied: BoolArray
    heating_season: BoolArray
    since_open_h: FloatArray  # hours since the building was last occupied (0 when occupied)
    until_open_h: FloatArray  # hours until it next opens (0 when occupied)
    registers: tuple[Register, ...]
    kwh: FloatArray  # [register, hour]
    indoor_c: FloatArray
    co2_devices: tuple[str, ...]
    co2_ppm: FloatArray  # [sensor, hour]
    outdoor_c: FloatArray
    zone: str = DEFAULT_ZONE  # the territory's, of local days and hours

    @property
    def n(self) -> int:
        return len(self.hours_ns)

    def window(self, lo: int, hi: int) -> BuildingHours:
        """The hours ``[lo, hi)`` (registers' raw readings cut to them)."""
        t0, t1 = int(self.hours_ns[lo]), int(self.hours_ns[hi - 1]) + HOUR_NS
        regs = tuple(
            replace(r, times_ns=r.times_ns[keep], index_kwh=r.index_kwh[keep])
            for r in self.registers
            for keep in [(r.times_ns >= t0 - MAX_GAP_NS) & (r.times_ns < t1)]
        )
        return replace(
            self,
            hours_ns=self.hours_ns[lo:hi],
            local_day=self.local_day[lo:hi],
            occupied=self.occupied[lo:hi],
            heating_season=self.heating_season[lo:hi],
            since_open_h=self.since_open_h[lo:hi],
            until_open_h=self.until_open_h[lo:hi],
            registers=regs,
            kwh=self.kwh[:, lo:hi],
            indoor_c=self.indoor_c[lo:hi],
            co2_ppm=self.co2_ppm[:, lo:hi],
            outdoor_c=self.outdoor_c[lo:hi],
        )

    def heating_kwh(self) -> FloatArray:
        """kWh of each hour that heats the building (registers × their heating share)."""
        shares = np.array([r.heating_share for r in self.registers])
        if not len(shares) or not (shares > 0).any():
            return np.full(self.n, np.nan)
        rows = self.kwh[shares > 0] * shares[shares > 0, None]
        return np.asarray(rows.sum(axis=0))


def hour_grid(start: datetime, end: datetime) -> Int64Array:
    """Start (ns UTC) of every whole hour in ``[start, end)``."""
    first = start.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if first < start:
        first += timedelta(hours=1)
    lo, hi = to_ns(first), to_ns(end)
    return np.arange(lo, hi, HOUR_NS, dtype=np.int64)


def occupancy(
    info: BuildingInfo,
    hours_ns: Int64Array,
    calendar: FrenchCalendar,
    settings: KpiSettings,
) -> tuple[BoolArray, BoolArray, FloatArray, FloatArray]:
    """Occupied, heating season, hours since last occupied and until next opening, per hour."""
    n = len(hours_ns)
    if n == 0:
        empty = np.zeros(0)
        return np.zeros(0, bool), np.zeros(0, bool), empty, empty
    pad = int(AROUND.total_seconds()) * NS
    wide = np.arange(int(hours_ns[0]) - pad, int(hours_ns[-1]) + HOUR_NS + pad, HOUR_NS)
    lo = datetime.fromtimestamp(int(wide[0]) // NS, UTC)
    hi = datetime.fromtimestamp(int(wide[-1]) // NS + 3600, UTC)
    every_day = settings.model_copy(update={"heating_season": ALL_YEAR})
    occ_wide = np.isin(wide, occupied_heating_hours(info, lo, hi, every_day, calendar))
    since, until = _distances(occ_wide)
    sl = slice(int(np.searchsorted(wide, hours_ns[0])), int(np.searchsorted(wide, hours_ns[0])) + n)
    return occ_wide[sl], _season(hours_ns, settings), since[sl], until[sl]


def _season(hours_ns: Int64Array, settings: KpiSettings) -> BoolArray:
    days = local_days(hours_ns, settings.zone)
    md = np.array([str(d)[5:] for d in days.astype("datetime64[D]")])
    first, last = settings.heating_season
    if first <= last:
        return np.asarray((md >= first) & (md <= last))
    return np.asarray((md >= first) | (md <= last))


def local_days(hours_ns: Int64Array, zone: str = DEFAULT_ZONE) -> npt.NDArray[np.datetime64]:
    """The local date (in ``zone``) of each hour."""
    if len(hours_ns) == 0:
        return np.zeros(0, dtype="datetime64[D]")
    tz = ZoneInfo(zone)
    out = np.empty(len(hours_ns), dtype="datetime64[D]")
    for i, t in enumerate(hours_ns.tolist()):
        local = datetime.fromtimestamp(t // NS, UTC).astimezone(tz)
        out[i] = np.datetime64(local.date())
    return out


def _distances(occupied: BoolArray) -> tuple[FloatArray, FloatArray]:
    """Hours since the last occupied hour ended and until the next begins (inf if none)."""
    n = len(occupied)
    idx = np.arange(n)
    last = np.maximum.accumulate(np.where(occupied, idx, -(10**9)))
    nxt = np.minimum.accumulate(np.where(occupied, idx, 10**9)[::-1])[::-1]
    since = np.where(occupied, 0.0, (idx - last).astype(np.float64))
    until = np.where(occupied, 0.0, (nxt - idx).astype(np.float64))
    since[last < 0] = np.inf
    until[nxt >= 10**9] = np.inf
    return since, until


def hourly_mean(times_ns: Int64Array, values: FloatArray, hours_ns: Int64Array) -> FloatArray:
    """Mean of the readings that fall in each hour (NaN for an hour without one)."""
    n = len(hours_ns)
    if n == 0 or len(times_ns) == 0:
        return np.full(n, np.nan)
    k = (np.asarray(times_ns) - hours_ns[0]) // HOUR_NS
    ok = (k >= 0) & (k < n) & np.isfinite(values)
    sums = np.bincount(k[ok], weights=np.asarray(values)[ok], minlength=n)
    counts = np.bincount(k[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def register_kwh(register: Register, hours_ns: Int64Array) -> FloatArray:
    """kWh of each hour (NaN when the hour is not framed by close enough readings)."""
    if len(hours_ns) == 0:
        return np.zeros(0)
    edges = np.append(hours_ns, hours_ns[-1] + HOUR_NS)
    use, measured = hourly_use(register.times_ns, register.index_kwh, edges, MAX_GAP_NS)
    return np.where(measured > 0, use, np.nan)


def build(
    info: BuildingInfo,
    hours_ns: Int64Array,
    registers: Sequence[Register],
    indoor: Sequence[tuple[Int64Array, FloatArray]],
    co2: Sequence[tuple[str, Int64Array, FloatArray]],
    outdoor: Sequence[tuple[Int64Array, FloatArray]],
    calendar: FrenchCalendar,
    settings: KpiSettings,
) -> BuildingHours:
    """The building's hours from its raw readings."""
    n = len(hours_ns)
    occupied, season, since, until = occupancy(info, hours_ns, calendar, settings)
    kwh = np.array([register_kwh(r, hours_ns) for r in registers]).reshape(len(registers), n)
    # An hour no sensor read is NaN, as meant: numpy warns of such all-NaN columns, not errors.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        rooms = np.array([hourly_mean(t, v, hours_ns) for t, v in indoor]).reshape(-1, n)
        indoor_c = np.nanmean(rooms, axis=0) if len(rooms) else np.full(n, np.nan)
        probes = np.array([hourly_mean(t, v, hours_ns) for t, v in outdoor]).reshape(-1, n)
        outdoor_c = np.nanmedian(probes, axis=0) if len(probes) else np.full(n, np.nan)
    co2_ppm = np.array([hourly_mean(t, v, hours_ns) for _, t, v in co2]).reshape(len(co2), n)
    return BuildingHours(
        code=info.code,
        tenant=info.tenant,
        hours_ns=hours_ns,
        local_day=local_days(hours_ns, settings.zone),
        occupied=occupied,
        heating_season=season,
        since_open_h=since,
        until_open_h=until,
        registers=tuple(registers),
        kwh=kwh,
        indoor_c=np.asarray(indoor_c, dtype=np.float64),
        co2_devices=tuple(d for d, _, _ in co2),
        co2_ppm=co2_ppm,
        outdoor_c=np.asarray(outdoor_c, dtype=np.float64),
        zone=settings.zone,
    )
