"""The TimeSeriesStore protocol: what ingest writes to and analytics and the API read from."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, runtime_checkable

from core.reading import Reading
from core.retention import PurgeCounts, Retention
from core.series import SeriesGrid, SeriesSet

Tags = Mapping[str, str]
"""Registry tags of one device (tenant, site, building or area, model), keyed by tag name."""

TAG_KEYS: tuple[str, ...] = ("tenant", "site", "building", "area", "model")
"""The registry tags a series may carry, besides `device` and `channel`."""


class StoreUnavailable(Exception):
    """The store cannot be reached or is overloaded: retry later, nothing was written."""


class StoreError(Exception):
    """The store refused a request that retrying will not fix (bad query, bad credentials)."""


class Agg(StrEnum):
    """Aggregation of the values that fall in one window."""

    MEAN = "mean"
    SUM = "sum"
    MIN = "min"
    MAX = "max"
    COUNT = "count"
    FIRST = "first"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class Rejected:
    """A reading the store refused, with the store's reason."""

    reading: Reading
    reason: str


@dataclass(slots=True)
class WriteResult:
    """Outcome of one write: how many readings are durably stored, and which were refused."""

    accepted: int = 0
    rejected: list[Rejected] = field(default_factory=list)


class AnyChannel(StrEnum):
    """Sentinel for 'every channel' in a selection (None means 'no channel')."""

    ANY = "*"


ANY_CHANNEL = AnyChannel.ANY


@dataclass(frozen=True, slots=True)
class Selection:
    """Which series to read: one quantity, narrowed by devices, channel and registry tags."""

    quantity: str
    devices: frozenset[str] | None = None
    channel: str | AnyChannel | None = ANY_CHANNEL
    where: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(
        cls,
        quantity: str,
        devices: Collection[str] | None = None,
        channel: str | AnyChannel | None = ANY_CHANNEL,
        where: Tags | None = None,
    ) -> Selection:
        """Build a selection, checking tag names so a typo is an error, not an empty result."""
        for key in where or {}:
            if key not in TAG_KEYS:
                raise ValueError(f"unknown tag {key!r}; tags are {', '.join(TAG_KEYS)}")
        return cls(
            quantity=quantity,
            devices=None if devices is None else frozenset(devices),
            channel=channel,
            where=tuple(sorted((where or {}).items())),
        )


class TimeSeriesStore(Protocol):
    """Durable storage of readings, tagged from the registry, read back as numpy series.

    Writing the same device, quantity, channel and time again overwrites: replays are idempotent.
    """

    def write(
        self, readings: Sequence[Reading], tags: Mapping[str, Tags] | None = None
    ) -> WriteResult:
        """Store readings; ``tags`` maps a DevEUI to its registry tags.

        Returns only once accepted readings are durable. Raises StoreUnavailable when the store
        cannot be reached; then nothing of the call is counted as written.
        """
        ...

    def read(self, selection: Selection, start: datetime, end: datetime) -> SeriesSet:
        """Raw points of every selected series in [start, end), ordered by time."""
        ...

    def aggregate(
        self,
        selection: Selection,
        start: datetime,
        end: datetime,
        every: str,
        agg: Agg = Agg.MEAN,
        tz: str = "UTC",
    ) -> SeriesGrid:
        """One value per window and series; day and longer windows follow the calendar of ``tz``."""
        ...

    def latest(
        self, devices: Collection[str] | None = None, quantities: Collection[str] | None = None
    ) -> list[Reading]:
        """The most recent reading of each device, quantity and channel."""
        ...

    def ping(self) -> None:
        """Raise StoreUnavailable unless the store answers, StoreError if it refuses us (bad
        credentials, no such database)."""
        ...

    def close(self) -> None:
        """Release connections; pending writes have already been made durable by ``write``."""
        ...


@runtime_checkable
class RollupStore(Protocol):
    """A store that keeps hourly and daily rollups and can purge raw readings they cover."""

    def refresh_rollups(self, quantity: str | None = None) -> int:
        """Bring the rollups up to date with every reading written; returns hours recomputed."""
        ...

    def purge(self, retention: Retention, now: datetime) -> PurgeCounts:
        """Delete raw readings, hourly and daily rollups older than their quantity's retention
        (rollups by whole local days), never any raw reading a rollup does not cover yet;
        returns how many rows went, per quantity and granularity."""
        ...
