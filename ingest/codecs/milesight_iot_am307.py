"""Milesight AM307: 7-in-1 indoor ambience sensor, Milesight channel/type TLV frames (fPort 85).

A frame is a sequence of items ``channel id (1 B) | channel type (1 B) | data``; the data length
is fixed by the (id, type) pair (there is no length byte), multi-byte values are little-endian
(Milesight SensorDecoders ``am-series/am307/README.md``, ``AM_Series/AM300`` and
``AM_Series/AM300_v2``, whose one decoder and example frame cover the AM307, AM308 and AM319 —
so the family's HCHO, PM and O3 items are documented for the AM307 too). "kept" = no quantity in
the vocabulary: the value goes to the frame's kept-values warning (``Emitter.keep``):

======= ====== ====== ===================================================================
id      type   bytes  meaning
======= ====== ====== ===================================================================
0x01    0x75   1      battery, u8, %                                  → ``battery_pct``
0x03    0x67   2      temperature, s16, 0.1 °C                        → ``temperature_c``
0x04    0x68   1      relative humidity, u8, 0.5 %                    → ``humidity_pct``
0x05    0x00   1      PIR state, 0 idle / 1 trigger                   kept (1)
0x06    0xCB   1      light level 0-5 (not lux)                       kept (2)
0x07    0x7D   2      CO2, u16, ppm                                   → ``co2_ppm``
0x08    0x7D   2      tVOC IAQ index, u16 / 100                       kept (3)
0x08    0xE6   2      tVOC, u16, µg/m³                                kept (3)
0x09    0x73   2      barometric pressure, u16, 0.1 hPa               → ``pressure_hpa``
0x0A    0x7D   2      HCHO, u16 / 100, mg/m³ (AM319)                  kept
0x0B    0x7D   2      PM2.5, u16, µg/m³ (AM308/AM319)                 kept
0x0C    0x7D   2      PM10, u16, µg/m³ (AM308/AM319)                  kept
0x0D    0x7D   2      O3, u16 / 100, ppm (AM319)                      kept
0x0E    0x01   1      buzzer state                                    kept
0x20    0xCE   16     history record, tVOC as IAQ index (4)
0x21    0xCE   16     history record, tVOC in µg/m³ (4)
0xFF    *      1-8    device information: 0x01 protocol (1 B), 0x09 hardware (2 B),
                      0x0A firmware (2 B), 0x0B power on (1 B), 0x0F class (1 B),
                      0x16 serial number (8 B), 0xFE reset event (1 B), 0xFF TSL (2 B)
======= ====== ====== ===================================================================

(4) History record (16 B): unix timestamp u32 s | temperature s16 0.1 °C | humidity u16 0.5 % |
PIR u8 | light level u8 | CO2 u16 ppm | tVOC u16 | pressure u16 0.1 hPa. Its temperature,
humidity, CO2 and pressure are emitted at the record's own time (taken as UTC), in frame order;
its PIR, light level and tVOC are kept with the record's time.

(1) The AM307 reports PIR as a 0/1 state at report time, not a count of detections, so it does
not map to ``motion_count``. (2) The light sensor reports a level (0-5), not an illuminance in
lux. (3) Depending on firmware and the ``tvoc_unit`` setting the AM307 reports tVOC as an IAQ
index or in µg/m³, never in ppb; converting µg/m³ to ppb needs a molar mass the device does not
report, so neither maps to ``tvoc_ppb``.

Other 0xFF/0xFE items are answers to configuration downlinks (no measurements): the frame is
not decoded further and a warning says so. Any other unknown (id, type) is ``bad_payload`` —
without a length byte nothing after it can be located; what was decoded before is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import milesight
from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field, stamp

PORT = 85  # the factory application port, what encode uses
# time, temperature, humidity, PIR, light level, CO2, tVOC, pressure
HISTORY = struct.Struct("<IhHBBHHH")


def _co2(data: bytes, out: Emitter) -> None:
    out.add("co2_ppm", struct.unpack_from("<H", data)[0])


def _pressure(data: bytes, out: Emitter) -> None:
    out.add("pressure_hpa", struct.unpack_from("<H", data)[0] / 10)


def _history(tvoc_unit: str) -> milesight.Handler:
    def handler(data: bytes, out: Emitter) -> None:
        when, temperature, humidity, pir, light, co2, tvoc, pressure = HISTORY.unpack_from(data)
        at = milesight.history(when, temperature, humidity, out)
        out.add("co2_ppm", co2, at=at)
        out.add("pressure_hpa", pressure / 10, at=at)
        out.keep(f"{stamp(at)} pir", pir)
        out.keep(f"{stamp(at)} light_level", light, "level 0-5")
        out.keep(f"{stamp(at)} tvoc", tvoc / 100 if tvoc_unit == IAQ else tvoc, tvoc_unit)

    return handler


IAQ = "IAQ index"
# (channel id, channel type) → (data length, handler); kept items: see the module docstring
ITEMS: dict[tuple[int, int], milesight.Item] = {
    **milesight.AMBIENT,
    (0x05, 0x00): (1, milesight.kept("pir", note="0 idle, 1 trigger")),
    (0x06, 0xCB): (1, milesight.kept("light_level", note="level 0-5")),
    (0x07, 0x7D): (2, _co2),
    (0x08, 0x7D): (2, milesight.kept("tvoc", scale=100, note=IAQ)),
    (0x08, 0xE6): (2, milesight.kept("tvoc", note="µg/m³")),
    (0x09, 0x73): (2, _pressure),
    (0x0A, 0x7D): (2, milesight.kept("hcho", scale=100, note="mg/m³")),
    (0x0B, 0x7D): (2, milesight.kept("pm2_5", note="µg/m³")),
    (0x0C, 0x7D): (2, milesight.kept("pm10", note="µg/m³")),
    (0x0D, 0x7D): (2, milesight.kept("o3", scale=100, note="ppm")),
    (0x0E, 0x01): (1, milesight.kept("beep")),
    (0x20, 0xCE): (HISTORY.size, _history(IAQ)),
    (0x21, 0xCE): (HISTORY.size, _history("µg/m³")),
    **milesight.DEVICE_INFO,
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if out.any_port(f_port) and out.need(payload, 2, "AM307 frame"):
        milesight.walk(payload, out, ITEMS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report: battery, temperature, humidity, PIR idle, light level 1, CO2,
    tVOC IAQ 1.00, pressure — the items and order of the vendor's example frames."""
    frame = struct.pack(
        "<BBB BBh BBB BBB BBB BBH BBH BBH",
        0x01, 0x75, round(values.get("battery_pct", 100)),
        0x03, 0x67, round(values["temperature_c"] * 10),
        0x04, 0x68, round(values["humidity_pct"] * 2),
        0x05, 0x00, 0,
        0x06, 0xCB, 1,
        0x07, 0x7D, round(values["co2_ppm"]),
        0x08, 0x7D, 100,
        0x09, 0x73, round(values["pressure_hpa"] * 10),
    )  # fmt: skip
    return PORT, frame


CODEC = Codec(
    id="milesight-iot/am307",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_pct", 0, 100, 1),
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 0.5),
        Field("co2_ppm", 400, 5000, 1),
        Field("pressure_hpa", 300, 1100, 0.1),
    ),
    summary="Indoor temperature, humidity, CO2, pressure (PIR, light level, tVOC kept)",
)
