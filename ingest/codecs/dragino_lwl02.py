"""Dragino LWL02: water leak sensor (LDS01/LWL02 firmware family), fPort 10.

Sources: dragino/dragino-end-node-decoder ``LWL02/lds01_02_payload_ttn_v1.5.txt`` and the TTN device
repository ``vendor/dragino/lwl02.js`` / ``lwl02-codec.yaml``. Frame, 10 bytes, big-endian:

====== ====== =====================================================================================
bytes  field  meaning
====== ====== =====================================================================================
0-1    STAT   bit 15 door open (door mode, LDS01), bit 14 water leak, bits 13-0 battery in mV
              → ``battery_v``
2      MOD    1 door mode (an LDS01 frame: no leak state, warning), 2 water leak mode, 3 door +
              leak mode; other values → bad_payload
3-5    TIMES  leak (or door-open) event count, u24: no quantity in the vocabulary, kept
6-8    DUR    last leak (or door-open) duration in minutes, u24: kept
9      ALARM  bit 0: alarm (the event lasted longer than the configured timeout) → warning
====== ====== =====================================================================================

In modes 2 and 3 bit 14 is the leak status → ``leak`` (0/1). "kept" = in the frame's kept-values
warning. A frame of 3 to 9 bytes (the vendor's own example has 7) still carries STAT and MOD:
those are decoded, then the frame is ``truncated``. The fPort (10) is checked: Dragino's frame
types depend on it.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, CodecErrorCode, Emitter, Field

PORT = 10
HEAD, SIZE = 3, 10
LEAK_BIT = 0x4000
MILLIVOLTS_MASK = 0x3FFF
DOOR_MODE, LEAK_MODE, DOOR_AND_LEAK_MODE = 1, 2, 3
ALARM_BIT = 0x01


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port != PORT:
        out.wrong_port(f_port, (PORT,))
        return
    if not out.need(payload, HEAD, "LWL02 status and mode"):
        return
    (status,) = struct.unpack_from(">H", payload)
    mode = payload[2]
    if mode not in (DOOR_MODE, LEAK_MODE, DOOR_AND_LEAK_MODE):
        out.fail(CodecErrorCode.BAD_PAYLOAD, f"working mode {mode} is not documented")
        return
    out.add("battery_v", (status & MILLIVOLTS_MASK) / 1000)
    if mode == DOOR_MODE:
        out.warn("door-sensor mode (MOD=1): the frame carries no leak state")
    else:
        out.add("leak", 1 if status & LEAK_BIT else 0)
    if not out.need(payload, SIZE, "LWL02 frame"):
        return
    event = "door_open" if mode == DOOR_MODE else "leak"
    out.keep(f"{event}_times", int.from_bytes(payload[3:6], "big"))
    out.keep(f"last_{event}_duration", int.from_bytes(payload[6:9], "big"), "min")
    if payload[9] & ALARM_BIT:
        out.warn("alarm: the event lasted longer than the configured timeout")


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A water-leak-mode frame; event count and duration left at zero."""
    status = round(values.get("battery_v", 3.0) * 1000) & MILLIVOLTS_MASK
    if values.get("leak", 0) >= 0.5:
        status |= LEAK_BIT
    return PORT, struct.pack(">HB", status, LEAK_MODE) + bytes(7)


CODEC = Codec(
    id="dragino/lwl02",
    ports=(PORT,),
    decode=decode,
    encode=encode,
    fields=(
        Field("battery_v", 2.0, 3.6, 0.001),
        Field("leak", 0, 1, 1),
    ),
    summary="Water leak sensor",
)
