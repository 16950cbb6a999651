"""Milesight channel/type frames: the item walk and the items every Milesight sensor shares.

A frame is a sequence of items ``channel id (1 B) | channel type (1 B) | data``; the data length
is fixed by the (id, type) pair (there is no length byte), multi-byte values are little-endian
(Milesight-IoT/SensorDecoders, the "Uplink Data" section of each model's README):

======= ====== ====== ===================================================================
id      type   bytes  meaning
======= ====== ====== ===================================================================
0x01    0x75   1      battery, u8, %                                  → ``battery_pct``
0x03    0x67   2      temperature, s16, 0.1 °C                        → ``temperature_c``
0x04    0x68   1      relative humidity, u8, 0.5 %                    → ``humidity_pct``
0x20    0xCE   model  history record: unix timestamp u32 s | temperature s16 0.1 °C |
                      humidity 0.5 % (u8 or u16 by model) | the model's own values
0xFF    *      1-8    device information (sent on join): 0x01 protocol (1 B), 0x09 hardware
                      (2 B), 0x0A firmware (2 B), 0x0B power on (1 B), 0x0F class (1 B),
                      0x16 serial number (8 B), 0xFE reset event (1 B), 0xFF TSL version (2 B)
======= ====== ====== ===================================================================

A model's ``ITEMS`` maps each (id, type) it documents to its data length and handler; an item
with no quantity in the vocabulary is ``kept`` (its value in the frame's warning, never dropped
silently). The port is the device's "application port" (85 from the factory, configurable), so
any application fPort is accepted. ``walk`` stops at the first item it cannot size: on a
0xFF/0xFE channel (``replies``) that is an answer to a configuration downlink, a warning;
elsewhere an unknown item, ``bad_payload`` naming its byte. What came before is kept. An
all-zero tail after a complete item is padding (the vendor's CT10x example ends with four zero
bytes; no Milesight channel has id 0x00): a warning, not an error.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime

from ingest.codecs.base import Emitter

Handler = Callable[[bytes, Emitter], None]
Item = tuple[int, Handler]  # data length, handler

BATTERY = (0x01, 0x75)
TEMPERATURE = (0x03, 0x67)
HUMIDITY = (0x04, 0x68)
REPLY_CHANNELS = (0xFF, 0xFE)


def battery(data: bytes, out: Emitter) -> None:
    out.add("battery_pct", data[0])


def temperature(data: bytes, out: Emitter) -> None:
    out.add("temperature_c", struct.unpack_from("<h", data)[0] / 10)


def humidity(data: bytes, out: Emitter) -> None:
    out.add("humidity_pct", data[0] / 2)


def kept(
    name: str, scale: float = 1, signed: bool = False, note: str = "", hexadecimal: bool = False
) -> Handler:
    """A documented item with no quantity in the vocabulary (or an ambiguous unit): its value,
    little-endian (``/ scale``), goes to the frame's kept-values warning; as hex when asked and
    for 3 or 5+ bytes (versions, serial numbers)."""

    def handler(data: bytes, out: Emitter) -> None:
        value: object = data.hex()
        if len(data) in (1, 2, 4) and not hexadecimal:
            number = int.from_bytes(data, "little", signed=signed)
            value = number if scale == 1 else round(number / scale, 6)
        out.keep(name, value, note)

    return handler


# battery, temperature and humidity, as the ambience (AM) and EM300 sensors send them
AMBIENT: dict[tuple[int, int], Item] = {
    BATTERY: (1, battery),
    TEMPERATURE: (2, temperature),
    HUMIDITY: (1, humidity),
}
DEVICE_INFO: dict[tuple[int, int], Item] = {
    (0xFF, 0x01): (1, kept("protocol_version")),
    (0xFF, 0x09): (2, kept("hardware_version", hexadecimal=True)),
    (0xFF, 0x0A): (2, kept("firmware_version", hexadecimal=True)),
    (0xFF, 0x0B): (1, kept("power_on")),
    (0xFF, 0x0F): (1, kept("lorawan_class")),
    (0xFF, 0x16): (8, kept("serial_number")),
    (0xFF, 0xFE): (1, kept("reset_event")),
    (0xFF, 0xFF): (2, kept("tsl_version", hexadecimal=True)),
}


def history(when: int, raw_temperature: int, raw_humidity: int, out: Emitter) -> datetime:
    """Emit a history record's temperature and humidity at its own time; return that time."""
    at = datetime.fromtimestamp(when, UTC)  # the device's unix clock, taken as UTC
    out.add("temperature_c", raw_temperature / 10, at=at)
    out.add("humidity_pct", raw_humidity / 2, at=at)
    return at


def encode_ambient(values: Mapping[str, float]) -> bytes:
    """Items 01 75 (only when ``battery_pct`` is given), 03 67 and 04 68, as AMBIENT reads them."""
    frame = bytearray()
    if "battery_pct" in values:
        frame += bytes((*BATTERY, round(values["battery_pct"])))
    frame += struct.pack("<BBh", *TEMPERATURE, round(values["temperature_c"] * 10))
    frame += bytes((*HUMIDITY, round(values["humidity_pct"] * 2)))
    return bytes(frame)


def walk(
    payload: bytes,
    out: Emitter,
    items: Mapping[tuple[int, int], Item],
    replies: Collection[int] = REPLY_CHANNELS,
) -> None:
    """Decode ``payload`` item by item, in frame order, until it ends or an item cannot be sized."""
    pos = 0
    while pos < len(payload):
        if pos and not any(payload[pos:]):
            out.warn(f"{len(payload) - pos} zero byte(s) of padding after byte {pos - 1}")
            return
        if not out.need(payload[pos:], 2, f"item header at byte {pos}"):
            return
        channel, kind = payload[pos], payload[pos + 1]
        item = items.get((channel, kind))
        if item is None:
            what = f"channel {channel:#04x} type {kind:#04x}"
            if channel in replies:
                out.warn(f"{what} at byte {pos}: configuration answer, rest of frame not decoded")
            else:
                out.unknown(what, pos)
            return
        size, handler = item
        data = payload[pos + 2 : pos + 2 + size]
        if not out.need(data, size, f"channel {channel:#04x} type {kind:#04x}"):
            return
        handler(data, out)
        pos += 2 + size
