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
FF xx      –     device information (versions, serial number, class, reset, status): kept in
                 the frame's kept-values warning (no quantity in the vocabulary)
========== ===== =============================================================================

Other FE/FF channels are replies to configuration downlinks: parsing stops there with a warning.
Any other channel is an unknown channel (bad_payload naming its byte); what preceded it is kept.
The port is the device's application port (85 from the factory, configurable): any application
fPort is accepted.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import milesight
from ingest.codecs.base import ANY_PORT, Codec, CodecErrorCode, Emitter, Field

PORT = 85  # the factory application port, what encode uses
HISTORY = struct.Struct("<IhBB")  # time, temperature, humidity, leakage status
LEAK_STATES = (0, 1)


def _leak(status: int, at: datetime | None, out: Emitter) -> None:
    if status in LEAK_STATES:
        out.add("leak", status, at=at)
    else:
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"leakage status {status} is not 0 or 1")


def _status(data: bytes, out: Emitter) -> None:
    _leak(data[0], None, out)


def _history(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, status = HISTORY.unpack(data)
    at = milesight.history(when, temperature, humidity, out)
    _leak(status, at, out)


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], milesight.Item] = {
    **milesight.AMBIENT,
    (0x05, 0x00): (1, _status),
    (0x20, 0xCE): (HISTORY.size, _history),
    **milesight.DEVICE_INFO,
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if out.any_port(f_port):
        milesight.walk(payload, out, ITEMS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report: battery, temperature, humidity, leakage status."""
    frame = milesight.encode_ambient(values)
    return PORT, frame + bytes((0x05, 0x00, 1 if values.get("leak", 0) >= 0.5 else 0))


CODEC = Codec(
    id="milesight-iot/em300-sld",
    ports=ANY_PORT,
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
