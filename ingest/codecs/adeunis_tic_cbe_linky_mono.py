"""Adeunis TIC reader on a single-phase electronic (CBE) or Linky meter in historic mode, any fPort.

Sources: the Adeunis decoder and example frame published in the TTN device repository
(``vendor/adeunis/tic_cbe_linky_mono_lib.js``, ``tic-cbe-linky-mono-codec.yaml``) and the example
frames of the Adeunis codec library (``src/products/tic/0x49|0x4a|status-byte.parser.spec.ts``).
Numbers are big-endian u32; text fields are ASCII padded with NUL bytes.

Status byte (byte 1 of every frame): bits 7-5 frame counter, bit 4 TIC read error (warning),
bit 3 configuration inconsistency (warning), bit 1 low battery (warning), bit 0 configuration
done.

0x49 TIC data, 50 bytes:

====== ======= ======== ===============================================================
bytes  label   unit     stored as
====== ======= ======== ===============================================================
2-13   ADCO    text     kept (meter address)
14-17  OPTARIF text     kept (tariff option: ``BASE``, ``HC..``)
18-21  BASE    Wh       ``energy_kwh`` channel ``base`` (÷ 1000)
22-25  ISOUSC  A        kept (subscribed current: a contract setting, not a measurement)
26-29  IINST   A        ``current_a``
30-33  IMAX    A        kept (maximum current called, not an instantaneous value)
34-37  PAPP    VA       ``apparent_power_va``
38-41  HCHC    Wh       ``energy_kwh`` channel ``hc`` (÷ 1000)
42-45  HCHP    Wh       ``energy_kwh`` channel ``hp`` (÷ 1000)
46-49  PTEC    text     kept (current tariff period)
====== ======= ======== ===============================================================

A number equal to 0x80000000 means the label was not found in the meter's TIC output (a BASE
meter has no HCHC/HCHP, an HC meter no BASE): that value stays absent, it is never 0.

0x4A TIC alarm: bytes 2-11 label, byte 12 alarm type (0 manual trigger, 1 label appears,
2 label disappears, 3 high threshold, 4 low threshold, 5 end of threshold alarm, 6 positive delta,
7 negative delta), bytes 13-… the label's value as text. The alarm is a warning; when the label is
one stored above and its value is a number, that value is also a reading.

0x10 configuration, 0x20 network configuration and 0x30 keep alive carry no measurement (kept as
hex). "kept" = in the frame's kept-values warning. The fPort is not checked (see ``adeunis``).

``encode`` sends a 0x49 frame with the given registers (absent keys → 0x80000000), OPTARIF
``HC..``/PTEC ``HP..`` when an HC/HP register is given, else ``BASE``/``TH..``.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs import adeunis
from ingest.codecs.base import ANY_PORT, Codec, Emitter, Field

PORT = 1  # the factory port, what encode uses
DATA = 0x49
ALARM = 0x4A
NO_MEASUREMENT = frozenset({0x10, 0x20, 0x30})
DATA_SIZE = 50
NOT_FOUND = 0x8000_0000

READ_ERROR = 0x10
CONFIG_INCONSISTENT = 0x08

# label → (byte offset in 0x49, quantity, channel, divisor from the TIC unit to ours)
LABELS: dict[str, tuple[int, str, str | None, int]] = {
    "BASE": (18, "energy_kwh", "base", 1000),
    "IINST": (26, "current_a", None, 1),
    "PAPP": (34, "apparent_power_va", None, 1),
    "HCHC": (38, "energy_kwh", "hc", 1000),
    "HCHP": (42, "energy_kwh", "hp", 1000),
}
ALARM_TYPES = (
    "manual trigger",
    "label appears",
    "label disappears",
    "high threshold",
    "low threshold",
    "end of threshold alarm",
    "positive delta",
    "negative delta",
)
DATA_LAYOUT = ">BB12s4sIIIIIII4s"


def _text(raw: bytes) -> str:
    return raw.replace(b"\x00", b"").decode("ascii", errors="replace")


def _decode_alarm(payload: bytes, out: Emitter) -> None:
    if not out.need(payload, 13, "TIC alarm frame 0x4A"):
        return
    label, kind, value = _text(payload[2:12]), payload[12], _text(payload[13:])
    name = ALARM_TYPES[kind] if kind < len(ALARM_TYPES) else f"type {kind}"
    out.warn(f"TIC alarm ({name}) on {label or '?'} = {value or '?'}")
    if label in LABELS and value.isdigit():
        _, quantity, channel, divisor = LABELS[label]
        out.add(quantity, int(value) / divisor, channel)


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if not out.any_port(f_port) or not adeunis.header(payload, out):
        return
    code, status = payload[0], payload[1]
    if code not in (DATA, ALARM) and code not in NO_MEASUREMENT:
        out.unknown(f"frame code {code:#04x} (not a TIC frame)", 0)
        return
    for bit, remark in (
        (READ_ERROR, "TIC read error"),
        (CONFIG_INCONSISTENT, "configuration inconsistency"),
        (adeunis.LOW_BATTERY, "low battery"),
    ):
        if status & bit:
            out.warn(remark)
    if code == ALARM:
        _decode_alarm(payload, out)
    elif code == DATA and out.need(payload, DATA_SIZE, "TIC data frame 0x49"):
        fields = struct.unpack_from(DATA_LAYOUT, payload)
        adco, optarif, isousc, imax, ptec = fields[2], fields[3], fields[5], fields[7], fields[11]
        out.keep("ADCO", _text(adco) or "?")
        out.keep("OPTARIF", _text(optarif) or "?")
        for offset, quantity, channel, divisor in LABELS.values():
            (raw,) = struct.unpack_from(">I", payload, offset)
            if raw != NOT_FOUND:
                out.add(quantity, raw / divisor, channel)
        for label, raw in (("ISOUSC", isousc), ("IMAX", imax)):
            if raw != NOT_FOUND:
                out.keep(label, raw, "A")
        out.keep("PTEC", _text(ptec) or "?")
    elif code in NO_MEASUREMENT:
        adeunis.keep_frame(payload, out)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    def register(key: str, scale: float) -> int:
        value = values.get(key)
        return NOT_FOUND if value is None else round(value * scale)

    hc_option = "energy_kwh:hc" in values or "energy_kwh:hp" in values
    optarif, ptec = (b"HC..", b"HP..") if hc_option else (b"BASE", b"TH..")
    frame = struct.pack(
        DATA_LAYOUT,
        DATA,
        0x00,
        b"012345678901",  # ADCO: a placeholder meter address
        optarif,
        register("energy_kwh:base", 1000),
        45,  # ISOUSC: 45 A subscription
        register("current_a", 1),
        90,  # IMAX
        register("apparent_power_va", 1),
        register("energy_kwh:hc", 1000),
        register("energy_kwh:hp", 1000),
        ptec,
    )
    return PORT, frame


CODEC = Codec(
    id="adeunis/tic-cbe-linky-mono",
    ports=ANY_PORT,
    decode=decode,
    encode=encode,
    fields=(
        Field("energy_kwh:base", 0, 1_000_000, 0.001),
        Field("energy_kwh:hc", 0, 1_000_000, 0.001),
        Field("energy_kwh:hp", 0, 1_000_000, 0.001),
        Field("apparent_power_va", 0, 12_000, 1),
        Field("current_a", 0, 90, 1),
    ),
    summary="Linky/CBE single-phase meter TIC (historic mode): BASE, HC/HP indexes, PAPP, IINST",
)
