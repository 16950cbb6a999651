"""Helpers shared by the envelope parsers: RFC 3339 times, base64, DevEUIs, radio summaries."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ingest.events import EnvelopeError, Radio

_HEX16 = re.compile(r"[0-9a-fA-F]{16}")


def parse_time(value: Any, what: str) -> datetime:
    """RFC 3339 (nanoseconds allowed, ``Z`` or offset) to an aware UTC datetime."""
    if not isinstance(value, str) or not value:
        raise EnvelopeError("bad_time", f"{what} is missing")
    # Python ≥ 3.11 reads RFC 3339 with "Z" and truncates digits beyond the microsecond.
    text = value.strip()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise EnvelopeError("bad_time", f"{what} {value!r} is not an RFC 3339 time") from None
    if t.tzinfo is None:
        raise EnvelopeError("bad_time", f"{what} {value!r} has no time zone")
    return t.astimezone(UTC)


def dev_eui(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX16.fullmatch(value):
        raise EnvelopeError("bad_envelope", f"{where}: DevEUI {value!r} is not 16 hex digits")
    return value.lower()


def b64(value: Any, what: str) -> bytes:
    if value in (None, ""):
        return b""
    if not isinstance(value, str):
        raise EnvelopeError("bad_envelope", f"{what} is not base64 text")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise EnvelopeError("bad_envelope", f"{what} is not valid base64") from None


def radio(receptions: Sequence[tuple[float | None, float | None]], sf: int | None) -> Radio:
    """The best reception (highest SNR, then RSSI) among gateways that heard the uplink."""
    heard = [(snr, rssi) for rssi, snr in receptions if rssi is not None]
    if not heard:
        return Radio(gateway_count=len(receptions), spreading_factor=sf)
    snr, rssi = max(heard, key=lambda h: (h[0] if h[0] is not None else -1e9, h[1]))
    return Radio(rssi_dbm=rssi, snr_db=snr, gateway_count=len(receptions), spreading_factor=sf)


def number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
