"""``vigie evaluate energy``: the energy and comfort detectors scored on a simulated year.

The territory's buildings (``copies`` times, each copy drawing its own faults and noise) are
simulated by :func:`simulator.buildings.simulate_buildings`, which injects
``heating_on_holiday``, ``setpoint_excess`` and ``baseload_increase``. Their meters and sensors
are read here as the store would hold them — without the radio and MQTT path, which the water
evaluation already exercises: electricity registers every 15 minutes to the Wh, gas pulse
counters of 0.1 kWh, indoor temperature (0.1 °C) and CO2 every 15 minutes, one outdoor probe
hourly. Meter faults (frozen, reset, jump, zeros) are injected into the registers here, one on
about a third of the buildings, since the simulator's device faults are drawn over every device
of the territory and seldom land on an energy meter. The detectors then run pass by pass and
are scored by :mod:`analytics.evaluation.energy`.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer

from analytics.detectors.energy_feeds import building_subject
from analytics.detectors.registry import DETECTORS
from analytics.energy.building_hours import HOUR_NS, BuildingHours, Register, build, hour_grid
from analytics.kpi.degree_days import OutdoorProbe
from analytics.kpi.inventory import BuildingInfo, Meter
from core.calendar import FrenchCalendar
from core.config import KpiSettings
from core.series import NS, from_ns, to_ns
from ingest.codecs.registry import CODECS
from simulator.buildings import STEP, BuildingRun, simulate_buildings
from simulator.territory import Building, SimDevice
from simulator.territory_file import SAMPLE_TERRITORY, load_territory
from simulator.weather import simulate_weather

if TYPE_CHECKING:  # the harness is imported when the command runs, never by `vigie` at start
    from analytics.evaluation.energy import InjectedFault

DETECTOR_NAMES = ("energy_meter_faults", "energy_unoccupied", "comfort_setpoints")
WARMUP = timedelta(days=35)
OUTDOOR = "outdoor-probe"


def _copies(buildings: tuple[Building, ...], copies: int) -> tuple[Building, ...]:
    out = []
    for k in range(copies):
        for b in buildings:
            if k == 0:
                out.append(b)
                continue
            devices = tuple(
                replace(d, dev_eui=f"{d.dev_eui}-{k}", building=f"{b.code}-{k}") for d in b.devices
            )
            out.append(replace(b, code=f"{b.code}-{k}", devices=devices))
    return tuple(out)


def _meter(d: SimDevice) -> Meter | None:
    if d.role not in ("energy_meter", "gas_meter"):
        return None
    carrier = str(
        d.parameters.get("carrier") or ("gas" if d.role == "gas_meter" else "electricity")
    )
    share = d.parameters.get("heating_share")
    share = float(share) if share is not None else (0.0 if carrier == "electricity" else 1.0)
    return Meter(d.dev_eui, d.name, carrier, share, None)


def _info(b: Building) -> BuildingInfo:
    meters = tuple(m for d in b.devices if (m := _meter(d)) is not None)
    climate = tuple(sorted(d.dev_eui for d in b.devices if d.role == "climate"))
    return BuildingInfo(
        code=b.code,
        name=b.name,
        tenant=b.tenant,
        tenant_name=b.tenant,
        site=b.site,
        activity_category=b.activity_category,
        floor_area_m2=b.floor_area_m2,
        energy_carriers=b.energy_carriers,
        holiday_zone=b.holiday_zone,
        schedule={day: [list(r) for r in ranges] for day, ranges in b.schedule.items()},
        operat_id=None,
        reference_year=None,
        reference_energy_kwh=None,
        reference_degree_days=None,
        energy_2019_kwh=None,
        degree_days_2019=None,
        absolute_target_kwh_m2=None,
        meters=meters,
        climate=climate,
        outdoor=(OutdoorProbe(OUTDOOR, None),),
        outdoor_scope="territory",
    )


def _registers(
    b: Building, run: BuildingRun, times: np.ndarray, rng: np.random.Generator
) -> list[Register]:
    out = []
    for m in _info(b).meters:
        kw = run.gas_kw if m.carrier == "gas" else run.electricity_kw
        used = np.concatenate([[0.0], np.cumsum(kw * STEP.total_seconds() / 3600)[:-1]])
        initial = float(rng.uniform(1e4, 2e5))
        if m.carrier == "gas":
            index = initial + np.floor(used / 0.1) * 0.1  # a pulse counter of 0.1 kWh
            channel = None
        else:
            index = initial + np.round(used, 3)
            channel = "base"
        out.append(Register(m.device, channel, m.carrier, m.heating_share, times, index))
    return out


def simulate(
    seed: int, start: datetime, days: int, copies: int
) -> tuple[list[BuildingInfo], list[BuildingHours], list[InjectedFault], datetime]:
    """The buildings' hours and the faults to score; returns the first scored pass too."""
    from analytics.evaluation.energy import METER_FAULT_KINDS, InjectedFault, inject_meter_fault

    territory = load_territory(SAMPLE_TERRITORY)
    buildings = _copies(territory.buildings, copies)
    calendar = FrenchCalendar()
    weather = simulate_weather(territory.climate, start, days, seed)
    runs = simulate_buildings(buildings, weather, start, days, seed, calendar)
    times = to_ns(start) + np.arange(days * 96, dtype=np.int64) * int(STEP.total_seconds()) * NS
    hours = hour_grid(start, start + timedelta(days=days))
    outdoor = (hours.copy(), np.round(weather.temperature_c[: len(hours)], 1))
    settings = KpiSettings()
    rng = np.random.default_rng(seed)
    first = start + WARMUP
    infos: list[BuildingInfo] = []
    out: list[BuildingHours] = []
    faults: list[InjectedFault] = []
    for b in buildings:
        run = runs[b.code]
        info = _info(b)
        registers = _registers(b, run, times, rng)
        if registers and rng.random() < 1 / 3:
            r = int(rng.integers(len(registers)))
            kind = METER_FAULT_KINDS[sum(f.kind.startswith("meter_") for f in faults) % 4]
            span = (days - 45) * 86400 - WARMUP.total_seconds()
            at = first + timedelta(days=5, seconds=float(rng.uniform(0, span)))
            registers[r], end = inject_meter_fault(
                registers[r], kind, at, float(rng.uniform(2, 10)), rng
            )
            faults.append(InjectedFault(f"meter_{kind}", registers[r].device, at, end))
        temperature = np.round(run.indoor_c, 1)
        co2 = [
            (d.dev_eui, times, np.round(run.co2_ppm))
            for d in b.devices
            if d.role == "climate" and any(f.key == "co2_ppm" for f in CODECS[d.codec_id].fields)
        ]
        bh = build(
            info,
            hours,
            registers,
            [(times, temperature) for _ in info.climate],
            co2,
            [outdoor],
            calendar,
            settings,
        )
        infos.append(info)
        out.append(bh)
        faults.extend(_judged(f, b, bh, first, start + timedelta(days=days)) for f in run.faults)
    return infos, out, faults, first


def _judged(
    f: Any, b: Building, bh: BuildingHours, first: datetime, run_end: datetime
) -> InjectedFault:
    from analytics.evaluation.energy import InjectedFault

    end = f.end or f.start
    fault = InjectedFault(f.kind, f.subject, f.start, end)
    if f.start < first:
        return replace(fault, judged=False, why_not="starts in the warm-up")
    if f.kind in ("heating_on_holiday", "setpoint_excess") and b.activity_category == "piscine":
        return replace(fault, judged=False, why_not="a pool: exempt from the setpoint rules")
    if (
        f.kind == "heating_on_holiday"
        and end >= run_end - timedelta(hours=1)
        and end - f.start < timedelta(hours=72)
    ):
        # The simulator picks closures of more than 3 days; one cut by the run's end may not be.
        return replace(fault, judged=False, why_not="cut by the end of the run")
    if f.kind == "setpoint_excess":
        if b.setpoint_c >= float(f.details["setpoint_c"]) - 1.0:
            return replace(fault, judged=False, why_not="not above the building's own setpoint")
        days, warm = _heating_days(bh, f.start, end)
        if days < 2:
            return replace(fault, judged=False, why_not="under 2 occupied heating days ≤ 15 °C")
        if warm < 2:
            # The heater could not reach the raised setpoint: no measured excess to find.
            return replace(fault, judged=False, why_not="never above 19.5 °C on 2 such days")
    return fault


def _heating_days(bh: BuildingHours, start: datetime, end: datetime) -> tuple[int, int]:
    """Local days in [start, end) with ≥ 3 occupied heating-season hours and outdoor ≤ 15 °C;
    and how many of them were warmer than 19.5 °C on average over those hours."""
    lo, hi = np.searchsorted(bh.hours_ns, [to_ns(start), to_ns(end)])
    count = warm = 0
    for day in np.unique(bh.local_day[lo:hi]):
        sel = np.flatnonzero(bh.local_day[lo:hi] == day) + lo
        occupied = bh.occupied[sel] & bh.heating_season[sel]
        if occupied.sum() >= 3 and float(np.nanmean(bh.outdoor_c[sel])) <= 15.0:
            count += 1
            warm += float(np.nanmean(bh.indoor_c[sel[occupied]])) > 19.5
    return count, warm


def energy(
    seed: Annotated[list[int], typer.Option(help="Seeds to simulate (repeat the option)")] = [1],  # noqa: B006
    start: Annotated[str, typer.Option(help="First day simulated (UTC)")] = "2024-11-26",
    days: Annotated[int, typer.Option(help="Days simulated (the first 35 are warm-up)")] = 400,
    copies: Annotated[int, typer.Option(help="Copies of the territory's buildings")] = 3,
    pass_hours: Annotated[int, typer.Option(help="Hours between two detector passes")] = 24,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the numbers as JSON")
    ] = None,
) -> None:
    """Score the energy and comfort detectors against a simulated year's injected faults:
    recall and precision per fault type (targets: recall ≥ 0.85, precision ≥ 0.8)."""
    from analytics.evaluation.energy import explains, render, run_passes, score

    if days < 90:
        raise typer.BadParameter("at least 90 days: 35 of warm-up, then faults to score")
    begin = datetime.fromisoformat(start).replace(tzinfo=UTC)
    detectors = {n: DETECTORS[n] for n in DETECTOR_NAMES}
    report: dict[str, Any] = {"runs": []}
    for s in seed:
        t0 = time.perf_counter()
        infos, hours, faults, first = simulate(s, begin, days, copies)
        t1 = time.perf_counter()
        subjects = [building_subject(i) for i in infos]
        last = from_ns(int(hours[0].hours_ns[-1]) + HOUR_NS)
        alerts = run_passes(detectors, subjects, hours, first, last, pass_hours=pass_hours)
        t2 = time.perf_counter()
        rows = score(faults, alerts)
        typer.echo(
            f"seed {s}: {len(infos)} buildings, {first:%Y-%m-%d} to {last:%Y-%m-%d}, passes every "
            f"{pass_hours} h (simulation {t1 - t0:.0f} s, detectors {t2 - t1:.0f} s)"
        )
        typer.echo(render(rows))
        report["runs"].append(
            {
                "seed": s,
                "buildings": len(infos),
                "first_pass": first.isoformat(),
                "last_pass": last.isoformat(),
                "rows": [asdict(r) for r in rows],
                "alerts": [
                    {
                        "type": a.type,
                        "subject": a.subject,
                        "raised": a.raised.isoformat(),
                        "resolved": a.resolved.isoformat() if a.resolved else None,
                        "start": a.start.isoformat(),
                        "explains": [
                            f"{f.kind} {f.start:%Y-%m-%d}" for f in faults if explains(a, f)
                        ],
                        "evidence": a.evidence,
                    }
                    for a in alerts
                ],
            }
        )
    if json_out is not None:
        json_out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        typer.echo(f"numbers → {json_out}")
