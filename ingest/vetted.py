"""Readings made on ingest's hot path: checked against the vocabulary table, then built as is.

``Reading`` checks itself field by field, which is most of an uplink's decoding cost (8 readings
a frame). Ingest knows more: the device is a DevEUI the envelope already checked, an event time is
UTC already. ``vetted`` checks what is left — a known quantity, a finite number within its range,
a channel that is None or text, a UTC time — with one table lookup, and builds the reading
without checking it again; anything else goes through ``Reading`` itself, which raises the same
``ReadingError`` it always did. A test holds the two equal over the whole vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from core.quantities import QUANTITIES
from core.reading import Reading

_DEVEUI = re.compile(r"[0-9a-f]{16}")
_RANGE = {key: (q.minimum, q.maximum) for key, q in QUANTITIES.items()}
_new = object.__new__
_set = object.__setattr__


def vetted(
    time: datetime, device: str, quantity: str, value: float, channel: str | None = None
) -> Reading:
    """``Reading(time, device, quantity, value, channel)`` for a ``device`` already known to be a
    lower-case DevEUI; raises ReadingError as it would."""
    bounds = _RANGE.get(quantity)
    if (
        bounds is None
        or type(value) is not float  # an int, a bool, anything else: Reading decides
        or not bounds[0] <= value <= bounds[1]  # also false for NaN; ±inf are out of any range
        or time.tzinfo is not UTC
        or (channel is not None and (type(channel) is not str or not channel))
    ):
        return Reading(time, device, quantity, value, channel)
    r: Reading = _new(Reading)
    _set(r, "time", time)
    _set(r, "device", device)
    _set(r, "quantity", quantity)
    _set(r, "value", value)
    _set(r, "channel", channel)
    return r


Maker = Callable[[datetime, str, str, float, str | None], Reading]


def maker(device: str) -> Maker:
    """How to make the readings of ``device``: ``vetted`` for a DevEUI (checked here, once a
    frame), ``Reading`` for anything else (which refuses it)."""
    return vetted if isinstance(device, str) and _DEVEUI.fullmatch(device) else Reading
