"""The contract between the physical models and the engine: what each device would measure.

Physics modules (weather, buildings, water, parking, rivers) compute, for a whole run, the true
value of every quantity every device observes, on a regular grid, as numpy arrays — so that a
sector's inflow really is its households' consumption plus losses. The engine samples these at
each device's reporting instants, encodes them with the device's codec, and applies the radio and
the injected faults. Keys are codec field keys: ``quantity`` or ``quantity:channel``.

Faults that change what is physically true (a leak, heating left on) are in the truths; faults of
the device or the network (a stuck or silent sensor, a lost frame) are the engine's. Both are
written to the ground-truth file as ``Fault`` records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Truth:
    """True values of one device's quantities, every ``step`` from ``start``.

    Cumulative quantities (``volume_m3``, ``energy_kwh``, ``pulse_count``) are indexes, ready to
    be read at any instant. ``on_change`` marks devices that report when a value changes (parking
    spaces, leak probes) besides their periodic heartbeat.
    """

    start: datetime
    step: timedelta
    values: dict[str, FloatArray]
    on_change: bool = False

    def __post_init__(self) -> None:
        lengths = {len(v) for v in self.values.values()}
        if len(lengths) > 1:
            raise ValueError(f"truth arrays differ in length: {sorted(lengths)}")

    @property
    def steps(self) -> int:
        return len(next(iter(self.values.values()))) if self.values else 0

    def index(self, t: datetime) -> int:
        """The grid step holding instant ``t`` (clamped to the run)."""
        i = int((t - self.start) / self.step)
        return min(max(i, 0), self.steps - 1)

    def at(self, t: datetime) -> dict[str, float]:
        i = self.index(t)
        return {k: float(v[i]) for k, v in self.values.items()}


@dataclass(frozen=True, slots=True)
class Fault:
    """One injected fault, as the ground-truth file records it."""

    kind: str  # household_leak, sector_leak, burst, heating_on_holiday, stuck_sensor, …
    subject: str  # a DevEUI, building code, sector code, station code or space code
    start: datetime
    end: datetime | None
    magnitude: float | None = None  # e.g. leak flow in L/h, setpoint excess in °C
    unit: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
