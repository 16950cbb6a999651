"""The physical run of a territory: every device's true values, the physical faults, the weather.

``simulate_physics`` runs weather → buildings → water → parking → rivers and turns their series
into each device's ``Truth``, keyed by its codec's field keys (battery and radio keys excepted:
they are the engine's). Grids: buildings and sectors 15 min, households and stations 1 h,
parking spaces 5 min. Conventions for what a key means on a given device:

- cumulative keys (``volume_m3``, ``energy_kwh[:base|hc|hp]``) start from the device parameter
  ``initial_index`` or a seeded plausible register; ``energy_kwh:hc``/``:hp`` are used when the
  codec has them and the device parameter ``tariff`` is ``hc_hp`` (HC = 22:00-06:00 local), else
  ``energy_kwh:base``. Indexes wrap at the codec field's maximum like a real register.
- ``pulse_count`` = ⌊consumption / ``pulse_weight``⌋ (+ ``initial_pulses``), in ``pulse_quantity``
  units (gas meters counting m³: 11.2 kWh/m³ PCS); a second input (``pulse_count:b``) that the
  parameters do not weigh stays at 0.
- ``temperature_c`` is the room for building devices, the ground (a 10-day mean of outdoor air)
  for water meters and sector chambers, the outdoor air for stations and parking spaces.
- ``motion_count`` is the detections during the device's reporting period; ``leak`` is the
  meter's continuous-flow alarm (no zero hour in the last 24 h) or, for a leak probe, the
  building's leak.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from core.calendar import FrenchCalendar
from ingest.codecs.base import Field, split_key
from ingest.codecs.registry import CODECS
from simulator.buildings import STEP as BUILDING_STEP
from simulator.buildings import BuildingRun, simulate_buildings
from simulator.parking import STEP as PARKING_STEP
from simulator.parking import simulate_area
from simulator.rivers import station_distance_mm, station_level
from simulator.territory import SimDevice, Territory
from simulator.truth import Fault, FloatArray, Truth
from simulator.water import QUARTER, SectorRun, simulate_water
from simulator.weather import HOUR, LocalClock, Weather, simulate_weather, stream, utc

ENGINE_KEYS = frozenset({"battery_v", "battery_pct"})
GAS_KWH_PER_M3 = 11.2
POWER_FACTOR, VOLTS = 0.92, 230.0
PHASE_SHARES = {"1": 0.36, "2": 0.33, "3": 0.31}


@dataclass(frozen=True, slots=True)
class PhysicsRun:
    truths: dict[str, Truth]  # DevEUI → true values
    faults: list[Fault]
    weather: Weather
    buildings: dict[str, BuildingRun] = field(default_factory=dict)
    sectors: dict[str, SectorRun] = field(default_factory=dict)
    levels_m: dict[str, FloatArray] = field(default_factory=dict)  # station → hourly level


@dataclass(slots=True)
class _Source:
    """What a device observes, on its grid: instantaneous series and a consumption per step."""

    start: datetime
    step: timedelta
    series: dict[str, FloatArray]
    use: FloatArray | None = None  # consumption during each step
    use_quantity: str = "volume_m3"  # what ``use`` is in: volume_m3 or energy_kwh
    offpeak: FloatArray | None = None  # True on HC steps
    occupants: FloatArray | None = None
    on_change: bool = False


def simulate_physics(
    territory: Territory,
    start: datetime,
    days: int,
    seed: int,
    calendar: FrenchCalendar,
    placed: Sequence[Fault] = (),
) -> PhysicsRun:
    """The territory's physics for ``days`` days from ``start``; deterministic for ``seed``;
    ``placed`` building faults join the drawn ones."""
    start = utc(start)
    weather = simulate_weather(territory.climate, start, days, seed)
    buildings = simulate_buildings(
        territory.buildings, weather, start, days, seed, calendar, placed=placed
    )
    water = simulate_water(territory.sectors, buildings, start, days, seed, calendar)
    faults = [f for run in buildings.values() for f in run.faults] + water.faults

    ground_h = _ground(weather.temperature_c)
    sources: dict[str, _Source] = {}
    q_clock = LocalClock.build(start, days * 96, BUILDING_STEP)
    offpeak_q = ((q_clock.hour >= 22) | (q_clock.hour < 6)).astype(np.float64)
    pressure_q = weather.resampled(weather.pressure_hpa, start, days * 96, BUILDING_STEP)
    for b in territory.buildings:
        run = buildings[b.code]
        leak_probe = np.zeros(days * 96)
        for f in water.faults:
            if f.kind == "building_leak" and f.subject == b.code:
                i1 = days * 96 if f.end is None else int((f.end - start) / QUARTER)
                leak_probe[int((f.start - start) / QUARTER) : i1] = 1.0
        series = {
            "temperature_c": run.indoor_c,
            "humidity_pct": run.humidity_pct,
            "co2_ppm": run.co2_ppm,
            "pressure_hpa": pressure_q,
            "illuminance_lux": run.illuminance_lux,
            "tvoc_ppb": 80.0 + np.maximum(run.co2_ppm - 420.0, 0.0) * 0.4,
            "temperature_c:ext": weather.resampled(
                weather.temperature_c, start, days * 96, QUARTER
            ),
            "leak": leak_probe,
        }
        for d in b.devices:
            src = _Source(start, BUILDING_STEP, dict(series), occupants=run.occupants)
            if d.role == "gas_meter" or (
                d.role == "energy_meter" and d.parameters.get("carrier") == "gas"
            ):
                src.use, src.use_quantity = run.gas_kw * 0.25, "energy_kwh"
            elif d.role == "energy_meter":
                src.use, src.use_quantity = run.electricity_kw * 0.25, "energy_kwh"
                src.series["power_kw"] = run.electricity_kw
                src.offpeak = offpeak_q
            elif d.role == "water_meter":
                src.use = water.buildings_l[b.code] / 1000
                src.series["leak"] = _continuous_flow(src.use * 1000, 4)
            sources[d.dev_eui] = src
    ground_q = np.repeat(ground_h, 4)
    for s in territory.sectors:
        sector = water.sectors[s.code]
        sources[s.inflow.dev_eui] = _Source(
            start,
            QUARTER,
            {
                "temperature_c": ground_q,
                "humidity_pct": np.full(len(ground_q), 92.0),
                "leak": np.zeros(len(ground_q)),
            },
            use=sector.inflow_m3,
        )
        for h in s.households:
            litres = water.households_l[h.id]
            sources[h.meter.dev_eui] = _Source(
                start,
                HOUR,
                {
                    "temperature_c": ground_h + 1.0,
                    "temperature_c:water_min": ground_h - 0.5,
                    "temperature_c:water_max": ground_h + 2.0,
                    "humidity_pct": np.full(len(ground_h), 85.0),
                    "leak": _continuous_flow(litres, 1),
                },
                use=litres / 1000,
            )
    levels: dict[str, FloatArray] = {}
    for st in territory.stations:
        levels[st.code] = station_level(st, weather, seed)
        sources[st.device.dev_eui] = _Source(
            start,
            HOUR,
            {
                "distance_mm": station_distance_mm(st, levels[st.code]),
                "temperature_c": weather.temperature_c,
                "temperature_c:ext": ground_h,
                "water_level_m": levels[st.code],
            },
        )
    outdoor_p = weather.resampled(weather.temperature_c, start, days * 288, PARKING_STEP)
    for area in territory.areas:
        occupancy = simulate_area(area, start, days, seed, calendar)
        for sp in area.spaces:
            sources[sp.device.dev_eui] = _Source(
                start,
                PARKING_STEP,
                {"occupied": occupancy[sp.code], "temperature_c": outdoor_p + 2.0},
                on_change=True,
            )

    truths = {
        d.dev_eui: _truth(d, sources[d.dev_eui], seed)
        for d in territory.devices()
        if d.dev_eui in sources
    }
    return PhysicsRun(truths, faults, weather, buildings, water.sectors, levels)


def _ground(outdoor: FloatArray) -> FloatArray:
    """Ground temperature at meter depth: a 10-day running mean of the air, damped."""
    window = 240
    padded = np.concatenate([np.full(window, outdoor[:window].mean()), outdoor])
    mean = np.convolve(padded, np.ones(window) / window, mode="valid")[1:]
    return np.asarray(5.0 + 0.6 * mean)


def _continuous_flow(use_l: FloatArray, per_hour: int) -> FloatArray:
    """The meter's alarm: 1 when no hour of the last 24 had zero flow."""
    hourly = use_l[: len(use_l) // per_hour * per_hour].reshape(-1, per_hour).sum(axis=1)
    flowing = (hourly >= 0.5).astype(np.int64)
    run = np.convolve(flowing, np.ones(24, dtype=np.int64), mode="full")[: len(flowing)]
    flag = (run >= 24).astype(np.float64)
    return np.repeat(flag, per_hour)[: len(use_l)] if len(flag) else np.zeros(len(use_l))


def _truth(device: SimDevice, src: _Source, seed: int) -> Truth:
    codec = CODECS[device.codec_id]
    rng = stream(seed, "device", device.dev_eui)
    values: dict[str, FloatArray] = {}
    for f in codec.fields:
        if split_key(f.key)[0] in ENGINE_KEYS:
            continue
        values[f.key] = _limit(f, _value(device, f.key, src, rng))
    return Truth(src.start, src.step, values, on_change=src.on_change)


def _value(device: SimDevice, key: str, src: _Source, rng: np.random.Generator) -> FloatArray:
    quantity, channel = split_key(key)
    params = device.parameters
    n = len(next(iter(src.series.values())))
    if quantity in ("volume_m3", "energy_kwh") and src.use is not None:
        if quantity != src.use_quantity:
            raise ValueError(f"{device.dev_eui}: {key} on a meter of {src.use_quantity}")
        use = src.use
        hc_hp = params.get("tariff") == "hc_hp"
        if (channel in ("hc", "hp") and not hc_hp) or (channel == "base" and hc_hp):
            return np.zeros(n)  # a register the tariff does not use
        if channel in ("hc", "hp") and src.offpeak is not None:
            use = use * (src.offpeak if channel == "hc" else 1.0 - src.offpeak)
        initial = float(
            params.get(
                "initial_index",
                rng.uniform(50.0, 900.0) if quantity == "volume_m3" else rng.uniform(1e4, 2e5),
            )
        )
        return initial + _exclusive_cumsum(use)
    if quantity == "pulse_count" and src.use is not None:
        weight = params.get(f"pulse_weight_{channel}")
        if weight is None and channel not in (None, "a"):
            return np.zeros(n)  # an input nothing is wired to
        weight = params.get("pulse_weight") if weight is None else weight
        target = params.get("pulse_quantity", src.use_quantity)
        use = src.use
        if src.use_quantity == "energy_kwh" and target == "volume_m3":
            use = use / GAS_KWH_PER_M3
        w = float(weight if weight is not None else (0.01 if target == "volume_m3" else 1.0))
        initial = float(params.get("initial_pulses", rng.integers(0, 50_000)))
        return np.floor(initial + _exclusive_cumsum(use) / w)
    if quantity == "flow_m3h" and src.use is not None:
        return np.asarray(src.use / (src.step.total_seconds() / 3600))
    power = src.series.get("power_kw")
    if power is not None and quantity in ("apparent_power_va", "current_a", "power_w"):
        va = power * 1000 / POWER_FACTOR
        if quantity == "power_w":
            return np.asarray(power * 1000)
        if quantity == "apparent_power_va":
            return va
        return np.asarray(va * PHASE_SHARES.get(channel or "", 1.0) / VOLTS)
    if quantity == "motion_count" and src.occupants is not None:
        periods = device.period_s / src.step.total_seconds()
        return rng.poisson(np.minimum(src.occupants, 30.0) * 2.0 * periods).astype(np.float64)
    if key in src.series or quantity in src.series:
        base = src.series.get(key, src.series.get(quantity))
        assert base is not None
        return _per_device(quantity, base, rng)
    raise ValueError(
        f"{device.dev_eui} ({device.codec_id}, role {device.role}): no physics for {key}"
    )


def _per_device(quantity: str, base: FloatArray, rng: np.random.Generator) -> FloatArray:
    """Where in the room a sensor hangs: a small offset of its own."""
    if quantity == "temperature_c":
        return np.asarray(base + rng.normal(0.0, 0.4))
    if quantity == "co2_ppm":
        return np.asarray(420.0 + (base - 420.0) * rng.lognormal(0.0, 0.2))
    if quantity == "humidity_pct":
        return np.asarray(base + rng.normal(0.0, 2.0))
    return base


def _exclusive_cumsum(use: FloatArray) -> FloatArray:
    """Consumption before each step (the register at the step's start)."""
    out = np.zeros(len(use))
    np.cumsum(use[:-1], out=out[1:])
    return out


def _limit(f: Field, values: FloatArray) -> FloatArray:
    """What the device can show: cumulative registers wrap, instantaneous values saturate."""
    quantity = split_key(f.key)[0]
    if quantity in ("volume_m3", "energy_kwh", "pulse_count"):
        span = f.maximum + (1 if quantity == "pulse_count" else 0)
        return np.asarray(np.mod(values, span) if values.max(initial=0.0) >= span else values)
    return np.clip(values, f.minimum, f.maximum)
