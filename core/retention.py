"""Retention: how long each quantity is kept as raw readings, hourly and daily rollups."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum


class Granularity(StrEnum):
    """What a purge deletes: raw readings, or rollup rows of one bucket width."""

    RAW = "raw"
    HOURLY = "hourly"
    DAILY = "daily"


@dataclass(frozen=True, slots=True)
class KeepFor:
    """How long one quantity is kept at each granularity; None: forever.

    A rollup summarises the finer data and answers the same queries once that is gone, so it
    is kept at least as long: daily ≥ hourly ≥ raw (``of`` applies it, whatever was given).
    """

    raw: timedelta | None = None
    hourly: timedelta | None = None
    daily: timedelta | None = None

    def of(self, granularity: Granularity) -> timedelta | None:
        """The retention of ``granularity``, never shorter than a finer granularity's."""
        chain = (self.raw, self.hourly, self.daily)
        longest: timedelta | None = timedelta(0)
        for g, keep in zip(Granularity, chain, strict=True):
            longest = None if keep is None or longest is None else max(longest, keep)
            if g == granularity:
                return longest
        raise AssertionError(granularity)

    @property
    def finite(self) -> bool:
        """Whether anything of the quantity is ever deleted."""
        return self.raw is not None


Retention = Mapping[str, KeepFor]
"""Per quantity; a quantity absent is kept forever at every granularity."""

PurgeCounts = dict[str, dict[Granularity, int]]
"""Per quantity, how many raw readings or rollup rows of each granularity a purge deleted."""


def counted(counts: Mapping[Granularity, int]) -> str:
    """``raw=… hourly=… daily=…``, finest first."""
    return " ".join(f"{g}={counts[g]}" for g in Granularity if g in counts)


def longest(keeps: Iterable[KeepFor]) -> KeepFor:
    """What keeps everything each of ``keeps`` keeps: per granularity, the longest."""
    out: dict[Granularity, timedelta | None] = dict.fromkeys(Granularity, timedelta(0))
    for keep in keeps:
        for g in Granularity:
            span, held = keep.of(g), out[g]
            out[g] = None if span is None or held is None else max(span, held)
    return KeepFor(out[Granularity.RAW], out[Granularity.HOURLY], out[Granularity.DAILY])


def raw_only(days: Mapping[str, timedelta]) -> dict[str, KeepFor]:
    """A raw retention per quantity, rollups kept forever (the settings before purposes)."""
    return {q: KeepFor(raw=keep) for q, keep in days.items()}
