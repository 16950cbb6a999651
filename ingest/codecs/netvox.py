"""Netvox reports: the 11-byte report header, the battery byte and the command responses.

A data report (fPort 6 on the devices here) is 11 bytes, big-endian (Netvox user manuals,
"Example of ReportDataCmd"):

====== ==========================================================================
bytes  meaning
====== ==========================================================================
0      version (0x01)
1      device type (one per model)
2      report type: 0x00 version packet (software version byte 3 ÷ 10, hardware version
       byte 4, date code bytes 5-8 in BCD: kept); the model defines the others
3      in data reports, battery: bits 6-0 in 0.1 V → ``battery_v``; bit 7 = low battery
       (a warning)
4-10   the model's data
====== ==========================================================================

A command response (fPort 7) starts with its command id (0x81 and up) and the device type; its
bytes are kept as hex. "kept" = in the frame's kept-values warning (no quantity). Reports and
responses share their first bytes' layout but not their meaning: the fPort is checked.
"""

from __future__ import annotations

from collections.abc import Collection

from ingest.codecs.base import CodecErrorCode, Emitter

SIZE = 11
VERSION = 0x01
VERSION_REPORT = 0x00
LOW_BATTERY = 0x80
VOLTS = 0x7F  # battery byte bits 6-0, 0.1 V


def report_type(payload: bytes, out: Emitter, device_type: int, model: str) -> int | None:
    """The report type of a ``model`` report; None (with an error recorded) for a bad one."""
    if not out.need(payload, SIZE, f"{model} report"):
        return None
    if payload[1] != device_type:
        out.fail(
            CodecErrorCode.BAD_PAYLOAD,
            f"device type {payload[1]:#04x} is not {model} ({device_type:#04x})",
        )
        return None
    if payload[2] == VERSION_REPORT:
        version = f"software {payload[3] / 10:g}, hardware {payload[4]}, date {payload[5:9].hex()}"
        out.keep("version report", version)
    return payload[2]


def battery(byte: int, out: Emitter) -> None:
    out.add("battery_v", (byte & VOLTS) / 10)
    if byte & LOW_BATTERY:
        out.warn("low battery")


def header(device_type: int, report: int, battery_v: float) -> bytes:
    """Bytes 0-3 of a data report: version, device type, report type, battery (flag clear)."""
    return bytes((VERSION, device_type, report, round(battery_v * 10) & VOLTS))


def command_response(payload: bytes, out: Emitter, responses: Collection[int]) -> None:
    """A command response: nothing to store, kept as hex; an unknown command id is unknown."""
    if not out.need(payload, 2, "command response"):
        return
    if payload[0] not in responses:
        out.unknown(f"command {payload[0]:#04x} (not a response)", 0)
    else:
        out.keep(f"command response {payload[0]:#04x}", payload[2:].hex())
