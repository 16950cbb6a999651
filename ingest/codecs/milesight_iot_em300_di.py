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
from datetime import datetime

from ingest.codecs import milesight
from ingest.codecs.base import Codec, Emitter, Field

PORT = 85
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


def _counter(data: bytes, out: Emitter) -> None:
    out.add("pulse_count", struct.unpack("<I", data)[0])


def _water(data: bytes, out: Emitter) -> None:
    """05/06 E1 (conversion) and 85/86 E1 (conversion + water alarm byte)."""
    water_conv, pulse_conv, water = WATER.unpack_from(data)
    _pulses(water_conv, pulse_conv, water, out.received_at, out)
    if len(data) > WATER.size:
        out.warn(WATER_ALARMS.get(data[WATER.size], f"water alarm {data[WATER.size]}"))


def _gpio_alarm(data: bytes, out: Emitter) -> None:
    if data[1] == 1:
        out.warn(f"GPIO alarm (input level {data[0]})")


def _history(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, mode, _, pulses = HISTORY.unpack(data)
    at = milesight.history(when, temperature, humidity, out)
    if mode == PULSE_MODE:
        out.add("pulse_count", pulses, at=at)


def _history_v2(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, alarm, mode, _, w_conv, p_conv, water = HISTORY_V2.unpack(data)
    at = milesight.history(when, temperature, humidity, out)
    if mode == PULSE_MODE:
        _pulses(w_conv, p_conv, water, at, out)
    if alarm:
        out.warn(f"history {at.isoformat()}: {WATER_ALARMS.get(alarm, f'alarm {alarm}')}")


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], milesight.Item] = {
    **milesight.AMBIENT,
    (0x05, 0x00): (1, milesight.skip),  # digital input level
    (0x05, 0xC8): (4, _counter),
    (0x05, 0xE1): (WATER.size, _water),
    (0x06, 0xE1): (WATER.size, _water),
    (0x85, 0x00): (2, _gpio_alarm),
    (0x85, 0xE1): (WATER.size + 1, _water),
    (0x86, 0xE1): (WATER.size + 1, _water),
    (0x20, 0xCE): (HISTORY.size, _history),
    (0x21, 0xCE): (HISTORY_V2.size, _history_v2),
    **milesight.DEVICE_INFO,
}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    milesight.walk(payload, out, ITEMS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report in counter mode: battery, temperature, humidity, pulse counter."""
    frame = milesight.encode_ambient(values)
    return PORT, frame + struct.pack("<BBI", 0x05, 0xC8, round(values["pulse_count"]))


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
