"""One building's energy KPIs over a calendar year, month by month, from its meters' readings.

- Months are local (Europe/Paris) calendar months; a year in progress stops at ``now``.
- Consumption per carrier = the rise of each meter's registers (``energy_kwh``, every channel:
  BASE, HC, HP; or ``volume_m3`` × ``kwh_per_m3``), by :mod:`analytics.kpi.register`: resets add
  nothing and are counted, gaps are spread and their share told, nothing is extrapolated.
  Sub-meters are left out (their energy is on a main meter). kWh/m² uses ``floor_area_m2``.
- Heating = Σ meter energy × its heating share. Climate-corrected heating of a month = heating ×
  normal / measured degree days (COSTIC method, settings ``kpi.degree_day_normals``); for the
  year, heating × Σ normals / Σ measured over the months that have both. Months with under one
  degree day measured get no corrected value (the ratio means nothing there).
- CO2e = kWh × the carrier's emission factor (gas: kWh PCS × PCI/PCS first); € = kWh × price.
- Baseload (electricity): the 10th percentile of the measured hourly consumption, held through
  the month's hours, as a share of the month's electricity. Hours count when readings no more
  than ``BASELOAD_MAX_GAP`` apart frame them; a month with under half its hours measured gets
  none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analytics.kpi.degree_days import MonthDegreeDays, daily_temperatures, monthly_degree_days
from analytics.kpi.inventory import BuildingInfo, Meter
from analytics.kpi.register import hourly_use, register_use
from core.config import DEFAULT_ZONE, KpiSettings
from core.series import NS, FloatArray, Int64Array, SeriesSet, to_ns
from core.timeseries import Selection, TimeSeriesStore
from core.windows import parse_every, window_edges

MARGIN = timedelta(days=3)  # readings looked up beyond the year, to frame its edges
MAX_GAP_NS = 6 * 3600 * NS  # intervals longer than this are gaps (a meter silent 6 h)
BASELOAD_MAX_GAP_NS = 2 * 3600 * NS
BASELOAD_PERCENTILE = 10.0
MIN_MEASURED_HOURS = 0.5
ELECTRICITY = "electricity"


@dataclass(frozen=True, slots=True)
class Note:
    """Something the figures rest on or lack, for the reader: a code, its subject, a value."""

    code: str
    subject: str | None = None
    value: float | None = None


@dataclass(frozen=True, slots=True)
class MonthKpi:
    month: date
    elapsed: bool  # the whole month is in the past
    energy_kwh: float
    by_carrier_kwh: dict[str, float]
    heating_kwh: float
    heating_corrected_kwh: float | None
    degree_days_meteo: float | None
    degree_days_costic: float | None
    co2e_kg: float | None
    cost_eur: float | None
    baseload_share: float | None
    coverage: float  # the least-covered meter's share of the month between its readings


@dataclass(frozen=True, slots=True)
class CarrierYear:
    carrier: str
    energy_kwh: float
    heating_kwh: float
    co2e_kg: float | None
    cost_eur: float | None
    meters: tuple[str, ...]
    coverage: float
    resets: int
    gap_share: float  # share of the year's time spread over gaps


@dataclass(frozen=True)
class BuildingYear:
    """A building's KPIs over one calendar year (or its elapsed part)."""

    building: BuildingInfo
    year: int
    start: datetime
    end: datetime
    partial: bool
    months: list[MonthKpi]
    carriers: list[CarrierYear]
    energy_kwh: float
    energy_kwh_m2: float | None
    heating_kwh: float
    heating_corrected_kwh: float | None
    degree_days_meteo: float | None
    degree_days_costic: float | None
    co2e_kg: float | None
    cost_eur: float | None
    baseload_share: float | None
    coverage: float
    notes: list[Note] = field(default_factory=list)

    @property
    def has_data(self) -> bool:
        return self.coverage > 0.0


def year_bounds(
    year: int, now: datetime, zone_name: str = DEFAULT_ZONE
) -> tuple[datetime, datetime, bool]:
    """The local calendar year in UTC, cut at ``now``; whether it is cut."""
    zone = ZoneInfo(zone_name)
    start = datetime.combine(date(year, 1, 1), time(), zone).astimezone(UTC)
    end = datetime.combine(date(year + 1, 1, 1), time(), zone).astimezone(UTC)
    if start >= now:
        raise ValueError(f"year {year} has not started")
    return start, min(end, now), end > now


def _edges(start: datetime, end: datetime, every: str, zone: str) -> Int64Array:
    """Window edges from ``start``, the last window cut at ``end``."""
    edges = window_edges(start, end, parse_every(every), zone)
    edges = edges[edges < to_ns(end)]
    return np.append(edges, to_ns(end)).astype(np.int64)


@dataclass
class _MeterUse:
    meter: Meter
    monthly: FloatArray
    coverage: FloatArray
    gap: FloatArray
    resets: int
    hourly: FloatArray | None = None
    measured: FloatArray | None = None


def _meter_series(
    store: TimeSeriesStore, meters: tuple[Meter, ...], start: datetime, end: datetime
) -> tuple[dict[str, list[tuple[Int64Array, FloatArray, float]]], list[Note]]:
    """Per meter, its register series (times, values in kWh) and the notes on missing ones."""
    notes: list[Note] = []
    out: dict[str, list[tuple[Int64Array, FloatArray, float]]] = {m.device: [] for m in meters}
    if not meters:
        return out, notes
    window = (start - MARGIN, end + MARGIN)
    energy = store.read(Selection.of("energy_kwh", devices=[m.device for m in meters]), *window)
    _collect(energy, out, {m.device: 1.0 for m in meters})
    by_volume = [m for m in meters if not out[m.device] and m.carrier == "gas"]
    if by_volume:
        volume = store.read(
            Selection.of("volume_m3", devices=[m.device for m in by_volume]), *window
        )
        factors = {m.device: m.kwh_per_m3 for m in by_volume if m.kwh_per_m3 is not None}
        for m in by_volume:
            if m.kwh_per_m3 is None and m.device in {k.device for k in volume.keys}:
                notes.append(Note("gas_m3_without_kwh_per_m3", m.device))
        _collect(volume, out, factors)
    for m in meters:
        if not out[m.device]:
            notes.append(Note("meter_without_readings", m.device))
    return out, notes


def _collect(
    series: SeriesSet,
    out: dict[str, list[tuple[Int64Array, FloatArray, float]]],
    factors: Mapping[str, float | None],
) -> None:
    for i, key in enumerate(series.keys):
        factor = factors.get(key.device)
        if factor is None:
            continue
        times, values = series.series(i)
        out[key.device].append((times, values, factor))


def _meter_use(
    meter: Meter,
    series: list[tuple[Int64Array, FloatArray, float]],
    month_edges: Int64Array,
    hour_edges: Int64Array | None,
) -> _MeterUse:
    n = len(month_edges) - 1
    use = _MeterUse(meter, np.zeros(n), np.zeros(n), np.zeros(n), 0)
    for times, values, factor in series:
        r = register_use(times, values, month_edges, MAX_GAP_NS)
        use.monthly = use.monthly + r.use * factor
        use.coverage = np.maximum(use.coverage, r.covered_share)  # channels report together
        use.gap = np.maximum(use.gap, r.gap_share)
        use.resets += r.resets
        if hour_edges is not None:
            kwh, measured = hourly_use(times, values, hour_edges, BASELOAD_MAX_GAP_NS)
            use.hourly = kwh * factor if use.hourly is None else use.hourly + kwh * factor
            use.measured = measured if use.measured is None else np.minimum(use.measured, measured)
    return use


def _baseload(
    uses: list[_MeterUse], month_edges: Int64Array, hour_edges: Int64Array
) -> tuple[FloatArray, FloatArray]:
    """Baseload kWh of each month (NaN when unknown) and the month's electricity."""
    n = len(month_edges) - 1
    elec = [u for u in uses if u.meter.carrier == ELECTRICITY]
    hourly_rows = [u.hourly for u in elec if u.hourly is not None]
    measured_rows = [u.measured for u in elec if u.measured is not None]
    base = np.full(n, np.nan)
    if not hourly_rows or len(hourly_rows) != len(elec):
        return base, np.zeros(n)
    hourly = np.sum(hourly_rows, axis=0)
    measured = np.min(measured_rows, axis=0) > 0
    month_of_hour = np.searchsorted(month_edges, hour_edges[:-1], side="right") - 1
    for j in range(n):
        in_month = month_of_hour == j
        hours = (month_edges[j + 1] - month_edges[j]) / (3600 * NS)
        good = hourly[in_month & measured]
        if hours <= 0 or len(good) < MIN_MEASURED_HOURS * in_month.sum():
            continue
        base[j] = float(np.percentile(good, BASELOAD_PERCENTILE)) * hours
    return base, np.sum([u.monthly for u in elec], axis=0)


def _factor(settings: KpiSettings, carrier: str) -> float | None:
    factor = settings.emission_factors_kgco2e_kwh.get(carrier)
    if factor is None:
        return None
    return factor * settings.gas_pci_per_pcs if carrier == "gas" else factor


def _sum_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return float(sum(known)) if known and len(known) == len(values) else None


def building_year(
    store: TimeSeriesStore,
    building: BuildingInfo,
    year: int,
    now: datetime,
    settings: KpiSettings,
    baseload: bool = True,
) -> BuildingYear:
    """The building's KPIs for ``year``; raises ValueError when the year has not started."""
    start, end, partial = year_bounds(year, now, settings.zone)
    month_edges = _edges(start, end, "1mo", settings.zone)
    hour_edges = _edges(start, end, "1h", settings.zone) if baseload else None
    n = len(month_edges) - 1
    notes: list[Note] = []
    if not building.meters:
        notes.append(Note("no_meter"))
    for sub in building.submeters:
        notes.append(Note("submeter_left_out", sub))
    metered = {m.carrier for m in building.meters}
    for carrier in building.energy_carriers:
        if carrier not in metered:
            notes.append(Note("carrier_not_metered", carrier))
    series, read_notes = _meter_series(store, building.meters, start, end)
    notes.extend(read_notes)
    uses = [_meter_use(m, series[m.device], month_edges, hour_edges) for m in building.meters]
    for u in uses:
        if u.resets:
            notes.append(Note("meter_reset", u.meter.device, float(u.resets)))
        if series[u.meter.device]:
            share = _time_share(u.coverage, month_edges)
            if share < 1.0 - 1e-9:
                notes.append(Note("meter_incomplete", u.meter.device, share))

    dd = _degree_days(store, building, start, end, now, month_edges, settings.zone)
    if not building.outdoor:
        notes.append(Note("no_outdoor_temperature"))
    elif any(m.costic is None for m in dd):
        notes.append(Note("degree_days_incomplete"))
    normals = settings.degree_day_normals
    if not normals:
        notes.append(Note("no_degree_day_normals"))

    carriers = sorted({u.meter.carrier for u in uses})
    for c in carriers:
        if _factor(settings, c) is None:
            notes.append(Note("no_emission_factor", c))
    base_kwh, elec_kwh = (
        _baseload(uses, month_edges, hour_edges)
        if hour_edges is not None
        else (np.full(n, np.nan), np.zeros(n))
    )
    months: list[MonthKpi] = []
    zone = ZoneInfo(settings.zone)
    for j in range(n):
        first = datetime.fromtimestamp(int(month_edges[j]) / NS, UTC).astimezone(zone)
        by_carrier = {
            c: float(sum(u.monthly[j] for u in uses if u.meter.carrier == c)) for c in carriers
        }
        heating = float(sum(u.monthly[j] * u.meter.heating_share for u in uses))
        ddm = dd[j]
        corrected = None
        if normals and ddm.costic is not None and ddm.costic >= 1.0:
            normal = normals[first.month - 1] * ddm.days / _days_in_month(first.date())
            corrected = heating * normal / ddm.costic
        co2 = [(_factor(settings, c) or np.nan) * kwh for c, kwh in by_carrier.items()]
        cost = [settings.prices_eur_kwh.get(c, np.nan) * kwh for c, kwh in by_carrier.items()]
        months.append(
            MonthKpi(
                month=first.date().replace(day=1),
                elapsed=int(month_edges[j + 1]) < to_ns(end) or not partial,
                energy_kwh=float(sum(by_carrier.values())),
                by_carrier_kwh=by_carrier,
                heating_kwh=heating,
                heating_corrected_kwh=corrected,
                degree_days_meteo=ddm.meteo,
                degree_days_costic=ddm.costic,
                co2e_kg=_nan_none(float(np.sum(co2))) if co2 else 0.0,
                cost_eur=_nan_none(float(np.sum(cost))) if cost else 0.0,
                baseload_share=_ratio(base_kwh[j], elec_kwh[j]),
                coverage=float(min((u.coverage[j] for u in uses), default=0.0)),
            )
        )
    carrier_years = [_carrier_year(c, uses, month_edges, settings) for c in carriers]
    energy = float(sum(c.energy_kwh for c in carrier_years))
    heating = float(sum(c.heating_kwh for c in carrier_years))
    both = [m for m in months if m.degree_days_costic is not None]
    corrected_year = None
    if normals and both and len(both) == len(months):
        measured = sum(m.degree_days_costic or 0.0 for m in both)
        normal = sum(
            normals[m.month.month - 1] * dd[k].days / _days_in_month(m.month)
            for k, m in enumerate(months)
        )
        corrected_year = heating * normal / measured if measured >= 1.0 else None
    area = building.floor_area_m2
    known = [m.baseload_share for m in months if m.baseload_share is not None]
    base_total = float(np.nansum(base_kwh)) if known else None
    elec_total = float(
        sum(m.by_carrier_kwh.get(ELECTRICITY, 0.0) for m in months if m.baseload_share is not None)
    )
    coverage = float(min((_time_share(u.coverage, month_edges) for u in uses), default=0.0))
    return BuildingYear(
        building=building,
        year=year,
        start=start,
        end=end,
        partial=partial,
        months=months,
        carriers=carrier_years,
        energy_kwh=energy,
        energy_kwh_m2=energy / area if area else None,
        heating_kwh=heating,
        heating_corrected_kwh=corrected_year,
        degree_days_meteo=_sum_or_none([m.degree_days_meteo for m in months]),
        degree_days_costic=_sum_or_none([m.degree_days_costic for m in months]),
        co2e_kg=_sum_or_none([c.co2e_kg for c in carrier_years]) if carrier_years else None,
        cost_eur=_sum_or_none([c.cost_eur for c in carrier_years]) if carrier_years else None,
        baseload_share=_ratio(base_total, elec_total) if base_total is not None else None,
        coverage=coverage,
        notes=notes,
    )


def _carrier_year(
    carrier: str, uses: list[_MeterUse], month_edges: Int64Array, settings: KpiSettings
) -> CarrierYear:
    mine = [u for u in uses if u.meter.carrier == carrier]
    energy = float(sum(float(u.monthly.sum()) for u in mine))
    factor = _factor(settings, carrier)
    price = settings.prices_eur_kwh.get(carrier)
    return CarrierYear(
        carrier=carrier,
        energy_kwh=energy,
        heating_kwh=float(sum(float(u.monthly.sum()) * u.meter.heating_share for u in mine)),
        co2e_kg=None if factor is None else energy * factor,
        cost_eur=None if price is None else energy * price,
        meters=tuple(u.meter.device for u in mine),
        coverage=float(min(_time_share(u.coverage, month_edges) for u in mine)),
        resets=sum(u.resets for u in mine),
        gap_share=float(max(_time_share(u.gap, month_edges) for u in mine)),
    )


def _degree_days(
    store: TimeSeriesStore,
    building: BuildingInfo,
    start: datetime,
    end: datetime,
    now: datetime,
    month_edges: Int64Array,
    zone_name: str,
) -> list[MonthDegreeDays]:
    zone = ZoneInfo(zone_name)
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    # Day D's Tx needs the readings until 06:00 UTC on D+1.
    until = (now - timedelta(hours=6)).date()
    daily = daily_temperatures(store, building.outdoor, first, last)
    found = {m.month: m for m in monthly_degree_days(daily, until)}
    out = []
    for j in range(len(month_edges) - 1):
        month = datetime.fromtimestamp(int(month_edges[j]) / NS, UTC).astimezone(zone).date()
        month = month.replace(day=1)
        out.append(found.get(month, MonthDegreeDays(month, None, None, 0, 0)))
    return out


def _days_in_month(day: date) -> int:
    nxt = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return (nxt - day.replace(day=1)).days


def _time_share(shares: FloatArray, edges: Int64Array) -> float:
    widths = np.diff(edges).astype(np.float64)
    return float((shares * widths).sum() / widths.sum()) if widths.sum() > 0 else 0.0


def _ratio(part: float | None, whole: float) -> float | None:
    if part is None or not np.isfinite(part) or whole <= 0:
        return None
    return float(part / whole)


def _nan_none(value: float) -> float | None:
    return None if not np.isfinite(value) else value
