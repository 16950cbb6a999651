"""Flood vigilance colours per station: thresholds with hysteresis, as nested episodes.

Each threshold (yellow, orange, red, in metres in the gauge datum) is tracked on its own:

- it is *entered* when the level is at or above the threshold for ``enter_readings`` consecutive
  readings spanning at least ``enter_s`` (set one of them to 1 / 0 to use only the other);
- it is *left* only when the level stays below ``threshold − margin`` for ``exit_s``, the margin
  being the larger of ``hysteresis_m`` and ``hysteresis_fraction`` × threshold. A level hovering
  at the threshold therefore gives one episode, not one per crossing.

Readings in the band ``[threshold − margin, threshold)`` neither enter nor leave. Since the
thresholds ascend, the episodes nest: a red episode lies inside an orange one, itself inside a
yellow one; the station's colour is the highest active one. Faulty readings (NaN, from the
guard) are skipped. The state carries everything between calls, so feeding a series in pieces
gives the same episodes as feeding it whole.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np

from analytics.findings import Severity
from core.series import FloatArray, Int64Array, from_ns

NS_PER_S = 1_000_000_000


class Colour(StrEnum):
    """Vigicrues colours (vert, jaune, orange, rouge)."""

    GREEN = "green"
    YELLOW = "yellow"
    ORANGE = "orange"
    RED = "red"

    @property
    def rank(self) -> int:
        return list(Colour).index(self)

    @property
    def severity(self) -> Severity | None:
        """Alert severity of the colour: yellow warns, orange and red are critical."""
        return _SEVERITY[self]


_SEVERITY = {
    Colour.GREEN: None,
    Colour.YELLOW: Severity.WARNING,
    Colour.ORANGE: Severity.CRITICAL,
    Colour.RED: Severity.CRITICAL,
}
LEVELS = (Colour.YELLOW, Colour.ORANGE, Colour.RED)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Vigilance thresholds of one station, metres in the gauge datum, ascending."""

    yellow_m: float
    orange_m: float
    red_m: float

    def __post_init__(self) -> None:
        if not self.yellow_m < self.orange_m < self.red_m:
            raise ValueError(
                f"thresholds must ascend: yellow {self.yellow_m} < orange {self.orange_m} "
                f"< red {self.red_m}"
            )

    def of(self, colour: Colour) -> float:
        return {
            Colour.YELLOW: self.yellow_m,
            Colour.ORANGE: self.orange_m,
            Colour.RED: self.red_m,
        }[colour]

    @classmethod
    def from_parameters(cls, parameters: Mapping[str, Any]) -> Thresholds:
        """From a level sensor's registry parameters: ``vigilance_m = {yellow, orange, red}``."""
        raw = parameters.get("vigilance_m")
        if not isinstance(raw, Mapping):
            raise ValueError("registry parameters have no vigilance_m {yellow, orange, red}")
        try:
            return cls(float(raw["yellow"]), float(raw["orange"]), float(raw["red"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad vigilance_m {raw!r}: {exc}") from exc


@dataclass(frozen=True, slots=True)
class VigilanceParams:
    enter_readings: int = 3
    enter_s: float = 0.0
    hysteresis_m: float = 0.05
    hysteresis_fraction: float = 0.0
    exit_s: float = 3600.0

    def margin_m(self, threshold_m: float) -> float:
        return max(self.hysteresis_m, self.hysteresis_fraction * abs(threshold_m))


@dataclass(frozen=True, slots=True)
class VigilanceEpisode:
    """A stretch at or above one colour. ``start``: first reading of the entering run;
    ``confirmed_at``: when it was long enough; ``end``: first reading of the leaving run (None
    while it lasts); ``cleared_at``: when that run was long enough."""

    colour: Colour
    threshold_m: float
    start: datetime
    confirmed_at: datetime
    peak_m: float
    peak_at: datetime
    end: datetime | None
    cleared_at: datetime | None


@dataclass(slots=True)
class ColourTrack:
    """One threshold's state machine (serialisable)."""

    active: bool = False
    start_ns: int = 0
    confirmed_ns: int = 0
    peak_m: float = 0.0
    peak_ns: int = 0
    run_start_ns: int | None = None  # candidate run: entering when inactive, leaving when active
    run_count: int = 0
    run_peak_m: float = 0.0
    run_peak_ns: int = 0

    def episode(
        self, colour: Colour, threshold_m: float, end: int | None, cleared: int | None
    ) -> VigilanceEpisode:
        return VigilanceEpisode(
            colour,
            threshold_m,
            from_ns(self.start_ns),
            from_ns(self.confirmed_ns),
            self.peak_m,
            from_ns(self.peak_ns),
            None if end is None else from_ns(end),
            None if cleared is None else from_ns(cleared),
        )


@dataclass(slots=True)
class VigilanceState:
    tracks: dict[str, ColourTrack] = field(
        default_factory=lambda: {c.value: ColourTrack() for c in LEVELS}
    )

    @property
    def colour(self) -> Colour:
        active = [Colour(c) for c, tr in self.tracks.items() if tr.active]
        return max(active, key=lambda c: c.rank, default=Colour.GREEN)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> VigilanceState:
        return cls({c: ColourTrack(**t) for c, t in data["tracks"].items()})


@dataclass(frozen=True, slots=True)
class VigilanceResult:
    """Episodes closed by this call (by end), then those still open (by colour)."""

    episodes: list[VigilanceEpisode]
    state: VigilanceState


def _step(
    tr: ColourTrack, threshold_m: float, margin_m: float, p: VigilanceParams, t: int, x: float
) -> tuple[int, int] | None:
    """Feed one reading; returns (end, cleared) when the episode closes."""
    if not tr.active:
        if x < threshold_m:
            tr.run_start_ns, tr.run_count = None, 0
            return None
        if tr.run_start_ns is None:
            tr.run_start_ns, tr.run_count, tr.run_peak_m, tr.run_peak_ns = t, 0, x, t
        tr.run_count += 1
        if x > tr.run_peak_m:
            tr.run_peak_m, tr.run_peak_ns = x, t
        if tr.run_count >= p.enter_readings and t - tr.run_start_ns >= p.enter_s * NS_PER_S:
            tr.active, tr.start_ns, tr.confirmed_ns = True, tr.run_start_ns, t
            tr.peak_m, tr.peak_ns = tr.run_peak_m, tr.run_peak_ns
            tr.run_start_ns, tr.run_count = None, 0
        return None
    if x > tr.peak_m:
        tr.peak_m, tr.peak_ns = x, t
    if x >= threshold_m - margin_m:
        tr.run_start_ns, tr.run_count = None, 0
        return None
    if tr.run_start_ns is None:
        tr.run_start_ns, tr.run_count = t, 0
    tr.run_count += 1
    if t - tr.run_start_ns >= p.exit_s * NS_PER_S:
        return tr.run_start_ns, t
    return None


def track_vigilance(
    times_ns: Int64Array,
    level_m: FloatArray,
    thresholds: Thresholds,
    params: VigilanceParams | None = None,
    state: VigilanceState | None = None,
) -> VigilanceResult:
    """Follow the station's colours over cleaned readings (ascending, NaN = faulty) received
    since ``state``; the given state is not modified."""
    p = params or VigilanceParams()
    st = copy.deepcopy(state) if state else VigilanceState()
    closed: list[VigilanceEpisode] = []
    times = np.asarray(times_ns, dtype=np.int64).tolist()
    levels = np.asarray(level_m, dtype=np.float64).tolist()
    levels_m = [(c, thresholds.of(c), p.margin_m(thresholds.of(c))) for c in LEVELS]
    for t, x in zip(times, levels, strict=True):
        if x != x:  # NaN: a faulty reading, masked by the guard
            continue
        for colour, threshold, margin in levels_m:
            tr = st.tracks[colour.value]
            ended = _step(tr, threshold, margin, p, t, x)
            if ended is not None:
                closed.append(tr.episode(colour, threshold, *ended))
                st.tracks[colour.value] = ColourTrack()
    still = [
        tr.episode(c, thresholds.of(c), None, None)
        for c in LEVELS
        if (tr := st.tracks[c.value]).active
    ]
    return VigilanceResult(closed + still, st)
