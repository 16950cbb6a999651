"""Milesight AM103: indoor temperature, humidity and CO2, Milesight channel/type TLV (fPort 85).

A frame is a sequence of items ``channel id (1 B) | channel type (1 B) | data``; the data length
is fixed by the (id, type) pair (there is no length byte), multi-byte values are little-endian
(Milesight SensorDecoders ``am-series/am103/README.md``; AM100 series user guide, "Uplink Data"):

======= ====== ====== ===================================================================
id      type   bytes  meaning
======= ====== ====== ===================================================================
0x01    0x75   1      battery, u8, %                                  → ``battery_pct``
0x03    0x67   2      temperature, s16, 0.1 °C                        → ``temperature_c``
0x04    0x68   1      relative humidity, u8, 0.5 %                    → ``humidity_pct``
0x07    0x7D   2      CO2, u16, ppm                                   → ``co2_ppm``
0x20    0xCE   9      history record: unix timestamp u32 s | temperature s16 0.1 °C |
                      humidity u8 0.5 % | CO2 u16 ppm
0xFF    *      1-8    device information (sent on join): 0x01 protocol (1 B), 0x09 hardware
                      (2 B), 0x0A firmware (2 B), 0x0B power on (1 B), 0x0F class (1 B),
                      0x16 serial number (8 B), 0x18 sensor status (2 B), 0xFE reset event
                      (1 B), 0xFF TSL version (2 B)
======= ====== ====== ===================================================================

History records (sent when data retransmission is enabled, after a network outage) are emitted
at their own time (the device's unix clock, taken as UTC), in frame order.

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
HISTORY_SIZE = 9
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


def _history(data: bytes, out: Emitter) -> None:
    ts, temp, hum, co2 = struct.unpack_from("<IhBH", data)
    at = datetime.fromtimestamp(ts, UTC)
    out.add("temperature_c", temp / 10, at=at)
    out.add("humidity_pct", hum / 2, at=at)
    out.add("co2_ppm", co2, at=at)


def _skip(data: bytes, out: Emitter) -> None:
    """Device information: nothing to store."""


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], tuple[int, Handler]] = {
    (0x01, 0x75): (1, _battery),
    (0x03, 0x67): (2, _temperature),
    (0x04, 0x68): (1, _humidity),
    (0x07, 0x7D): (2, _co2),
    (0x20, 0xCE): (HISTORY_SIZE, _history),
    (0xFF, 0x01): (1, _skip),  # protocol version
    (0xFF, 0x09): (2, _skip),  # hardware version
    (0xFF, 0x0A): (2, _skip),  # firmware version
    (0xFF, 0x0B): (1, _skip),  # power on
    (0xFF, 0x0F): (1, _skip),  # LoRaWAN class
    (0xFF, 0x16): (8, _skip),  # serial number
    (0xFF, 0x18): (2, _skip),  # sensor status
    (0xFF, 0xFE): (1, _skip),  # reset event
    (0xFF, 0xFF): (2, _skip),  # TSL version
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if not out.need(payload, 2, "AM103 frame"):
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
    ports=(PORT,),
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
