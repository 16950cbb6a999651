"""Elsys ERS CO2: indoor temperature, humidity, light, motion, CO2 in the Elsys generic format.

A frame is a sequence of ``type (1 B) | value`` items; the value size is fixed by the type and
multi-byte values are big-endian (Elsys payload specification, as implemented by Elsys' decoder
``elsys.js`` in the TTN device repository ``vendor/elsys``). The ERS CO2 sends types 0x01, 0x02,
0x04, 0x05, 0x06 and 0x07; the other types of the common format are decoded too, or "kept" (no
quantity in the vocabulary: the value goes to the frame's kept-values warning):

====== ===== ===================================================================================
type   bytes meaning
====== ===== ===================================================================================
0x01   2     temperature, s16, 0.1 °C                                   → ``temperature_c``
0x02   1     relative humidity, u8, %                                   → ``humidity_pct``
0x03   3     acceleration X, Y, Z, s8 each (±63 = 1 g)                 kept
0x04   2     light, u16, lux                                            → ``illuminance_lux``
0x05   1     PIR motion count since the previous frame, u8              → ``motion_count``
0x06   2     CO2, u16, ppm                                              → ``co2_ppm``
0x07   2     supply voltage VDD, u16, mV                                → ``battery_v``
0x08   2     analog input 1, u16, mV                                    kept
0x09   6     GPS latitude, longitude, 3 B each                          kept
0x0A   2     pulse input 1, count since the previous frame, u16         kept (1)
0x0B   4     pulse input 1, absolute count, u32                         → ``pulse_count:1``
0x0C   2     external temperature, s16, 0.1 °C                          → ``temperature_c:ext``
0x0D   1     external digital input, 0/1                                kept
0x0E   2     external distance, u16, mm                                 → ``distance_mm``
0x0F   1     accelerometer motion count, u8                             kept (2)
0x10   4     IR temperature internal + external, s16 0.1 °C each        kept (3)
0x11   1     occupancy (0 free, 1 pending, 2 occupied)                  kept (4)
0x12   1     water leak, u8 0-255                                       kept (4)
0x13   65    Grid-EYE: reference + 64 pixels                            kept (hex)
0x14   4     pressure, u32, 0.001 hPa                                   → ``pressure_hpa``
0x15   2     sound peak, average, dB                                    kept
0x16   2     pulse input 2, count since the previous frame, u16         kept (1)
0x17   4     pulse input 2, absolute count, u32                         → ``pulse_count:2``
0x18   2     analog input 2, u16, mV                                    kept
0x19   2     external temperature 2, s16, 0.1 °C                        → ``temperature_c:ext2``
0x1A   1     external digital input 2                                   kept
0x1B   4     external analog, s32, µV                                   kept
0x1C   2     total VOC, u16, ppb                                        → ``tvoc_ppb``
0x3D   4     debug information                                          kept (hex)
====== ===== ===================================================================================

(1) The absolute counts are the register; a count since the previous frame is kept, not summed.
(2) A vibration count is not presence. (3) A surface (IR) temperature is not the air
temperature. (4) No quantity for a 3-state occupancy or a leak level 0-255. An unknown type is
``bad_payload`` naming its byte: its size is unknown, so nothing after it can be located; what
was decoded before is kept. The port is configurable on the device (NFC setting ``Port``; the
factory value is 5, the vendor's example uses 1) and Elsys' decoder ignores it: any application
fPort is accepted.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import datetime

from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field

PORT = 5  # Elsys' factory port, what encode uses

Handler = Callable[[bytes, Emitter], None]


def _s16(data: bytes) -> int:
    return int(struct.unpack_from(">h", data)[0])


def _u16(data: bytes) -> int:
    return int(struct.unpack_from(">H", data)[0])


def _u32(data: bytes) -> int:
    return int(struct.unpack_from(">I", data)[0])


def _kept(name: str, note: str = "", signed: bool = False, hexadecimal: bool = False) -> Handler:
    """A documented type with no quantity in the vocabulary: big-endian value (or hex) kept."""

    def handler(data: bytes, out: Emitter) -> None:
        value: object = data.hex()
        if len(data) in (1, 2, 4) and not hexadecimal:
            value = int.from_bytes(data, "big", signed=signed)
        out.keep(name, value, note)

    return handler


def _acceleration(data: bytes, out: Emitter) -> None:
    x, y, z = struct.unpack(">bbb", data)
    out.keep("acceleration", f"{x}/{y}/{z}", "x/y/z, 63 = 1 g")


def _ir_temperature(data: bytes, out: Emitter) -> None:
    internal, external = struct.unpack(">hh", data)
    out.keep("ir_temperature", f"{internal / 10:g}/{external / 10:g}", "internal/external °C")


def _sound(data: bytes, out: Emitter) -> None:
    out.keep("sound", f"{data[0]}/{data[1]}", "peak/average dB")


# type → (value size, handler)
TYPES: dict[int, tuple[int, Handler]] = {
    0x01: (2, lambda d, out: out.add("temperature_c", _s16(d) / 10)),
    0x02: (1, lambda d, out: out.add("humidity_pct", d[0])),
    0x03: (3, _acceleration),
    0x04: (2, lambda d, out: out.add("illuminance_lux", _u16(d))),
    0x05: (1, lambda d, out: out.add("motion_count", d[0])),
    0x06: (2, lambda d, out: out.add("co2_ppm", _u16(d))),
    0x07: (2, lambda d, out: out.add("battery_v", _u16(d) / 1000)),
    0x08: (2, _kept("analog1", "mV")),
    0x09: (6, _kept("gps", hexadecimal=True)),
    0x0A: (2, _kept("pulse1", "count since the previous frame")),
    0x0B: (4, lambda d, out: out.add("pulse_count", _u32(d), channel="1")),
    0x0C: (2, lambda d, out: out.add("temperature_c", _s16(d) / 10, channel="ext")),
    0x0D: (1, _kept("digital1")),
    0x0E: (2, lambda d, out: out.add("distance_mm", _u16(d))),
    0x0F: (1, _kept("acc_motion", "vibration count")),
    0x10: (4, _ir_temperature),
    0x11: (1, _kept("occupancy", "0 free, 1 pending, 2 occupied")),
    0x12: (1, _kept("waterleak", "0-255")),
    0x13: (65, _kept("grideye", hexadecimal=True)),
    0x14: (4, lambda d, out: out.add("pressure_hpa", _u32(d) / 1000)),
    0x15: (2, _sound),
    0x16: (2, _kept("pulse2", "count since the previous frame")),
    0x17: (4, lambda d, out: out.add("pulse_count", _u32(d), channel="2")),
    0x18: (2, _kept("analog2", "mV")),
    0x19: (2, lambda d, out: out.add("temperature_c", _s16(d) / 10, channel="ext2")),
    0x1A: (1, _kept("digital2")),
    0x1B: (4, _kept("analog_uv", "µV", signed=True)),
    0x1C: (2, lambda d, out: out.add("tvoc_ppb", _u16(d))),
    0x3D: (4, _kept("debug", hexadecimal=True)),
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port) or not out.need(payload, 2, "Elsys frame"):
        return
    pos = 0
    while pos < len(payload):
        kind = payload[pos]
        entry = TYPES.get(kind)
        if entry is None:
            out.unknown(f"type {kind:#04x}", pos)
            return
        size, handler = entry
        data = payload[pos + 1 : pos + 1 + size]
        if not out.need(data, size, f"type {kind:#04x} at byte {pos}"):
            return
        handler(data, out)
        pos += 1 + size


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """The ERS CO2 periodic frame: temperature, humidity, light, motion, CO2, VDD."""
    frame = struct.pack(
        ">BhBBBHBBBHBH",
        0x01, round(values["temperature_c"] * 10),
        0x02, round(values["humidity_pct"]),
        0x04, round(values["illuminance_lux"]),
        0x05, round(values["motion_count"]),
        0x06, round(values["co2_ppm"]),
        0x07, round(values.get("battery_v", 3.6) * 1000),
    )  # fmt: skip
    return PORT, frame


CODEC = Codec(
    id="elsys/ers-co2",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 1),
        Field("illuminance_lux", 0, 65535, 1),
        Field("motion_count", 0, 255, 1),
        Field("co2_ppm", 0, 10000, 1),
        Field("battery_v", 2.5, 3.7, 0.001),
    ),
    summary="Indoor temperature, humidity, light, motion count, CO2 and supply voltage",
)
