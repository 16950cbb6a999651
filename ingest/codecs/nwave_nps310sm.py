"""Nwave NPS310 surface-mount parking sensor (3rd-generation Nwave LoRaWAN parking sensor): the
fPort names the message (Nwave's decoder ``nps310sm.js`` and its examples in the TTN device
repository ``vendor/nwave``; message layout as in Nwave's "LoRaWAN Parking Sensor" guide).

===== ================= =================================================================
port  message           bytes
===== ================= =================================================================
1     parking status    0: bit 0 occupied (1) / free (0)                     → ``occupied``
2     heartbeat         0: bit 0 occupied                                     → ``occupied``
3     startup           0-2 firmware major.minor.patch, 3 reset cause (1 watchdog, 2 power
                        on, 3 user request, 4 brownout, 5 other), 4: bit 0 occupied
                                                                              → ``occupied``
6     debug             vendor diagnostics: no reading, kept as hex
===== ================= =================================================================

Differences from the NPS405 (``nwave_nps405``), per Nwave's NPS310 decoder: the parking status
carries no previous-state duration, the heartbeat carries no battery voltage or temperature,
the reset-cause table differs and there is no SDI tag registration (port 10). The other bits of
byte 0 are not documented for this model and are ignored. The startup message carries the
current parking state, so it is emitted too; its firmware and reset cause are kept (in the
frame's kept-values warning). The fPort names the message, so it is checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ingest.codecs.base import Codec, Emitter, Field

STATUS, HEARTBEAT, STARTUP, DEBUG = 1, 2, 3, 6
PORTS = (STATUS, HEARTBEAT, STARTUP, DEBUG)
STARTUP_SIZE = 5


def decode(f_port: int, payload: bytes, out: Emitter) -> None:
    if f_port in (STATUS, HEARTBEAT):
        what = "parking status" if f_port == STATUS else "heartbeat"
        if out.need(payload, 1, what):
            out.add("occupied", payload[0] & 1)
    elif f_port == STARTUP:
        if out.need(payload, STARTUP_SIZE, "startup"):
            out.keep("firmware", ".".join(map(str, payload[:3])))
            out.keep("reset_cause", payload[3])
            out.add("occupied", payload[4] & 1)
    elif f_port == DEBUG:
        out.keep("debug", payload.hex() or "-")
    else:
        out.wrong_port(f_port, PORTS)


def encode(values: Mapping[str, float], at: datetime) -> tuple[int, bytes]:
    """A parking status message (sent on every change of state)."""
    return STATUS, bytes([round(values["occupied"]) & 1])


CODEC = Codec(
    id="nwave/nps310sm",
    ports=PORTS,
    decode=decode,
    encode=encode,
    fields=(Field("occupied", 0, 1, 1),),
    summary="Parking space occupancy (surface mount)",
)
