"""Milesight EM300-SLD (and EM300-ZLD): spot/zone leak detector, temperature, humidity (fPort 85).

Sources: Milesight-IoT/SensorDecoders ``EM_Series/EM300_Series/EM300-SLD`` (README payload table and
examples, ``EM300-SLD_Decoder.js``). The frame is a sequence of channels: channel id (1 byte),
channel type (1 byte), then a fixed-size value. All integers little-endian.

========== ===== =============================================================================
id / type  bytes meaning
========== ===== =============================================================================
01 75      1     battery, u8, % → ``battery_pct``
03 67      2     temperature, s16, 0.1 °C → ``temperature_c``
04 68      1     relative humidity, u8, 0.5 % → ``humidity_pct``
05 00      1     leakage status, u8: 0 normal, 1 leak → ``leak``; other values → bad_payload
20 CE      8     history: time u32 (Unix s), temperature s16 (0.1 °C), humidity u8 (0.5 %),
                 leakage status u8 → readings at time, in frame order
FF xx      –     device information (versions, serial number, class, reset, status): skipped
========== ===== =============================================================================

Other FE/FF channels are replies to configuration downlinks: parsing stops there with a warning.
Any other channel is an unknown frame type (bad_payload); what preceded it is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 85
INFO_SIZES = {0x01: 1, 0x09: 2, 0x0A: 2, 0xFF: 2, 0x16: 8, 0x0F: 1, 0xFE: 1, 0x0B: 1}
DEVICE_INFO, DOWNLINK_REPLY = 0xFF, 0xFE
SIZES = {(0x01, 0x75): 1, (0x03, 0x67): 2, (0x04, 0x68): 1, (0x05, 0x00): 1, (0x20, 0xCE): 8}
HISTORY = struct.Struct("<IhBB")  # time, temperature, humidity, leakage status
LEAK_STATES = (0, 1)


def _leak(status: int, at: datetime | None, out: Emitter) -> None:
    if status in LEAK_STATES:
        out.add("leak", status, at=at)
    else:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"leakage status {status} is not 0 or 1")


def _channel(key: tuple[int, int], body: bytes, out: Emitter) -> None:
    if key == (0x01, 0x75):
        out.add("battery_pct", body[0])
    elif key == (0x03, 0x67):
        out.add("temperature_c", struct.unpack("<h", body)[0] / 10)
    elif key == (0x04, 0x68):
        out.add("humidity_pct", body[0] / 2)
    elif key == (0x05, 0x00):
        _leak(body[0], None, out)
    else:  # (0x20, 0xCE)
        when, temperature, humidity, status = HISTORY.unpack(body)
        at = datetime.fromtimestamp(when, UTC)
        out.add("temperature_c", temperature / 10, at=at)
        out.add("humidity_pct", humidity / 2, at=at)
        _leak(status, at, out)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    i = 0
    while i < len(payload):
        if not out.need(payload, i + 2, "channel header"):
            return
        channel, kind = payload[i], payload[i + 1]
        size = INFO_SIZES.get(kind) if channel == DEVICE_INFO else SIZES.get((channel, kind))
        if size is None:
            if channel in (DEVICE_INFO, DOWNLINK_REPLY):
                out.warn(f"configuration reply {channel:#04x}/{kind:#04x} not decoded")
            else:
                out.fail(CodecErrorCode.BAD_PAYLOAD, f"unknown channel {channel:#04x}/{kind:#04x}")
            return
        if not out.need(payload, i + 2 + size, f"channel {channel:#04x}/{kind:#04x}"):
            return
        if channel != DEVICE_INFO:
            _channel((channel, kind), payload[i + 2 : i + 2 + size], out)
        i += 2 + size


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report: battery, temperature, humidity, leakage status."""
    frame = bytearray()
    if "battery_pct" in values:
        frame += bytes((0x01, 0x75, round(values["battery_pct"])))
    frame += struct.pack("<BBh", 0x03, 0x67, round(values["temperature_c"] * 10))
    frame += bytes((0x04, 0x68, round(values["humidity_pct"] * 2)))
    frame += bytes((0x05, 0x00, 1 if values.get("leak", 0) >= 0.5 else 0))
    return PORT, bytes(frame)


CODEC = Codec(
    id="milesight-iot/em300-sld",
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_pct", 0, 100, 1),
        Field("temperature_c", -20, 60, 0.1),
        Field("humidity_pct", 0, 100, 0.5),
        Field("leak", 0, 1, 1),
    ),
    summary="Spot leak detector with temperature/humidity and timestamped history",
)
