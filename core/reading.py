"""The one record that crosses every boundary: a validated, UTC-timed value of one quantity."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from core.quantities import QUANTITIES

_DEVEUI = re.compile(r"[0-9a-f]{16}")


class ReadingError(ValueError):
    """A reading that cannot exist; names the field, the value and why."""

    def __init__(self, field: str, value: object, reason: str) -> None:
        super().__init__(f"{field}={value!r}: {reason}")
        self.field = field
        self.value = value
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one quantity of one device at one instant.

    ``time`` is timezone-aware and normalised to UTC; ``device`` is the DevEUI in lower-case hex;
    ``channel`` tells apart several values of the same quantity on one device (tariff register,
    phase, probe) and is None when the device has only one.
    """

    time: datetime
    device: str
    quantity: str
    value: float
    channel: str | None = None

    def __post_init__(self) -> None:
        t = self.time
        if not isinstance(t, datetime) or t.tzinfo is None or t.utcoffset() is None:
            raise ReadingError("time", t, "must be a timezone-aware datetime")
        if t.tzinfo is not UTC:
            object.__setattr__(self, "time", t.astimezone(UTC))
        if not isinstance(self.device, str) or not _DEVEUI.fullmatch(self.device):
            raise ReadingError("device", self.device, "must be a DevEUI: 16 lower-case hex digits")
        q = QUANTITIES.get(self.quantity)
        if q is None:
            raise ReadingError("quantity", self.quantity, "is not in the quantity vocabulary")
        v = self.value
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ReadingError("value", v, f"must be a number for {q.key}")
        if not math.isfinite(v):
            raise ReadingError("value", v, f"must be finite for {q.key}")
        if not q.minimum <= v <= q.maximum:
            raise ReadingError(
                "value", v, f"out of range for {q.key}: [{q.minimum:g}, {q.maximum:g}] {q.unit}"
            )
        if type(v) is not float:
            # TTS sends integers where ChirpStack sends floats: one type downstream.
            object.__setattr__(self, "value", float(v))
        if self.channel is not None and (not isinstance(self.channel, str) or not self.channel):
            raise ReadingError("channel", self.channel, "must be a non-empty string or None")
