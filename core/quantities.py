"""The quantity vocabulary: every measurable thing Vigie stores, declared once as data."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a quantity's successive values relate to each other."""

    CUMULATIVE = "cumulative"  # a register that only grows (resets aside): consumption = difference
    RATE = "rate"  # a flow per unit of time
    INSTANTANEOUS = "instantaneous"  # a sample of a physical value
    COUNTER = "counter"  # events counted since the previous frame or since start
    STATE = "state"  # 0/1 flag
    UPLINK = "uplink"  # radio metadata of one uplink, from the envelope


class Domain(StrEnum):
    """The InfluxDB measurement a quantity is stored under."""

    WATER = "water"
    ENERGY = "energy"
    CLIMATE = "climate"
    PARKING = "parking"
    LEVEL = "level"
    DEVICE = "device"
    RADIO = "radio"


@dataclass(frozen=True, slots=True)
class Quantity:
    """One entry of the vocabulary: key, unit, kind and the physically valid range."""

    key: str
    unit: str
    kind: Kind
    domain: Domain
    minimum: float
    maximum: float
    description: str


_K, _D = Kind, Domain

# Ranges are the physically possible envelope of what the devices we support can report, wide enough
# for every installation (a district inflow meter, a pool's water loop) yet narrow enough to catch a
# mis-scaled codec (a factor 10 or 100) or a sentinel value (0x7FFF, 0xFFFF) passed through as data.
VOCABULARY: tuple[Quantity, ...] = (
    Quantity("volume_m3", "m³", _K.CUMULATIVE, _D.WATER, 0, 1e9, "water meter register"),
    Quantity("flow_m3h", "m³/h", _K.RATE, _D.WATER, -1e4, 1e5, "flow, negative when reversed"),
    Quantity("leak", "1", _K.STATE, _D.WATER, 0, 1, "leak probe or meter leak flag"),
    Quantity("pulse_count", "1", _K.CUMULATIVE, _D.DEVICE, 0, 1e13, "raw pulses before weighting"),
    Quantity("energy_kwh", "kWh", _K.CUMULATIVE, _D.ENERGY, 0, 1e10, "energy register"),
    Quantity("power_w", "W", _K.INSTANTANEOUS, _D.ENERGY, -1e8, 1e8, "active power"),
    Quantity("apparent_power_va", "VA", _K.INSTANTANEOUS, _D.ENERGY, 0, 1e8, "apparent power"),
    Quantity("current_a", "A", _K.INSTANTANEOUS, _D.ENERGY, 0, 1e5, "current per phase or clamp"),
    Quantity("voltage_v", "V", _K.INSTANTANEOUS, _D.ENERGY, 0, 1000, "voltage per phase"),
    Quantity("power_factor", "1", _K.INSTANTANEOUS, _D.ENERGY, -1, 1, "power factor"),
    Quantity("temperature_c", "°C", _K.INSTANTANEOUS, _D.CLIMATE, -60, 150, "temperature"),
    Quantity("humidity_pct", "%", _K.INSTANTANEOUS, _D.CLIMATE, 0, 100, "relative humidity"),
    Quantity("co2_ppm", "ppm", _K.INSTANTANEOUS, _D.CLIMATE, 0, 40000, "CO2 concentration"),
    Quantity("tvoc_ppb", "ppb", _K.INSTANTANEOUS, _D.CLIMATE, 0, 100000, "volatile organics"),
    Quantity("pressure_hpa", "hPa", _K.INSTANTANEOUS, _D.CLIMATE, 300, 1100, "air pressure"),
    Quantity("illuminance_lux", "lx", _K.INSTANTANEOUS, _D.CLIMATE, 0, 200000, "illuminance"),
    Quantity("motion_count", "1", _K.COUNTER, _D.CLIMATE, 0, 1e9, "presence detections"),
    Quantity("occupied", "1", _K.STATE, _D.PARKING, 0, 1, "parking space occupied"),
    Quantity("distance_mm", "mm", _K.INSTANTANEOUS, _D.LEVEL, 0, 100000, "sensor to surface"),
    Quantity("water_level_m", "m", _K.INSTANTANEOUS, _D.LEVEL, -500, 10000, "reference − distance"),
    Quantity("battery_v", "V", _K.INSTANTANEOUS, _D.DEVICE, 0, 60, "battery voltage"),
    Quantity("battery_pct", "%", _K.INSTANTANEOUS, _D.DEVICE, 0, 100, "battery level"),
    Quantity("rssi_dbm", "dBm", _K.UPLINK, _D.RADIO, -200, 20, "best gateway RSSI"),
    Quantity("snr_db", "dB", _K.UPLINK, _D.RADIO, -40, 40, "best gateway SNR"),
    Quantity("gateway_count", "1", _K.UPLINK, _D.RADIO, 0, 1000, "gateways that heard the uplink"),
    Quantity("spreading_factor", "1", _K.UPLINK, _D.RADIO, 5, 12, "LoRa spreading factor"),
    Quantity("margin_db", "dB", _K.UPLINK, _D.RADIO, -40, 60, "link margin from DevStatusAns"),
)

QUANTITIES: dict[str, Quantity] = {q.key: q for q in VOCABULARY}


def quantity(key: str) -> Quantity:
    """The vocabulary entry for ``key``; raises KeyError naming the unknown key."""
    try:
        return QUANTITIES[key]
    except KeyError:
        raise KeyError(f"unknown quantity {key!r}") from None
