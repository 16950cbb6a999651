"""Milesight EM300-DI: pulse counter with temperature and humidity, device-side history (fPort 85).

Sources: Milesight-IoT/SensorDecoders ``EM_Series/EM300_Series/EM300-DI`` (README payload table and
example, ``EM300-DI_Decoder.js``) and the TTN device repository ``vendor/milesight-iot/em300-di``
(codec example). The frame is a sequence of channels: channel id (1 byte), channel type (1 byte),
then a fixed-size value. All integers little-endian.

========== ===== =============================================================================
id / type  bytes meaning
========== ===== =============================================================================
01 75      1     battery, u8, % → ``battery_pct``
03 67      2     temperature, s16, 0.1 °C → ``temperature_c``
04 68      1     relative humidity, u8, 0.5 % → ``humidity_pct``
05 00      1     digital input level (GPIO mode): no quantity, skipped
05 C8      4     pulse counter, u32 → ``pulse_count``
05 E1      8     water_conv u16 (0.1) + pulse_conv u16 (0.1) + water f32 (firmware ≥ 1.3, pulse
                 conversion on; the README lists this channel as 06 E1, both are accepted):
                 water = counter × water_conv / pulse_conv in a unit configured on the device, so
                 ``pulse_count`` = round(water × pulse_conv / water_conv) (f32: exact below 2**24)
85 00      2     digital input level + GPIO alarm (1 alarm, 0 released) → warning when raised
85 E1      9     as 05 E1 + water alarm u8 (1/2 outage timeout alarm/release, 3/4 flow timeout
                 alarm/release) → ``pulse_count`` and a warning (README: 86 E1, both accepted)
20 CE      13    history: time u32 (Unix s), temperature s16 (0.1 °C), humidity u8 (0.5 %),
                 input type u8 (1 digital, 2 pulse), level u8, pulse counter u32 → readings at time
21 CE      18    history v2: time u32, temperature s16, humidity u8, alarm u8, input type u8,
                 level u8, water_conv u16, pulse_conv u16, water f32 → readings at time
FF xx      –     device information (versions, serial number, class, reset, status): skipped
========== ===== =============================================================================

Other FE/FF channels are replies to configuration downlinks: parsing stops there with a warning.
History records are emitted in frame order, each at its own timestamp. Any other channel is an
unknown frame type (bad_payload); what preceded it is kept.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 85
INFO_SIZES = {0x01: 1, 0x09: 2, 0x0A: 2, 0xFF: 2, 0x16: 8, 0x0F: 1, 0xFE: 1, 0x0B: 1}
DEVICE_INFO, DOWNLINK_REPLY = 0xFF, 0xFE
SIZES = {
    (0x01, 0x75): 1,
    (0x03, 0x67): 2,
    (0x04, 0x68): 1,
    (0x05, 0x00): 1,
    (0x05, 0xC8): 4,
    (0x05, 0xE1): 8,
    (0x06, 0xE1): 8,
    (0x85, 0x00): 2,
    (0x85, 0xE1): 9,
    (0x86, 0xE1): 9,
    (0x20, 0xCE): 13,
    (0x21, 0xCE): 18,
}
WATER = struct.Struct("<HHf")  # water_conv, pulse_conv, water
HISTORY = struct.Struct("<IhBBBI")  # time, temperature, humidity, input type, level, pulses
HISTORY_V2 = struct.Struct("<IhBBBBHHf")  # time, temp, hum, alarm, type, level, conversion
PULSE_MODE = 2
WATER_ALARMS = {
    1: "water outage timeout alarm",
    2: "water outage timeout alarm released",
    3: "water flow timeout alarm",
    4: "water flow timeout alarm released",
    5: "GPIO alarm",
    6: "GPIO alarm released",
}


def _pulses(water_conv: int, pulse_conv: int, water: float, at: datetime, out: Emitter) -> None:
    """Invert the device's conversion (water = counter × water_conv / pulse_conv)."""
    if water_conv == 0:
        out.warn("pulse conversion with water_conv = 0: counter not recoverable")
        return
    out.add("pulse_count", round(water * pulse_conv / water_conv), at=at)


def _climate(temperature: int, humidity: int, at: datetime | None, out: Emitter) -> None:
    out.add("temperature_c", temperature / 10, at=at)
    out.add("humidity_pct", humidity / 2, at=at)


def _channel(key: tuple[int, int], body: bytes, out: Emitter) -> None:
    if key == (0x01, 0x75):
        out.add("battery_pct", body[0])
    elif key == (0x03, 0x67):
        out.add("temperature_c", struct.unpack("<h", body)[0] / 10)
    elif key == (0x04, 0x68):
        out.add("humidity_pct", body[0] / 2)
    elif key == (0x05, 0xC8):
        out.add("pulse_count", struct.unpack("<I", body)[0])
    elif key in ((0x05, 0xE1), (0x06, 0xE1), (0x85, 0xE1), (0x86, 0xE1)):
        water_conv, pulse_conv, water = WATER.unpack_from(body)
        _pulses(water_conv, pulse_conv, water, out.received_at, out)
        if len(body) > WATER.size:
            out.warn(WATER_ALARMS.get(body[WATER.size], f"water alarm {body[WATER.size]}"))
    elif key == (0x85, 0x00) and body[1] == 1:
        out.warn(f"GPIO alarm (input level {body[0]})")
    elif key == (0x20, 0xCE):
        when, temperature, humidity, mode, _, pulses = HISTORY.unpack(body)
        at = datetime.fromtimestamp(when, UTC)
        _climate(temperature, humidity, at, out)
        if mode == PULSE_MODE:
            out.add("pulse_count", pulses, at=at)
    elif key == (0x21, 0xCE):
        when, temperature, humidity, alarm, mode, _, w_conv, p_conv, water = HISTORY_V2.unpack(body)
        at = datetime.fromtimestamp(when, UTC)
        _climate(temperature, humidity, at, out)
        if mode == PULSE_MODE:
            _pulses(w_conv, p_conv, water, at, out)
        if alarm:
            out.warn(f"history {at.isoformat()}: {WATER_ALARMS.get(alarm, f'alarm {alarm}')}")


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
    """A periodic report in counter mode: battery, temperature, humidity, pulse counter."""
    frame = bytearray()
    if "battery_pct" in values:
        frame += bytes((0x01, 0x75, round(values["battery_pct"])))
    frame += struct.pack("<BBh", 0x03, 0x67, round(values["temperature_c"] * 10))
    frame += bytes((0x04, 0x68, round(values["humidity_pct"] * 2)))
    frame += struct.pack("<BBI", 0x05, 0xC8, round(values["pulse_count"]))
    return PORT, bytes(frame)


CODEC = Codec(
    id="milesight-iot/em300-di",
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_pct", 0, 100, 1),
        Field("temperature_c", -30, 70, 0.1),
        Field("humidity_pct", 0, 100, 0.5),
        Field("pulse_count", 0, 4_294_967_295, 1),
    ),
    summary="Pulse counter with temperature/humidity and timestamped history",
)
