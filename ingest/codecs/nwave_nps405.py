"""Nwave NPS405 parking sensor (4th-generation Nwave LoRaWAN parking sensor): the fPort names
the message (Nwave "LoRaWAN Parking Sensor - Getting Started", section 4.2, and Nwave's decoder
``nps405.js`` in the TTN device repository ``vendor/nwave``).

===== ======================= ===========================================================
port  message                 bytes
===== ======================= ===========================================================
1     parking status          0: bit 0 occupied (1) / free (0)               → ``occupied``
                              bits 7-1 compressed duration of the previous state (1)
2     heartbeat (24 h)        0: bit 0 occupied                              → ``occupied``
                                 bits 7-1 hardware health, 0 = ok (else a warning) (2)
                              1: battery = 2500 + 4 · u8 mV                  → ``battery_v``
                              2: temperature = s8 / 2 + 10 °C                → ``temperature_c``
                              (later bytes are not documented and are ignored)
3     startup                 0-2 firmware major.minor.patch, 3 reset cause,
                              4: bit 0 occupied                              → ``occupied``
6     debug                   vendor diagnostics: no reading, kept as hex
10    SDI tag registration    0: bit 0 set = occupied (bits 7-1 as port 1) → ``occupied = 1``;
                              bit 0 clear: no parking state in the message; then tag data
===== ======================= ===========================================================

(1) The previous state's duration (minutes, 0-89 exact, then 5-minute and 1-hour steps, 127 =
overflow) could date the previous change, but only to within an hour and only for a state the
previous status message already reported: it is kept (raw code), not emitted. (2) Nwave's
decoder masks the hardware health with 0x7F, which overlaps the occupancy bit; bits 7-1 are read
here. The startup message carries the current parking state, so it is emitted too; its firmware
and reset cause are kept, as are the tag data of a registration. "kept" = in the frame's
kept-values warning. Later heartbeat bytes are not documented: ignored. The fPort names the
message, so it is checked.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, Emitter, Field

STATUS, HEARTBEAT, STARTUP, DEBUG, REGISTRATION = 1, 2, 3, 6, 10
PORTS = (STATUS, HEARTBEAT, STARTUP, DEBUG, REGISTRATION)
HEARTBEAT_SIZE = 3
STARTUP_SIZE = 5
BATTERY_BASE_MV = 2500
BATTERY_STEP_MV = 4
TEMPERATURE_OFFSET_C = 10


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port == STATUS:
        if out.need(payload, 1, "parking status"):
            out.add("occupied", payload[0] & 1)
            out.keep("previous_state_duration", payload[0] >> 1, "compressed minutes code")
    elif f_port == HEARTBEAT:
        if not out.need(payload, HEARTBEAT_SIZE, "heartbeat"):
            return
        state, battery, temp = struct.unpack_from(">BBb", payload)
        out.add("occupied", state & 1)
        if state >> 1:
            out.warn(f"hardware health status {state >> 1:#04x} (not 0)")
        out.add("battery_v", (BATTERY_BASE_MV + BATTERY_STEP_MV * battery) / 1000)
        out.add("temperature_c", temp / 2 + TEMPERATURE_OFFSET_C)
    elif f_port == STARTUP:
        if out.need(payload, STARTUP_SIZE, "startup"):
            out.keep("firmware", ".".join(map(str, payload[:3])))
            out.keep("reset_cause", payload[3])
            out.add("occupied", payload[4] & 1)
    elif f_port == REGISTRATION:
        if out.need(payload, 1, "tag registration"):
            if payload[0] & 1:
                out.add("occupied", 1)
            out.keep("tag", payload[1:].hex() or "-")
    elif f_port == DEBUG:
        out.keep("debug", payload.hex() or "-")
    else:
        out.wrong_port(f_port, PORTS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """The daily heartbeat: parking state, hardware ok, battery and temperature."""
    battery = round((values["battery_v"] * 1000 - BATTERY_BASE_MV) / BATTERY_STEP_MV)
    temp = round((values["temperature_c"] - TEMPERATURE_OFFSET_C) * 2)
    return HEARTBEAT, struct.pack(">BBb", round(values["occupied"]), battery, temp)


CODEC = Codec(
    id="nwave/nps405",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(
        Field("occupied", 0, 1, 1),
        Field("battery_v", 2.5, 3.52, 0.004),
        Field("temperature_c", -40, 70, 0.5),
    ),
    summary="Parking space occupancy; daily heartbeat with battery and temperature",
)
