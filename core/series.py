"""Series read back from a store, as numpy arrays: ragged (raw points) or gridded (windows)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from core.reading import Reading

NS = 1_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Int64Array = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def to_ns(t: datetime) -> int:
    """Nanoseconds since the Unix epoch, exact (no float rounding) for an aware datetime."""
    d = t - EPOCH
    return (d.days * 86_400 + d.seconds) * NS + d.microseconds * 1000


def from_ns(ns: int) -> datetime:
    """Aware UTC datetime from nanoseconds since the epoch (microsecond resolution)."""
    return datetime.fromtimestamp(ns // 1000 / 1_000_000, UTC).replace(
        microsecond=(ns // 1000) % 1_000_000
    )


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """Identity of one series: device, quantity and channel; sorts with no channel first."""

    device: str
    quantity: str
    channel: str | None

    def __lt__(self, other: SeriesKey) -> bool:
        return (self.device, self.quantity, self.channel or "") < (
            other.device,
            other.quantity,
            other.channel or "",
        )


@dataclass(frozen=True, slots=True)
class SeriesSet:
    """Many raw series in one CSR layout: series i is ``times[offsets[i]:offsets[i + 1]]``.

    ``times`` are int64 nanoseconds UTC, ascending within each series; ``tags`` holds each series'
    registry tags.
    """

    keys: list[SeriesKey]
    tags: list[dict[str, str]]
    offsets: Int64Array
    times: Int64Array
    values: FloatArray

    def __len__(self) -> int:
        return len(self.keys)

    def series(self, i: int) -> tuple[Int64Array, FloatArray]:
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.times[lo:hi], self.values[lo:hi]

    def readings(self) -> Iterator[Reading]:
        for i, key in enumerate(self.keys):
            times, values = self.series(i)
            for t, v in zip(times.tolist(), values.tolist(), strict=True):
                yield Reading(from_ns(t), key.device, key.quantity, v, key.channel)

    @classmethod
    def build(
        cls, parts: dict[SeriesKey, tuple[dict[str, str], list[int], list[float]]]
    ) -> SeriesSet:
        """Assemble from per-series lists, sorting series by key and points by time."""
        keys = sorted(parts)
        lengths = [len(parts[k][1]) for k in keys]
        offsets = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        times = np.empty(int(offsets[-1]), dtype=np.int64)
        values = np.empty(int(offsets[-1]), dtype=np.float64)
        for i, k in enumerate(keys):
            t = np.asarray(parts[k][1], dtype=np.int64)
            v = np.asarray(parts[k][2], dtype=np.float64)
            order = np.argsort(t, kind="stable")
            times[offsets[i] : offsets[i + 1]] = t[order]
            values[offsets[i] : offsets[i + 1]] = v[order]
        return cls(keys, [parts[k][0] for k in keys], offsets, times, values)


@dataclass(frozen=True, slots=True)
class SeriesGrid:
    """Many series on one window grid: ``values[i, j]`` is series i in window j (NaN when empty).

    ``starts`` are the window starts and ``ends`` the window ends, int64 ns UTC; windows of a
    calendar day in Europe/Paris last 23, 24 or 25 hours.
    """

    keys: list[SeriesKey]
    tags: list[dict[str, str]]
    starts: Int64Array
    ends: Int64Array
    values: FloatArray

    def __len__(self) -> int:
        return len(self.keys)

    def row(self, key: SeriesKey) -> FloatArray:
        row: FloatArray = self.values[self.keys.index(key)]
        return row
