"""Dragino LHT65: indoor temperature and humidity, optional external probe (fPort 2).

Frame, 11 bytes, big-endian (LHT65 user manual, "Uplink payload"):

====== ===== =========================================================================
bytes  field meaning
====== ===== =========================================================================
0-1    BAT   bits 15-14 battery status, bits 13-0 battery voltage in mV
2-3    TEMP  built-in SHT20 temperature, s16, 0.01 °C
4-5    HUM   built-in SHT20 relative humidity, u16, 0.1 %
6      EXT   external sensor type, bit 7 set = probe not connected; 0x01 = E1 temperature
7-8    EXTV  for E1: probe temperature, s16, 0.01 °C; 0x7FFF = no reading (not 327.67 °C)
9-10   —     reserved (0x7FFF)
====== ===== =========================================================================
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 2
SIZE = 11
NO_READING = 0x7FFF
EXT_TEMPERATURE = 0x01


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if not out.need(payload, SIZE, "LHT65 frame"):
        return
    bat, temp, hum, ext = struct.unpack_from(">HhHB", payload)
    out.add("battery_v", (bat & 0x3FFF) / 1000)
    out.add("temperature_c", temp / 100)
    out.add("humidity_pct", hum / 10)
    (ext_value,) = struct.unpack_from(">h", payload, 7)
    if ext & 0x7F == EXT_TEMPERATURE:
        if ext & 0x80:
            out.warn("external probe not connected")
        elif ext_value & 0xFFFF == NO_READING:
            out.warn("external probe gave no reading (0x7FFF)")
        else:
            out.add("temperature_c", ext_value / 100, channel="ext")
    elif ext & 0x7F:
        out.fail(
            CodecErrorCode.BAD_PAYLOAD, f"external sensor type {ext & 0x7F:#04x} not supported"
        )


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    bat = round(values.get("battery_v", 3.0) * 1000) & 0x3FFF
    temp = round(values["temperature_c"] * 100)
    hum = round(values["humidity_pct"] * 10)
    if "temperature_c:ext" in values:
        ext, ext_value = EXT_TEMPERATURE, round(values["temperature_c:ext"] * 100) & 0xFFFF
    else:
        ext, ext_value = 0x00, NO_READING
    return PORT, struct.pack(">HhHBHH", bat, temp, hum, ext, ext_value, NO_READING)


CODEC = Codec(
    id="dragino/lht65",
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.001),
        Field("temperature_c", -40, 80, 0.01),
        Field("humidity_pct", 0, 100, 0.1),
        Field("temperature_c:ext", -55, 125, 0.01),
    ),
    summary="Indoor temperature/humidity, optional external temperature probe",
)
