"""Milesight CT101 smart current transformer (CT10x family), fPort 85.

Sources: Milesight-IoT/SensorDecoders ``CT_Series/CT10x/README.md`` (payload definition and
example frames) and ``CT10x_Decoder.js``, and the TTN device repository
``vendor/milesight-iot/ct101-codec.yaml``. The payload is a sequence of channel id, channel type,
value, little-endian:

======= ===== ====== ================================================================
channel type  bytes  meaning
======= ===== ====== ================================================================
0x01    0x75  1      battery level, % → ``battery_pct`` (CT10x table; mains-clamped
                     CT101/CT103 do not send it)
0x03    0x97  4      total current, u32 / 100 Ah — kept (no ampere-hour quantity)
0x04    0x98  2      current, u16 / 100 A → ``current_a``; 0xFFFF = read failed
0x09    0x67  2      cable temperature, s16 / 10 °C → ``temperature_c``;
                     0xFFFD = over range, 0xFFFF = read failed
0x84    0x98  7      current alarm: max, min, current (u16 / 100 A), alarm bits (1 threshold,
                     2 threshold release, 4 over range, 8 over range release) → the current
                     is a reading, max and min are kept (extremes of an unstated period),
                     the alarm a warning
0x89    0x67  3      temperature alarm: s16 / 10 °C and 1 = threshold alarm, 0 = release →
                     reading and warning
0xFF    …     …      device information (0x01 IPSO version 1 B, 0x09 hardware 2 B, 0x0A
                     firmware 2 B, 0x0B device status 1 B, 0x0F LoRaWAN class 1 B, 0x16
                     serial 8 B, 0xFE reset event 1 B, 0xFF TSL version 2 B) and, with
                     0xFE, downlink responses (0x02 2 B, 0x06 9 B, 0x10 1 B, 0x27 1 B,
                     0x28 1 B, 0x8E 3 B, 0xF2 2 B): no measurement, kept
======= ===== ====== ================================================================

"kept" = no quantity in the vocabulary: the value goes to the frame's kept-values warning. A
sentinel is a warning, not a reading. An unknown channel/type pair cannot be skipped (its size
is unknown): it is ``bad_payload`` naming its byte, and what came before it is kept; an all-zero
tail is padding (the vendor's example ``0498B80B00000000``). The CT has one clamp, so readings
have no channel. The port is the application port (85 from the factory, configurable): any
application fPort is accepted.

``encode`` sends the current and, when given, the cable temperature.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import milesight
from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field

PORT = 85  # the factory application port, what encode uses
READ_FAILED = 0xFFFF
OVER_RANGE = 0xFFFD

TOTAL_CURRENT = (0x03, 0x97)
CURRENT = (0x04, 0x98)
TEMPERATURE = (0x09, 0x67)
CURRENT_ALARM = (0x84, 0x98)
TEMPERATURE_ALARM = (0x89, 0x67)
# Downlink responses (0xFE/0xFF): type → size, nothing to store.
RESPONSE_SIZE = {0x02: 2, 0x06: 9, 0x10: 1, 0x27: 1, 0x28: 1, 0x8E: 3, 0xF2: 2}
CURRENT_ALARM_BITS = (
    (0x01, "current threshold alarm"),
    (0x02, "current threshold alarm release"),
    (0x04, "current over range alarm"),
    (0x08, "current over range alarm release"),
)


def _current(raw: int, out: Emitter) -> None:
    if raw == READ_FAILED:
        out.warn("current sensor read failed (0xFFFF)")
    else:
        out.add("current_a", raw / 100)


def _temperature(value: bytes, out: Emitter) -> None:
    (raw,) = struct.unpack_from("<H", value)
    if raw == OVER_RANGE:
        out.warn("temperature sensor over range (0xFFFD)")
    elif raw == READ_FAILED:
        out.warn("temperature sensor read failed (0xFFFF)")
    else:
        out.add("temperature_c", struct.unpack_from("<h", value)[0] / 10)


def _current_item(value: bytes, out: Emitter) -> None:
    _current(struct.unpack_from("<H", value)[0], out)


def _current_alarm(value: bytes, out: Emitter) -> None:
    highest, lowest, current = struct.unpack_from("<HHH", value)
    _current(current, out)
    out.keep("current_max", highest / 100, "A")
    out.keep("current_min", lowest / 100, "A")
    alarms = [name for bit, name in CURRENT_ALARM_BITS if value[6] & bit]
    out.warn(", ".join(alarms) if alarms else f"current alarm byte {value[6]:#04x}")


def _temperature_alarm(value: bytes, out: Emitter) -> None:
    _temperature(value, out)
    release = value[2] == 0
    out.warn(f"temperature threshold alarm{' release' if release else ''}")


# (channel, type) → (value size, handler)
ITEMS: dict[tuple[int, int], milesight.Item] = {
    milesight.BATTERY: (1, milesight.battery),
    TOTAL_CURRENT: (4, milesight.kept("total_current", scale=100, note="Ah")),
    CURRENT: (2, _current_item),
    TEMPERATURE: (2, _temperature),
    CURRENT_ALARM: (7, _current_alarm),
    TEMPERATURE_ALARM: (3, _temperature_alarm),
    **milesight.DEVICE_INFO,
    **{
        (channel, kind): (size, milesight.kept(f"reply {channel:02x}{kind:02x}", hexadecimal=True))
        for channel in milesight.REPLY_CHANNELS
        for kind, size in RESPONSE_SIZE.items()
    },
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if out.any_port(f_port) and out.need(payload, 2, "channel and type"):
        # Every documented reply is sized above: any other one is an unknown item, not skipped.
        milesight.walk(payload, out, ITEMS, replies=())


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    frame = struct.pack("<BBH", *CURRENT, round(values["current_a"] * 100))
    if "temperature_c" in values:
        frame += struct.pack("<BBh", *TEMPERATURE, round(values["temperature_c"] * 10))
    return PORT, frame


CODEC = Codec(
    id="milesight-iot/ct101",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("current_a", 0, 655.34, 0.01),
        # The vendor's sentinels 0xFFFD ("over range") and 0xFFFF ("read failed") are also the
        # s16 encodings of −0.3 and −0.1 °C: those two values cannot be sent as readings, so the
        # round-trip range stops at 0 °C; decoding handles negatives as the device sends them.
        Field("temperature_c", 0, 125, 0.1),
    ),
    summary="Clamp-on current transformer: current and cable temperature",
)
