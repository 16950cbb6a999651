"""Cayenne LPP (myDevices Low Power Payload): a generic format any device may send, any fPort.

Sources: the myDevices Cayenne documentation, "Cayenne Low Power Payload" (payload structure,
data-type table, examples), and the extended type table of the TTN-maintained Arduino library
(ElectronicCats/CayenneLPP ``src/CayenneLPP.h``: 0x74 voltage … 0x8E switch, 0x7D
concentration in ppm). The payload is a sequence of items: data channel (1 byte), data type
(1 byte), value (size by type, big-endian). Readings take the LPP channel number as channel
(``"3"``).

===== ==================== ===== ========================= ==============================
type  name                 bytes resolution                stored as
===== ==================== ===== ========================= ==============================
0x65  illuminance          2     1 lx, unsigned            ``illuminance_lux``
0x67  temperature          2     0.1 °C, signed            ``temperature_c``
0x68  relative humidity    1     0.5 %, unsigned           ``humidity_pct``
0x73  barometer            2     0.1 hPa, unsigned         ``pressure_hpa``
0x74  voltage              2     0.01 V, unsigned          ``battery_v`` (no channel), only
                                                           for the LPP channel named by
                                                           ``params["battery_channel"]``
0x75  current              2     0.001 A, unsigned         ``current_a``
0x7D  concentration        2     1 ppm, unsigned           ``co2_ppm``
0x80  power                2     1 W, unsigned             ``power_w``
0x82  distance             4     0.001 m, unsigned         ``distance_mm``
0x83  energy               4     0.001 kWh, unsigned       ``energy_kwh``
===== ==================== ===== ========================= ==============================

Types with no quantity in the vocabulary are kept — channel, type and raw value in the frame's
kept-values warning — and their bytes stepped over:
0x00 digital input (1), 0x01 digital output (1), 0x02 analog input (2, 0.01 signed), 0x03 analog
output (2), 0x64 generic sensor (4), 0x66 presence (1), 0x71 accelerometer (6), 0x76 frequency
(4), 0x78 percentage (1), 0x79 altitude (2), 0x84 direction (2), 0x85 unix time (4), 0x86
gyrometer (6), 0x87 colour (3), 0x88 GPS (9: lat, lon 0.0001°, alt 0.01 m, signed 24-bit), 0x8E
switch (1). A voltage is kept the same way (in V) unless the registry names its channel as the
battery: a generic voltage may be anything. An unknown type has an unknown size, so the rest of
the payload cannot be read: ``bad_payload`` naming its byte, keeping the items before it. Any
application fPort (1-223) is accepted: LPP does not depend on the port.

``encode`` (fPort 1) writes one item per value key ``quantity:channel`` of the stored types
(``battery_v`` is decoded only: its LPP channel is a registry setting).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field, split_key

PORT = 1  # what encode uses; decode accepts any application fPort
VOLTAGE = 0x74


@dataclass(frozen=True, slots=True)
class LppType:
    name: str
    size: int
    quantity: str | None = None  # None: no quantity, kept in a warning
    divisor: int = 1
    signed: bool = False


TYPES: dict[int, LppType] = {
    0x00: LppType("digital input", 1),
    0x01: LppType("digital output", 1),
    0x02: LppType("analog input", 2, signed=True),
    0x03: LppType("analog output", 2, signed=True),
    0x64: LppType("generic sensor", 4),
    0x65: LppType("illuminance", 2, "illuminance_lux"),
    0x66: LppType("presence", 1),
    0x67: LppType("temperature", 2, "temperature_c", 10, signed=True),
    0x68: LppType("relative humidity", 1, "humidity_pct", 2),
    0x71: LppType("accelerometer", 6),
    0x73: LppType("barometer", 2, "pressure_hpa", 10),
    VOLTAGE: LppType("voltage", 2, "battery_v", 100),
    0x75: LppType("current", 2, "current_a", 1000),
    0x76: LppType("frequency", 4),
    0x78: LppType("percentage", 1),
    0x79: LppType("altitude", 2),
    0x7D: LppType("concentration", 2, "co2_ppm"),
    0x80: LppType("power", 2, "power_w"),
    0x82: LppType("distance", 4, "distance_mm"),  # 0.001 m = 1 mm
    0x83: LppType("energy", 4, "energy_kwh", 1000),
    0x84: LppType("direction", 2),
    0x85: LppType("unix time", 4),
    0x86: LppType("gyrometer", 6),
    0x87: LppType("colour", 3),
    0x88: LppType("GPS location", 9),
    0x8E: LppType("switch", 1),
}
BY_QUANTITY = {t.quantity: (code, t) for code, t in TYPES.items() if t.quantity and code != VOLTAGE}


def _item(channel: int, code: int, data: bytes, out: Emitter) -> None:
    kind = TYPES[code]
    if kind.quantity is None:
        value = data.hex() if kind.size > 4 else int.from_bytes(data, "big", signed=kind.signed)
        out.keep(f"channel {channel} {kind.name}", value, "raw")
        return
    raw = int.from_bytes(data, "big", signed=kind.signed)
    if code != VOLTAGE:
        out.add(kind.quantity, raw / kind.divisor, str(channel))
    elif out.params.get("battery_channel") == channel:
        out.add(kind.quantity, raw / kind.divisor)
    else:
        out.keep(f"channel {channel} voltage", raw / kind.divisor, "V, not known to be the battery")


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port) or not out.need(payload, 2, "LPP item"):
        return
    i = 0
    while i < len(payload):
        if not out.need(payload[i:], 2, f"LPP item header at byte {i}"):
            return
        channel, code = payload[i], payload[i + 1]
        kind = TYPES.get(code)
        if kind is None:
            out.unknown(f"LPP type {code:#04x} on channel {channel}", i + 1)
            return
        start = i + 2
        if not out.need(payload[start:], kind.size, f"channel {channel} {kind.name}"):
            return
        _item(channel, code, payload[start : start + kind.size], out)
        i = start + kind.size


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    frame = bytearray()
    for key, value in values.items():
        quantity, channel = split_key(key)
        if quantity not in BY_QUANTITY or channel is None or "@" in key:
            raise ValueError(f"Cayenne LPP cannot encode {key!r}")
        code, kind = BY_QUANTITY[quantity]
        raw = round(value * kind.divisor)
        frame += bytes((int(channel), code)) + raw.to_bytes(kind.size, "big", signed=kind.signed)
    return PORT, bytes(frame)


CODEC = Codec(
    id="cayenne/lpp",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("temperature_c:1", -40, 85, 0.1),
        Field("humidity_pct:2", 0, 100, 0.5),
        Field("pressure_hpa:3", 300, 1100, 0.1),
        Field("illuminance_lux:4", 0, 65535, 1),
        Field("co2_ppm:5", 0, 10000, 1),
    ),
    summary="Generic Cayenne LPP: temperature, humidity, pressure, light, CO2, electrical items",
)
