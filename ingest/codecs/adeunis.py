"""Adeunis frames: the status byte and the timestamp every Adeunis product may close a frame with.

Every uplink starts with a frame code (byte 0, one set per product) and a status byte (byte 1);
multi-byte values are big-endian (Adeunis technical reference manuals, "status byte"):

====== ==================================================================================
bits   status byte meaning
====== ==================================================================================
7-5    frame counter (0-7)
4-3    product-specific alarms (e.g. TIC read error, configuration inconsistency)
2      timestamp present: the frame carries a u32, seconds since 2013-01-01T00:00Z
1      low battery
0      configuration done
====== ==================================================================================

The frame code, not the fPort, tells the frames apart (Adeunis' decoders ignore the port; the
products send on 1 by default): any application fPort is accepted. Frames without a measurement
(configuration, version, answers) are kept in the frame's kept-values warning as hex.
"""

from __future__ import annotations

import struct
from datetime import UTC, datetime, timedelta

from ingest.codecs.base import Emitter

HEADER_SIZE = 2  # frame code, status byte
TIMESTAMP_FLAG = 0x04
LOW_BATTERY = 0x02
TIMESTAMP_SIZE = 4
EPOCH = datetime(2013, 1, 1, tzinfo=UTC)  # Adeunis timestamps count seconds from here


def timestamp_size(status: int) -> int:
    """How many bytes the frame's timestamp takes: 4 when the status byte flags one, else 0."""
    return TIMESTAMP_SIZE if status & TIMESTAMP_FLAG else 0


def timestamp(payload: bytes, offset: int) -> datetime:
    (seconds,) = struct.unpack_from(">I", payload, offset)
    return EPOCH + timedelta(seconds=seconds)


def closing_time(payload: bytes, out: Emitter) -> datetime:
    """The timestamp closing the frame when the status byte flags one, else the receive time."""
    size = timestamp_size(payload[1])
    return timestamp(payload, len(payload) - size) if size else out.received_at


FRAMES = {
    0x10: "product configuration",
    0x11: "product configuration",
    0x12: "product configuration",
    0x1F: "digital input configuration",
    0x20: "network configuration",
    0x30: "keep alive",
    0x33: "register-set answer",
    0x37: "software version",
    0x51: "digital input 1 alarm",
    0x52: "digital input 2 alarm",
}


def keep_frame(payload: bytes, out: Emitter, name: str = "") -> None:
    """A frame with no measurement: its bytes after the status byte, kept as hex."""
    what = name or FRAMES.get(payload[0], "no measurement")
    out.keep(f"frame {payload[0]:#04x} ({what})", payload[HEADER_SIZE:].hex() or "-")


def header(payload: bytes, out: Emitter) -> bool:
    """True when ``payload`` holds a frame code and a status byte, else record a truncation."""
    return out.need(payload, HEADER_SIZE, "frame code and status byte")
