"""Time as a dependency: the system clock, a manual clock for tests, a faster one for demos."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: deterministic tests never sleep."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta

    def set(self, when: datetime) -> None:
        self._now = when.astimezone(UTC)


class ScaledClock:
    """A clock that runs ``speed`` times faster than the machine's from ``origin`` (default: now).

    The demo lives its simulated territory in accelerated time: a day of readings, alerts and
    buses passes in minutes, and every part reads this one clock, so they agree on what now is.
    """

    def __init__(self, speed: float, origin: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError("ScaledClock needs a positive speed")
        if origin is not None and origin.tzinfo is None:
            raise ValueError("ScaledClock needs a timezone-aware origin")
        self.speed = speed
        self._origin = (origin or datetime.now(UTC)).astimezone(UTC)
        self._began = time.monotonic()

    def now(self) -> datetime:
        return self._origin + timedelta(seconds=(time.monotonic() - self._began) * self.speed)
