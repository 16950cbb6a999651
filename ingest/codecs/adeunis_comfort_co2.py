"""Adeunis COMFORT CO2: indoor temperature, humidity and CO2 with device-side history (any fPort).

Every uplink starts with a frame code and a status byte, values are big-endian (Adeunis
COMFORT CO2 technical reference manual, APP 2.3.x, and Adeunis' codec ``comfort_co2_lib.js`` in
the TTN device repository ``vendor/adeunis``):

====== ===================================================================================
byte   meaning
====== ===================================================================================
0      frame code (below)
1      status: bits 7-5 frame counter, bit 3 configuration inconsistency, bit 2 a timestamp
       closes the frame, bit 1 low battery, bit 0 configuration done
====== ===================================================================================

Frame 0x6A, periodic data: from byte 2, N samples of 5 bytes, **newest first** (t=0, t-1, …),
then, when status bit 2 is set, a 4-byte timestamp (u32 s since 2013-01-01 00:00 UTC):

====== ===================================================================================
bytes  sample
====== ===================================================================================
0-1    temperature, s16, 0.1 °C                                        → ``temperature_c``
2      relative humidity, u8, %                                        → ``humidity_pct``
3-4    CO2, u16, ppm                                                   → ``co2_ppm``
====== ===================================================================================

Sample k is dated ``t0 - k × period``; t0 is the frame's timestamp when present, else the
receive time. The period is not in the frame: it is the sampling period (register 321, × 2 s)
times the history period (register 320), read from ``out.params["history_period_s"]``, default
600 s (factory 300 × 2 s × 1). A sample area that is not a whole number of samples is
``truncated``.

Frame 0x6B, alarm: byte 2 alarm status (bit 4 temperature, bit 0 humidity, bit 5 CO2), bytes
3-4 temperature s16 0.1 °C, byte 5 humidity u8 %, bytes 6-7 CO2 s16 ppm (as Adeunis' codec
reads it), then the optional timestamp: the three values are emitted at t0.

Frames without readings, kept as hex in the frame's kept-values warning (no error): 0x30 daily
frame (24 h min/max/mean aggregates and the air-quality icon — not instantaneous values), 0x10
product configuration, 0x1F digital input configuration, 0x20 network configuration, 0x33
register-set answer, 0x37 software version, 0x51/0x52 digital input alarms (input state and
event counters, no quantity). Any other frame code is ``bad_payload``; the fPort is not checked
(any application port, see ``adeunis``).
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime, timedelta

from ingest.codecs import adeunis
from ingest.codecs.base import ANY_PORT, Codec, CodecErrorCode, Emitter, Field

PORT = 1  # the factory port, what encode uses
DATA = 0x6A
ALARM = 0x6B
DAILY = 0x30
NO_READINGS = frozenset({0x10, 0x1F, 0x20, 0x30, 0x33, 0x37, 0x51, 0x52})
SAMPLE = 5
ALARM_SIZE = 8
DEFAULT_PERIOD_S = 600.0  # sampling period 300 × 2 s, one history record per sample


def _data(payload: bytes, out: Emitter) -> None:
    stamp = adeunis.timestamp_size(payload[1])
    if not out.need(payload, adeunis.HEADER_SIZE + SAMPLE + stamp, "0x6A data frame"):
        return
    t0 = adeunis.closing_time(payload, out)
    samples = payload[adeunis.HEADER_SIZE : len(payload) - stamp]
    if len(samples) % SAMPLE:
        out.fail(
            CodecErrorCode.TRUNCATED,
            f"0x6A samples are {SAMPLE} bytes each, got {len(samples)} bytes",
        )
        return
    period = timedelta(seconds=out.params.get("history_period_s", DEFAULT_PERIOD_S))
    for k in range(len(samples) // SAMPLE):
        temp, hum, co2 = struct.unpack_from(">hBH", samples, k * SAMPLE)
        at = t0 - k * period
        out.add("temperature_c", temp / 10, at=at)
        out.add("humidity_pct", hum, at=at)
        out.add("co2_ppm", co2, at=at)


def _alarm(payload: bytes, out: Emitter) -> None:
    if not out.need(payload, ALARM_SIZE + adeunis.timestamp_size(payload[1]), "0x6B alarm frame"):
        return
    t0 = adeunis.closing_time(payload, out)
    temp, hum, co2 = struct.unpack_from(">hBh", payload, 3)
    out.add("temperature_c", temp / 10, at=t0)
    out.add("humidity_pct", hum, at=t0)
    out.add("co2_ppm", co2, at=t0)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port):
        return
    if not out.need(payload, adeunis.HEADER_SIZE, "COMFORT CO2 frame header"):
        return
    code = payload[0]
    if code == DATA:
        _data(payload, out)
    elif code == ALARM:
        _alarm(payload, out)
    elif code in NO_READINGS:
        adeunis.keep_frame(payload, out, "daily aggregates" if code == DAILY else "")
    else:
        out.unknown(f"frame code {code:#04x}", 0)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A 0x6A frame with one sample (transmit period register 301 = 1), no timestamp."""
    frame = struct.pack(
        ">BBhBH",
        DATA,
        0x00,
        round(values["temperature_c"] * 10),
        round(values["humidity_pct"]),
        round(values["co2_ppm"]),
    )
    return PORT, frame


CODEC = Codec(
    id="adeunis/comfort-co2",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 1),
        Field("co2_ppm", 0, 5000, 1),
    ),
    summary="Indoor temperature, humidity and CO2; periodic frames carry several past samples",
)
