"""Milesight EM300-DI: pulse counter with temperature and humidity, device-side history (fPort 85).

Sources: Milesight-IoT/SensorDecoders ``EM_Series/EM300_Series/EM300-DI`` (README payload table and
example, ``EM300-DI_Decoder.js``), ``EM_Series/EM300_Series/EM300-DI_Hall`` (the Hall-sensor
variant: water channels and examples) and the TTN device repository
``vendor/milesight-iot/em300-di`` (codec example). The frame is a sequence of channels: channel id
(1 byte), channel type (1 byte), then a fixed-size value. All integers little-endian. "kept" = no
quantity in the vocabulary or an ambiguous unit: the value goes to the frame's kept-values warning.

========== ===== =============================================================================
id / type  bytes meaning
========== ===== =============================================================================
01 75      1     battery, u8, % → ``battery_pct``
03 67      2     temperature, s16, 0.1 °C → ``temperature_c``
04 68      1     relative humidity, u8, 0.5 % → ``humidity_pct``
05 00      1     digital input level (GPIO mode): kept
05 C8      4     pulse counter, u32 → ``pulse_count``
05 E1      8     water_conv u16 (0.1) + pulse_conv u16 (0.1) + water f32 (firmware ≥ 1.3, pulse
                 conversion on; the README lists this channel as 06 E1, both are accepted):
                 water = counter × water_conv / pulse_conv in a unit configured on the device
                 (ambiguous: kept), and ``pulse_count`` = water × pulse_conv / water_conv when
                 that is a whole number (within 0.01; the vendor's Hall examples are not, so
                 their water value is only kept)
85 00      2     digital input level (kept) + GPIO alarm (1 alarm, 0 released) → warning when raised
85 E1      9     as 05 E1 + water alarm u8 (1/2 outage timeout alarm/release, 3/4 flow timeout
                 alarm/release) → as 05 E1 and a warning (README: 86 E1, both accepted)
20 CE      13    history: time u32 (Unix s), temperature s16 (0.1 °C), humidity u8 (0.5 %),
                 input type u8 (1 digital, 2 pulse), level u8, pulse counter u32 → readings at time
                 (in digital mode the level is kept)
21 CE      18    history v2: time u32, temperature s16, humidity u8, alarm u8, input type u8,
                 level u8, water_conv u16, pulse_conv u16, water f32 → readings at time, the
                 water as 05 E1. The Hall variant has no temperature/humidity sensor and sends
                 0 and 0 there (the vendor's example shows neither): a record with both exactly 0
                 (0 % RH never occurs indoors) emits no temperature or humidity
FF xx      –     device information (versions, serial number, class, reset, status): kept
========== ===== =============================================================================

Other FE/FF channels are replies to configuration downlinks: parsing stops there with a warning.
History records are emitted in frame order, each at its own timestamp. Any other channel is an
unknown channel (bad_payload naming its byte); what preceded it is kept. The port is the
device's application port (85 from the factory, configurable): any application fPort is accepted.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import UTC, datetime

from ingest.codecs import milesight
from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field, stamp

PORT = 85  # the factory application port, what encode uses
WHOLE = 0.01  # a counter this close to an integer is one (f32 water)
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
    """Keep the water value (unit set on the device) and invert the device's conversion
    (water = counter × water_conv / pulse_conv) when it gives a whole counter."""
    when = "" if at == out.received_at else f"{stamp(at)} "
    conversion = f"unit set on the device, conversion {water_conv / 10:g}/{pulse_conv / 10:g}"
    out.keep(f"{when}water", round(water, 3), conversion)
    if water_conv == 0:
        out.warn("pulse conversion with water_conv = 0: counter not recoverable")
        return
    counter = water * pulse_conv / water_conv
    if abs(counter - round(counter)) <= WHOLE:
        out.add("pulse_count", round(counter), at=at)


def _counter(data: bytes, out: Emitter) -> None:
    out.add("pulse_count", struct.unpack("<I", data)[0])


def _water(data: bytes, out: Emitter) -> None:
    """05/06 E1 (conversion) and 85/86 E1 (conversion + water alarm byte)."""
    water_conv, pulse_conv, water = WATER.unpack_from(data)
    _pulses(water_conv, pulse_conv, water, out.received_at, out)
    if len(data) > WATER.size:
        out.warn(WATER_ALARMS.get(data[WATER.size], f"water alarm {data[WATER.size]}"))


def _gpio_alarm(data: bytes, out: Emitter) -> None:
    out.keep("gpio", data[0], "input level")
    if data[1] == 1:
        out.warn(f"GPIO alarm (input level {data[0]})")


def _history(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, mode, level, pulses = HISTORY.unpack(data)
    at = milesight.history(when, temperature, humidity, out)
    if mode == PULSE_MODE:
        out.add("pulse_count", pulses, at=at)
    else:
        out.keep(f"{stamp(at)} gpio", level, "input level")


def _history_v2(data: bytes, out: Emitter) -> None:
    when, temperature, humidity, alarm, mode, level, w_conv, p_conv, water = HISTORY_V2.unpack(data)
    if temperature == 0 and humidity == 0:  # Hall variant: no temperature/humidity sensor
        at = datetime.fromtimestamp(when, UTC)
    else:
        at = milesight.history(when, temperature, humidity, out)
    if mode == PULSE_MODE:
        _pulses(w_conv, p_conv, water, at, out)
    else:
        out.keep(f"{stamp(at)} gpio", level, "input level")
    if alarm:
        out.warn(f"history {at.isoformat()}: {WATER_ALARMS.get(alarm, f'alarm {alarm}')}")


# (channel id, channel type) → (data length, handler)
ITEMS: dict[tuple[int, int], milesight.Item] = {
    **milesight.AMBIENT,
    (0x05, 0x00): (1, milesight.kept("gpio", note="input level")),
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
    if out.any_port(f_port):
        milesight.walk(payload, out, ITEMS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A periodic report in counter mode: battery, temperature, humidity, pulse counter."""
    frame = milesight.encode_ambient(values)
    return PORT, frame + struct.pack("<BBI", 0x05, 0xC8, round(values["pulse_count"]))


CODEC = Codec(
    id="milesight-iot/em300-di",
    ports=ANY_PORT,
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
