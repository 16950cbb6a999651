"""Elsys ERS CO2: indoor temperature, humidity, light, motion, CO2; Elsys generic format (fPort 5).

A frame is a sequence of ``type (1 B) | value`` items; the value size is fixed by the type and
multi-byte values are big-endian (Elsys payload specification, as implemented by Elsys' decoder
``elsys.js`` in the TTN device repository ``vendor/elsys``). The ERS CO2 sends types 0x01, 0x02,
0x04, 0x05, 0x06 and 0x07; the other types of the common format are decoded (or skipped) too:

====== ===== ===================================================================================
type   bytes meaning
====== ===== ===================================================================================
0x01   2     temperature, s16, 0.1 °C                                   → ``temperature_c``
0x02   1     relative humidity, u8, %                                   → ``humidity_pct``
0x03   3     acceleration X, Y, Z, s8 each (±63 = 1 g)                 skipped
0x04   2     light, u16, lux                                            → ``illuminance_lux``
0x05   1     PIR motion count since the previous frame, u8              → ``motion_count``
0x06   2     CO2, u16, ppm                                              → ``co2_ppm``
0x07   2     supply voltage VDD, u16, mV                                → ``battery_v``
0x08   2     analog input 1, u16, mV                                    skipped
0x09   6     GPS latitude, longitude, 3 B each                          skipped
0x0A   2     pulse input 1, relative count, u16                         skipped (1)
0x0B   4     pulse input 1, absolute count, u32                         skipped (1)
0x0C   2     external temperature, s16, 0.1 °C                          → ``temperature_c:ext``
0x0D   1     external digital input, 0/1                                skipped
0x0E   2     external distance, u16, mm                                 → ``distance_mm``
0x0F   1     accelerometer motion count, u8                             skipped (2)
0x10   4     IR temperature internal + external, s16 0.1 °C each        skipped
0x11   1     occupancy (0 free, 1 pending, 2 occupied)                  skipped (3)
0x12   1     water leak, u8 0-255                                       skipped (3)
0x13   65    Grid-EYE: reference + 64 pixels                            skipped
0x14   4     pressure, u32, 0.001 hPa                                   → ``pressure_hpa``
0x15   2     sound peak, average, dB                                    skipped
0x16   2     pulse input 2, relative count, u16                         skipped (1)
0x17   4     pulse input 2, absolute count, u32                         skipped (1)
0x18   2     analog input 2, u16, mV                                    skipped
0x19   2     external temperature 2, s16, 0.1 °C                        skipped
0x1A   1     external digital input 2                                   skipped
0x1B   4     external analog, s32, µV                                   skipped
0x1C   2     total VOC, u16, ppb                                        → ``tvoc_ppb``
0x3D   4     debug information                                          skipped
====== ===== ===================================================================================

(1) Raw pulses of an external meter are not ERS CO2 data (an ELT product wires them). (2) A
vibration count is not presence. (3) No quantity for a 3-state occupancy or a leak level 0-255.
An unknown type is ``bad_payload``: its size is unknown, so nothing after it can be located;
what was decoded before is kept. The port is configurable on the device (NFC setting ``Port``);
Elsys' factory port 5 is the one accepted here.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 5

Handler = Callable[[bytes, Emitter], None]


def _s16(data: bytes) -> int:
    return int(struct.unpack_from(">h", data)[0])


def _u16(data: bytes) -> int:
    return int(struct.unpack_from(">H", data)[0])


def _skip(data: bytes, out: Emitter) -> None:
    """A documented type with no quantity in the vocabulary (see the module docstring)."""


# type → (value size, handler)
TYPES: dict[int, tuple[int, Handler]] = {
    0x01: (2, lambda d, out: out.add("temperature_c", _s16(d) / 10)),
    0x02: (1, lambda d, out: out.add("humidity_pct", d[0])),
    0x03: (3, _skip),
    0x04: (2, lambda d, out: out.add("illuminance_lux", _u16(d))),
    0x05: (1, lambda d, out: out.add("motion_count", d[0])),
    0x06: (2, lambda d, out: out.add("co2_ppm", _u16(d))),
    0x07: (2, lambda d, out: out.add("battery_v", _u16(d) / 1000)),
    0x08: (2, _skip),
    0x09: (6, _skip),
    0x0A: (2, _skip),
    0x0B: (4, _skip),
    0x0C: (2, lambda d, out: out.add("temperature_c", _s16(d) / 10, channel="ext")),
    0x0D: (1, _skip),
    0x0E: (2, lambda d, out: out.add("distance_mm", _u16(d))),
    0x0F: (1, _skip),
    0x10: (4, _skip),
    0x11: (1, _skip),
    0x12: (1, _skip),
    0x13: (65, _skip),
    0x14: (4, lambda d, out: out.add("pressure_hpa", struct.unpack_from(">I", d)[0] / 1000)),
    0x15: (2, _skip),
    0x16: (2, _skip),
    0x17: (4, _skip),
    0x18: (2, _skip),
    0x19: (2, _skip),
    0x1A: (1, _skip),
    0x1B: (4, _skip),
    0x1C: (2, lambda d, out: out.add("tvoc_ppb", _u16(d))),
    0x3D: (4, _skip),
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if not out.need(payload, 2, "Elsys frame"):
        return
    pos = 0
    while pos < len(payload):
        kind = payload[pos]
        entry = TYPES.get(kind)
        if entry is None:
            out.fail(CodecErrorCode.BAD_PAYLOAD, f"unknown type {kind:#04x} at byte {pos}")
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
    ports=(PORT,),
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
