"""Bosch Parking Lot Sensor TPS110: the fPort names the message (Bosch "Parking Lot Sensor
Communication Interface - Technical Description", and Bosch's decoder ``tpl110-0292.js`` with
its examples, firmware 0.29.2, in the TTN device repository ``vendor/bosch``).

===== ==================== ==============================================================
port  message              bytes
===== ==================== ==============================================================
1     parking status       0: bit 0 occupied (1) / free (0)                  → ``occupied``
2     heartbeat            0: bit 0 occupied                                  → ``occupied``
                           1 (when present): temperature, s8, °C          → ``temperature_c``
3     startup (17 B)       0-11 three debug codes, 4 B each (12-bit code in the low nibble
                           of byte 1 and byte 0, little-endian), 12-14 firmware
                           major.minor.patch, 15 reset cause (1 watchdog, 2 power on,
                           3 system request, 4 other), 16: bit 0 occupied   → ``occupied``
4     device information   no reading, kept as hex
5     device usage         no reading, kept as hex
6     debug                timestamp, debug code, sequence number: no reading, kept as hex
===== ==================== ==============================================================

The heartbeat's temperature byte is optional (Bosch's decoder reads it only when the frame has
two bytes). The startup message carries the current parking state, so it is emitted; its debug
codes, firmware and reset cause are diagnostics with no quantity, kept (in the frame's
kept-values warning). The fPort names the message, so it is checked.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, Emitter, Field

STATUS, HEARTBEAT, STARTUP, INFORMATION, USAGE, DEBUG = 1, 2, 3, 4, 5, 6
PORTS = (STATUS, HEARTBEAT, STARTUP, INFORMATION, USAGE, DEBUG)
STARTUP_SIZE = 17
STARTUP_STATE = 16
MESSAGES = {INFORMATION: "device information", USAGE: "device usage", DEBUG: "debug"}


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port == STATUS:
        if out.need(payload, 1, "parking status"):
            out.add("occupied", payload[0] & 1)
    elif f_port == HEARTBEAT:
        if not out.need(payload, 1, "heartbeat"):
            return
        out.add("occupied", payload[0] & 1)
        if len(payload) >= 2:
            out.add("temperature_c", struct.unpack_from(">b", payload, 1)[0])
    elif f_port == STARTUP:
        if out.need(payload, STARTUP_SIZE, "startup"):
            out.keep("debug_codes", payload[:12].hex())
            out.keep("firmware", ".".join(map(str, payload[12:15])))
            out.keep("reset_cause", payload[15])
            out.add("occupied", payload[STARTUP_STATE] & 1)
    elif f_port in (INFORMATION, USAGE, DEBUG):
        out.keep(MESSAGES[f_port], payload.hex() or "-")
    else:
        out.wrong_port(f_port, PORTS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A heartbeat: parking state and temperature."""
    return HEARTBEAT, struct.pack(">Bb", round(values["occupied"]), round(values["temperature_c"]))


CODEC = Codec(
    id="bosch/tps110",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("occupied", 0, 1, 1),
        Field("temperature_c", -30, 65, 1),
    ),
    summary="Parking space occupancy; heartbeat with temperature",
)
