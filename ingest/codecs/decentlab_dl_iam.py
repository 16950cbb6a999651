"""Decentlab DL-IAM: indoor ambiance monitor (CO2, TVOC, motion), Decentlab format (any fPort).

Big-endian throughout (Decentlab decoders ``DL-IAM/DL-IAM.py``/``.js`` of
``decentlab/decentlab-decoders``, same in the TTN device repository ``vendor/decentlab/dl-iam.js``):

====== ==============================================================================
bytes  meaning
====== ==============================================================================
0      protocol version, must be 2
1-2    device id, u16 (kept)
3-4    flags, u16: bit i set = sensor group i follows, groups in bit order
5-     the selected groups, each a run of u16 words x[0], x[1], …
====== ==============================================================================

====== ====== ===================================================================================
group  words  conversion
====== ====== ===================================================================================
0      1      battery voltage = x0 / 1000 V                                  → ``battery_v``
1      2      air temperature = 175 · x0 / 65535 − 45 °C                     → ``temperature_c``
              air humidity = 100 · x1 / 65535 %                              → ``humidity_pct``
2      1      barometric pressure = 2 · x0 Pa (÷ 100 → hPa)                  → ``pressure_hpa``
3      2      ambient light, x0 = visible + infrared, x1 = infrared (raw counts);
              illuminance = max(x0 − 1.64 · x1, 0.59 · x0 − 0.86 · x1, 0) · 1.5504 lx
                                                                             → ``illuminance_lux``
4      3      CO2 = x0 − 32768 ppm                                           → ``co2_ppm``
              x1 CO2 sensor status (0 = ok; otherwise a warning), x2 raw IR reading (kept)
5      1      activity counter = x0, PIR detections in the measurement interval → ``motion_count``
6      1      total VOC = x0 ppb                                             → ``tvoc_ppb``
====== ====== ===================================================================================

The device id, the raw light counts and the raw IR reading have no quantity: they are kept in
the frame's kept-values warning. A version other than 2 is ``bad_payload``; flag bits above
group 6 name groups the DL-IAM does not document: the known groups (which come first) are kept
and the frame is ``bad_payload`` naming the unknown bits. A frame shorter than its flags announce
is ``truncated``; the groups before the cut are kept. The vendor's decoders ignore the fPort
(the examples use 1): any application fPort is accepted.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import datetime

from ingest.codecs.base import ANY_PORT, Codec, CodecErrorCode, Emitter, Field

PORT = 1  # the vendor examples' port, what encode uses
PROTOCOL_VERSION = 2
HEADER = 5
CO2_OFFSET = 32768
LUX_FACTOR = 1.5504
DEVICE_ID = 0x0BBD  # encode: the device id of the vendor's example frames
RAW_IR = 0x93D4  # encode: the raw IR reading of the vendor's example frame

Group = Callable[[tuple[int, ...], Emitter], None]


def _battery(x: tuple[int, ...], out: Emitter) -> None:
    out.add("battery_v", x[0] / 1000)


def _air(x: tuple[int, ...], out: Emitter) -> None:
    out.add("temperature_c", 175 * x[0] / 65535 - 45)
    out.add("humidity_pct", 100 * x[1] / 65535)


def _pressure(x: tuple[int, ...], out: Emitter) -> None:
    out.add("pressure_hpa", x[0] * 2 / 100)


def _light(x: tuple[int, ...], out: Emitter) -> None:
    lux = max(max(1.0 * x[0] - 1.64 * x[1], 0.59 * x[0] - 0.86 * x[1]), 0) * LUX_FACTOR
    out.add("illuminance_lux", lux)
    out.keep("light", f"{x[0]}/{x[1]}", "raw visible+infrared/infrared counts")


def _co2(x: tuple[int, ...], out: Emitter) -> None:
    out.add("co2_ppm", x[0] - CO2_OFFSET)
    out.keep("co2_raw_ir", x[2], "raw IR reading")
    if x[1]:
        out.warn(f"CO2 sensor status {x[1]:#06x} (not 0)")


def _activity(x: tuple[int, ...], out: Emitter) -> None:
    out.add("motion_count", x[0])


def _tvoc(x: tuple[int, ...], out: Emitter) -> None:
    out.add("tvoc_ppb", x[0])


# in flag-bit order: (number of 16-bit words, conversion)
GROUPS: tuple[tuple[int, Group], ...] = (
    (1, _battery),
    (2, _air),
    (1, _pressure),
    (2, _light),
    (3, _co2),
    (1, _activity),
    (1, _tvoc),
)
ALL_GROUPS = (1 << len(GROUPS)) - 1


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port) or not out.need(payload, HEADER, "DL-IAM header"):
        return
    version, device_id, flags = struct.unpack_from(">BHH", payload)
    if version != PROTOCOL_VERSION:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"protocol version {version}, expected 2")
        return
    out.keep("device_id", device_id)
    pos = HEADER
    for bit, (words, convert) in enumerate(GROUPS):
        if not flags >> bit & 1:
            continue
        if not out.need(payload[pos:], 2 * words, f"sensor group {bit}"):
            return
        convert(struct.unpack_from(f">{words}H", payload, pos), out)
        pos += 2 * words
    if flags & ~ALL_GROUPS:
        out.unknown(f"sensor groups (flags {flags & ~ALL_GROUPS:#06x})", pos)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A frame with every sensor group (flags 0x007F), as the device sends by default."""
    frame = struct.pack(
        ">BHH" + "H" * 11,
        PROTOCOL_VERSION, DEVICE_ID, ALL_GROUPS,
        round(values["battery_v"] * 1000),
        round((values["temperature_c"] + 45) * 65535 / 175),
        round(values["humidity_pct"] * 65535 / 100),
        round(values["pressure_hpa"] * 100 / 2),
        round(values["illuminance_lux"] / LUX_FACTOR), 0,
        round(values["co2_ppm"]) + CO2_OFFSET, 0, RAW_IR,
        round(values["motion_count"]),
        round(values["tvoc_ppb"]),
    )  # fmt: skip
    return PORT, frame


CODEC = Codec(
    id="decentlab/dl-iam",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.001),
        Field("temperature_c", -20, 60, 0.01),
        Field("humidity_pct", 0, 100, 0.01),
        Field("pressure_hpa", 300, 1100, 0.02),
        Field("illuminance_lux", 0, 100000, LUX_FACTOR),
        Field("co2_ppm", 0, 10000, 1),
        Field("motion_count", 0, 65535, 1),
        Field("tvoc_ppb", 0, 60000, 1),
    ),
    summary="Indoor temperature, humidity, pressure, light, CO2, activity count and total VOC",
)
