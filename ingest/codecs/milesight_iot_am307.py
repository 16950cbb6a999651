"""Milesight AM307: 7-in-1 indoor ambience sensor, Milesight channel/type TLV frames (fPort 85).

A frame is a sequence of items ``channel id (1 B) | channel type (1 B) | data``; the data length
is fixed by the (id, type) pair (there is no length byte), multi-byte values are little-endian
(Milesight SensorDecoders ``am-series/am307/README.md`` and ``AM_Series/AM300_v2``):

======= ====== ====== ===================================================================
id      type   bytes  meaning
======= ====== ====== ===================================================================
0x01    0x75   1      battery, u8, %                                  → ``battery_pct``
0x03    0x67   2      temperature, s16, 0.1 °C                        → ``temperature_c``
0x04    0x68   1      relative humidity, u8, 0.5 %                    → ``humidity_pct``
0x05    0x00   1      PIR state, 0 idle / 1 trigger                   skipped (1)
0x06    0xCB   1      light level 0-5 (not lux)                       skipped (2)
0x07    0x7D   2      CO2, u16, ppm                                   → ``co2_ppm``
0x08    0x7D   2      tVOC IAQ index, u16 / 100                       skipped (3)
0x08    0xE6   2      tVOC, u16, µg/m³                                skipped (3)
0x09    0x73   2      barometric pressure, u16, 0.1 hPa               → ``pressure_hpa``
0x0E    0x01   1      buzzer state                                    skipped
0x20    0xCE   16     history record, tVOC as IAQ index (4)
0x21    0xCE   16     history record, tVOC in µg/m³ (4)
0xFF    *      1-8    device information: 0x01 protocol (1 B), 0x09 hardware (2 B),
                      0x0A firmware (2 B), 0x0B power on (1 B), 0x0F class (1 B),
                      0x16 serial number (8 B), 0xFE reset event (1 B), 0xFF TSL (2 B)
======= ====== ====== ===================================================================

(4) History record (16 B): unix timestamp u32 s | temperature s16 0.1 °C | humidity u16 0.5 % |
PIR u8 | light level u8 | CO2 u16 ppm | tVOC u16 | pressure u16 0.1 hPa. Its temperature,
humidity, CO2 and pressure are emitted at the record's own time (taken as UTC), in frame order.

(1) The AM307 reports PIR as a 0/1 state at report time, not a count of detections, so it does
not map to ``motion_count``; it is skipped without a warning. (2) The light sensor reports a
level (0-5), not an illuminance in lux. (3) Depending on firmware and the ``tvoc_unit`` setting
the AM307 reports tVOC as an IAQ index or in µg/m³, never in ppb; converting µg/m³ to ppb needs
a molar mass the device does not report, so neither maps to ``tvoc_ppb``.

Other 0xFF/0xFE items are answers to configuration downlinks (no measurements): the frame is
not decoded further and a warning says so. Any other unknown (id, type) is ``bad_payload`` —
without a length byte nothing after it can be located; what was decoded before is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 85
HISTORY_SIZE = 16
INFO_CHANNELS = (0xFF, 0xFE)

Handler = Callable[[bytes, Emitter], None]


def _battery(data: bytes, out: Emitter) -> None:
    out.add("battery_pct", data[0])


def _temperature(data: bytes, out: Emitter) -> None:
    out.add("temperature_c", struct.unpack_from("<h", data)[0] / 10)


def _humidity(data: bytes, out: Emitter) -> None:
    out.add("humidity_pct", data[0] / 2)


def _co2(data: bytes, out: Emitter) -> None:
    out.add("co2_ppm", struct.unpack_from("<H", data)[0])


def _pressure(data: bytes, out: Emitter) -> None:
    out.add("pressure_hpa", struct.unpack_from("<H", data)[0] / 10)


def _history(data: bytes, out: Emitter) -> None:
    ts, temp, hum, _pir, _light, co2, _tvoc, press = struct.unpack_from("<IhHBBHHH", data)
    at = datetime.fromtimestamp(ts, UTC)
    out.add("temperature_c", temp / 10, at=at)
    out.add("humidity_pct", hum / 2, at=at)
    out.add("co2_ppm", co2, at=at)
    out.add("pressure_hpa", press / 10, at=at)


def _skip(data: bytes, out: Emitter) -> None:
    """A documented item with no quantity in the vocabulary (see the module docstring)."""


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], tuple[int, Handler]] = {
    (0x01, 0x75): (1, _battery),
    (0x03, 0x67): (2, _temperature),
    (0x04, 0x68): (1, _humidity),
    (0x05, 0x00): (1, _skip),  # PIR state
    (0x06, 0xCB): (1, _skip),  # light level 0-5
    (0x07, 0x7D): (2, _co2),
    (0x08, 0x7D): (2, _skip),  # tVOC IAQ index
    (0x08, 0xE6): (2, _skip),  # tVOC µg/m³
    (0x09, 0x73): (2, _pressure),
    (0x0E, 0x01): (1, _skip),  # buzzer
    (0x20, 0xCE): (HISTORY_SIZE, _history),
    (0x21, 0xCE): (HISTORY_SIZE, _history),
    (0xFF, 0x01): (1, _skip),  # protocol version
    (0xFF, 0x09): (2, _skip),  # hardware version
    (0xFF, 0x0A): (2, _skip),  # firmware version
    (0xFF, 0x0B): (1, _skip),  # power on
    (0xFF, 0x0F): (1, _skip),  # LoRaWAN class
    (0xFF, 0x16): (8, _skip),  # serial number
    (0xFF, 0xFE): (1, _skip),  # reset event
    (0xFF, 0xFF): (2, _skip),  # TSL version
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if not out.need(payload, 2, "AM307 frame"):
        return
    pos = 0
    while pos < len(payload):
        if not out.need(payload[pos:], 2, f"item header at byte {pos}"):
            return
        channel, kind = payload[pos], payload[pos + 1]
        item = ITEMS.get((channel, kind))
        if item is None:
            what = f"channel {channel:#04x} type {kind:#04x} at byte {pos}"
            if channel in INFO_CHANNELS:
                out.warn(f"{what}: configuration answer, rest of frame not decoded")
            else:
                out.fail(CodecErrorCode.BAD_PAYLOAD, f"unknown {what}")
            return
        size, handler = item
        data = payload[pos + 2 : pos + 2 + size]
        if not out.need(data, size, f"channel {channel:#04x} type {kind:#04x}"):
            return
        handler(data, out)
        pos += 2 + size


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
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_pct", 0, 100, 1),
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 0.5),
        Field("co2_ppm", 400, 5000, 1),
        Field("pressure_hpa", 300, 1100, 0.1),
    ),
    summary="Indoor temperature, humidity, CO2, pressure (PIR, light level, tVOC skipped)",
)
