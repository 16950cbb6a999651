"""Milesight AM103: indoor temperature, humidity and CO2, Milesight channel/type TLV (fPort 85).

A frame is a sequence of items ``channel id (1 B) | channel type (1 B) | data``; the data length
is fixed by the (id, type) pair (there is no length byte), multi-byte values are little-endian
(Milesight SensorDecoders ``am-series/am103/README.md`` and ``AM_Series/AM100_Series``, whose one
decoder and example frame cover the AM103, AM104 and AM107 — so the family's activity, light,
tVOC and pressure items are documented for the AM103 too; AM100 series user guide, "Uplink
Data"). "kept" = no quantity in the vocabulary: the value goes to the frame's kept-values warning:

======= ====== ====== ===================================================================
id      type   bytes  meaning
======= ====== ====== ===================================================================
0x01    0x75   1      battery, u8, %                                  → ``battery_pct``
0x03    0x67   2      temperature, s16, 0.1 °C                        → ``temperature_c``
0x04    0x68   1      relative humidity, u8, 0.5 %                    → ``humidity_pct``
0x05    0x6A   2      PIR activity level, u16 (AM104/AM107)           kept
0x06    0x65   6      illuminance u16 lux → ``illuminance_lux``; visible + infrared u16 and
                      infrared u16, raw (AM104/AM107)                 kept
0x07    0x7D   2      CO2, u16, ppm                                   → ``co2_ppm``
0x08    0x7D   2      tVOC, u16, ppb (AM107)                          → ``tvoc_ppb``
0x09    0x73   2      barometric pressure, u16, 0.1 hPa (AM107)       → ``pressure_hpa``
0x20    0xCE   9      history record: unix timestamp u32 s | temperature s16 0.1 °C |
                      humidity u8 0.5 % | CO2 u16 ppm
0xFF    *      1-8    device information (sent on join): 0x01 protocol (1 B), 0x09 hardware
                      (2 B), 0x0A firmware (2 B), 0x0B power on (1 B), 0x0F class (1 B),
                      0x16 serial number (8 B), 0x18 sensor status (2 B), 0xFE reset event
                      (1 B), 0xFF TSL version (2 B): kept
======= ====== ====== ===================================================================

History records (sent when data retransmission is enabled, after a network outage) are emitted
at their own time (the device's unix clock, taken as UTC), in frame order.

Other 0xFF/0xFE items are answers to configuration downlinks (no measurements): the frame is
not decoded further and a warning says so. Any other unknown (id, type) is ``bad_payload`` —
without a length byte nothing after it can be located; what was decoded before is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import milesight
from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field

PORT = 85  # the factory application port, what encode uses
HISTORY = struct.Struct("<IhBH")  # time, temperature, humidity, CO2


def _co2(data: bytes, out: Emitter) -> None:
    out.add("co2_ppm", struct.unpack_from("<H", data)[0])


def _light(data: bytes, out: Emitter) -> None:
    lux, visible_infrared, infrared = struct.unpack_from("<HHH", data)
    out.add("illuminance_lux", lux)
    out.keep("infrared_and_visible", visible_infrared, "raw")
    out.keep("infrared", infrared, "raw")


def _tvoc(data: bytes, out: Emitter) -> None:
    out.add("tvoc_ppb", struct.unpack_from("<H", data)[0])


def _pressure(data: bytes, out: Emitter) -> None:
    out.add("pressure_hpa", struct.unpack_from("<H", data)[0] / 10)


def _history(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, co2 = HISTORY.unpack_from(data)
    at = milesight.history(when, temperature, humidity, out)
    out.add("co2_ppm", co2, at=at)


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], milesight.Item] = {
    **milesight.AMBIENT,
    (0x05, 0x6A): (2, milesight.kept("activity", note="PIR activity level")),
    (0x06, 0x65): (6, _light),
    (0x07, 0x7D): (2, _co2),
    (0x08, 0x7D): (2, _tvoc),
    (0x09, 0x73): (2, _pressure),
    (0x20, 0xCE): (HISTORY.size, _history),
    **milesight.DEVICE_INFO,
    (0xFF, 0x18): (2, milesight.kept("sensor_status", hexadecimal=True)),
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if out.any_port(f_port) and out.need(payload, 2, "AM103 frame"):
        milesight.walk(payload, out, ITEMS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report: battery, temperature, humidity, CO2 (the vendor's example order)."""
    frame = struct.pack(
        "<BBB BBh BBB BBH",
        0x01, 0x75, round(values.get("battery_pct", 100)),
        0x03, 0x67, round(values["temperature_c"] * 10),
        0x04, 0x68, round(values["humidity_pct"] * 2),
        0x07, 0x7D, round(values["co2_ppm"]),
    )  # fmt: skip
    return PORT, frame


CODEC = Codec(
    id="milesight-iot/am103",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_pct", 0, 100, 1),
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 0.5),
        Field("co2_ppm", 400, 5000, 1),
    ),
    summary="Indoor temperature, humidity and CO2 with battery level",
)
