"""One space's state from its sensor's readings: free, occupied or unknown, and since when.

Pure functions over ``occupied`` readings and an injected ``now``. Every reading is evidence
(a status on change, a heartbeat, a startup message: the codecs emit ``occupied`` for all), so
the rules only need the measured times and values:

- order by the reading's measured time, never by arrival: a late older frame lands where it
  belongs and cannot override a newer state; duplicates (same time) count once, and of two
  values measured at the same instant the occupied one wins (promising a space that is taken
  is the worse error);
- a change is shown once it has held ``hold`` (see ``ParkingSettings.hold_s``); one reversed
  within ``hold`` is a flap, suppressed, and does not move the time of the last change;
- silent beyond ``silent_after`` (heartbeat × grace) → unknown, keeping the last known state
  and the time it was heard, so a screen can say "données indisponibles" since when;
- readings measured after ``now`` are not known yet at ``now`` (replays and backtests).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from core.reading import Reading
from core.series import FloatArray

BoolArray = npt.NDArray[np.bool_]

QUANTITY = "occupied"


class SpaceState(StrEnum):
    FREE = "free"
    OCCUPIED = "occupied"
    UNKNOWN = "unknown"


class UnknownReason(StrEnum):
    NO_SENSOR = "no_sensor"  # the registry gives the space no device
    NEVER_HEARD = "never_heard"  # no reading up to now
    SILENT = "silent"  # silent beyond its heartbeat × grace
    FROZEN = "frozen"  # heard, but unchanged implausibly long (see ``frozen``)
    STUCK_FREE = "stuck_free"  # heard, free while the others' cars should have taken it


@dataclass(frozen=True, slots=True)
class Change:
    """A shown change: the measured time the new state began, and whether it is occupied."""

    time: datetime
    occupied: bool


@dataclass(frozen=True, slots=True)
class SpaceStatus:
    """What a screen shows for one space, and the evidence behind it."""

    state: SpaceState
    last_seen: datetime | None  # the newest reading's measured time
    last_change: datetime | None  # when the last known state began (measured time)
    known: SpaceState | None = None  # the last known state, also when ``state`` is unknown
    reason: UnknownReason | None = None  # why unknown
    flaps: int = 0  # changes suppressed because they did not hold


def samples(readings: Iterable[Reading], until: datetime) -> list[tuple[datetime, bool]]:
    """The ``occupied`` readings measured up to ``until``: sorted, one per instant."""
    by_time: dict[datetime, bool] = {}
    for r in readings:
        if r.quantity != QUANTITY or r.time > until:
            continue
        by_time[r.time] = by_time.get(r.time, False) or r.value >= 0.5
    return sorted(by_time.items())


def changes(seq: Sequence[tuple[datetime, bool]], hold: timedelta, now: datetime) -> list[Change]:
    """The shown changes of a sorted sample sequence; the first sample starts the first state."""
    return _fold(seq, hold, now)[0]


def _fold(
    seq: Sequence[tuple[datetime, bool]], hold: timedelta, now: datetime
) -> tuple[list[Change], int]:
    out: list[Change] = []
    flaps = 0
    candidate: Change | None = None  # a reported change not held long enough yet
    for t, occupied in seq:
        if candidate is not None and t - candidate.time >= hold:
            out.append(candidate)
            candidate = None
        if not out:
            out.append(Change(t, occupied))  # nothing shown before: show the first at once
        elif occupied == out[-1].occupied:
            if candidate is not None:
                flaps += 1  # reversed before it held
            candidate = None
        elif candidate is None:
            candidate = Change(t, occupied)
    if candidate is not None and now - candidate.time >= hold:
        out.append(candidate)
    return out, flaps


def space_status(
    readings: Iterable[Reading], now: datetime, silent_after: timedelta, hold: timedelta
) -> SpaceStatus:
    """The state of one space at ``now`` from its sensor's readings (any order, duplicates)."""
    return space_history(readings, now, silent_after, hold)[0]


def space_history(
    readings: Iterable[Reading], now: datetime, silent_after: timedelta, hold: timedelta
) -> tuple[SpaceStatus, list[Change]]:
    """``space_status`` and the shown changes it comes from."""
    seq = samples(readings, now)
    if not seq:
        return SpaceStatus(SpaceState.UNKNOWN, None, None, reason=UnknownReason.NEVER_HEARD), []
    shown, flaps = _fold(seq, hold, now)
    last = shown[-1]
    known = SpaceState.OCCUPIED if last.occupied else SpaceState.FREE
    last_seen = seq[-1][0]
    if now - last_seen > silent_after:
        status = SpaceStatus(
            SpaceState.UNKNOWN, last_seen, last.time, known, UnknownReason.SILENT, flaps
        )
        return status, shown
    return SpaceStatus(known, last_seen, last.time, known, None, flaps), shown


@dataclass(frozen=True)
class Timeline:
    """One space's shown changes and reading times over a window, to ask its state at any instant
    (histories). A change is placed at the time it began, so a history may show it up to
    ``hold`` earlier than a live screen did; the counts are what they were."""

    change_times: tuple[datetime, ...]
    occupied: tuple[bool, ...]
    seen: tuple[datetime, ...]
    silent_after: timedelta

    @classmethod
    def of(
        cls, readings: Iterable[Reading], until: datetime, silent_after: timedelta, hold: timedelta
    ) -> Timeline:
        return cls.of_samples(samples(readings, until), until, silent_after, hold)

    @classmethod
    def of_samples(
        cls,
        seq: Sequence[tuple[datetime, bool]],
        until: datetime,
        silent_after: timedelta,
        hold: timedelta,
    ) -> Timeline:
        """From ``samples``' output (sorted, one per instant, up to ``until``)."""
        shown = changes(seq, hold, until)
        return cls(
            tuple(c.time for c in shown),
            tuple(c.occupied for c in shown),
            tuple(t for t, _ in seq),
            silent_after,
        )

    def state_at(self, at: datetime) -> SpaceState:
        i = bisect_right(self.seen, at)
        if i == 0 or at - self.seen[i - 1] > self.silent_after:
            return SpaceState.UNKNOWN
        j = bisect_right(self.change_times, at)
        if j == 0:
            return SpaceState.UNKNOWN
        return SpaceState.OCCUPIED if self.occupied[j - 1] else SpaceState.FREE

    def states_at(self, at: FloatArray) -> tuple[BoolArray, BoolArray]:
        """``state_at`` for many instants (Unix seconds): whether known, and whether occupied."""
        seen = np.array([t.timestamp() for t in self.seen], dtype=np.float64)
        began = np.array([t.timestamp() for t in self.change_times], dtype=np.float64)
        i = np.searchsorted(seen, at, side="right")
        last = seen[np.maximum(i - 1, 0)] if len(seen) else np.zeros(len(at))
        j = np.searchsorted(began, at, side="right")
        known = (i > 0) & (at - last <= self.silent_after.total_seconds()) & (j > 0)
        occupied = (
            np.array(self.occupied, dtype=bool)[np.maximum(j - 1, 0)] if len(began) else known
        )
        return known, known & occupied
