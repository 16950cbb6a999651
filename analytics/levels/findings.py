"""Level episodes as findings and clearances for the alert engine, computed incrementally.

Per station, the readings since the last run go through the guard, then the vigilance and the
rise trackers, each resuming from the station's state; the run returns what the alert engine
must hear, in time order, and the new state:

- ``river_vigilance`` (one alert from entering yellow to leaving it): a finding when a colour is
  entered (warning for yellow, critical for orange and red), when a colour is left for a lower
  one, and at the last reading of the run while it lasts; a clearance when yellow is left.
- ``river_rise``: a finding when a rapid rise is confirmed and at the last reading while it
  lasts; a closing finding (maximum rate) and a clearance when it ends.
- ``level_sensor_fault``: a finding per fault episode (and for one still going, at the last
  reading); a clearance at the first good reading ``fault_quiet_s`` after the last faulty one.

Runs over consecutive pieces of a series leave the alerts exactly as one run over the whole
series: the trackers carry their state, and only the last-reading findings differ in number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from analytics.findings import Clearance, Finding, SubjectKind
from analytics.levels.guard import FaultEpisode, GuardParams, GuardResult, GuardState, guard_levels
from analytics.levels.rise import RiseParams, RiseResult, RiseState, track_rise
from analytics.levels.vigilance import (
    LEVELS,
    Colour,
    Thresholds,
    VigilanceEpisode,
    VigilanceParams,
    VigilanceResult,
    VigilanceState,
    track_vigilance,
)
from core.series import FloatArray, Int64Array, SeriesSet, from_ns, to_ns

QUANTITY = "water_level_m"
NS_PER_S = 1_000_000_000
VIGILANCE, RISE, FAULT = "river_vigilance", "river_rise", "level_sensor_fault"
# Order of events at the same instant: entering, then leaving, then clearances, then the
# end-of-run findings.
_ENTER, _LEAVE, _CLEAR, _LAST = 0, 1, 2, 3

Event = Finding | Clearance


@dataclass(frozen=True, slots=True)
class StationConfig:
    """One station: its identity for alerts, its thresholds and the tuning of each check."""

    code: str
    tenant: str
    thresholds: Thresholds
    device: str | None = None  # DevEUI of the level sensor, for the evidence
    guard: GuardParams = field(default_factory=GuardParams)
    vigilance: VigilanceParams = field(default_factory=VigilanceParams)
    rise: RiseParams = field(default_factory=RiseParams)
    fault_quiet_s: float = 6 * 3600.0

    @classmethod
    def from_registry(
        cls,
        code: str,
        tenant: str,
        parameters: Mapping[str, Any],
        device: str | None = None,
        **overrides: Any,
    ) -> StationConfig:
        """From the level sensor's registry parameters: ``vigilance_m`` gives the thresholds,
        ``reference_height_m`` the highest level the sensor can see, ``stuck_h`` how long an
        unchanged reading is credible (a groundwater level may hold for days; 12 h otherwise)."""
        stuck_h = parameters.get("stuck_h")
        stuck_s = GuardParams().stuck_s if stuck_h is None else float(stuck_h) * 3600.0
        reference = parameters.get("reference_height_m")
        if reference is not None:
            guard = GuardParams.for_sensor(float(reference), stuck_s=stuck_s)
        else:
            guard = GuardParams(stuck_s=stuck_s)
        overrides.setdefault("guard", guard)
        return cls(code, tenant, Thresholds.from_parameters(parameters), device, **overrides)


@dataclass(slots=True)
class StationState:
    """Everything a station's next run needs (serialisable via :meth:`to_dict`)."""

    guard: GuardState = field(default_factory=GuardState)
    vigilance: VigilanceState = field(default_factory=VigilanceState)
    rise: RiseState = field(default_factory=RiseState)
    fault_since_ns: int | None = None  # the open sensor-fault alert's start
    fault_last_ns: int | None = None  # its last faulty reading

    @property
    def colour(self) -> Colour:
        return self.vigilance.colour

    def to_dict(self) -> dict[str, Any]:
        return {
            "guard": self.guard.to_dict(),
            "vigilance": self.vigilance.to_dict(),
            "rise": self.rise.to_dict(),
            "fault_since_ns": self.fault_since_ns,
            "fault_last_ns": self.fault_last_ns,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StationState:
        return cls(
            GuardState.from_dict(data["guard"]),
            VigilanceState.from_dict(data["vigilance"]),
            RiseState.from_dict(data["rise"]),
            data.get("fault_since_ns"),
            data.get("fault_last_ns"),
        )


@dataclass(slots=True)
class LevelsState:
    """The states of all stations, by station code."""

    stations: dict[str, StationState] = field(default_factory=dict)

    def colour(self, code: str) -> Colour:
        st = self.stations.get(code)
        return Colour.GREEN if st is None else st.colour

    def to_dict(self) -> dict[str, Any]:
        return {code: st.to_dict() for code, st in sorted(self.stations.items())}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LevelsState:
        return cls({code: StationState.from_dict(st) for code, st in data.items()})


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


class _Run:
    """Builds one station's events for one run."""

    def __init__(self, config: StationConfig, g: GuardResult, state: StationState) -> None:
        self.c = config
        self.g = g
        self.state = state
        self.events: list[tuple[int, int, Event]] = []
        self.first_ns = int(g.times_ns[0]) if len(g.times_ns) else None
        good = np.flatnonzero(~np.isnan(g.level_m))
        self.last_ns = int(g.times_ns[-1]) if len(g.times_ns) else None
        self.last_level_m = float(g.level_m[good[-1]]) if len(good) else None

    def _in_run(self, t: datetime) -> bool:
        return self.first_ns is not None and to_ns(t) >= self.first_ns

    def _level_at(self, t: datetime) -> float:
        i = int(np.searchsorted(self.g.times_ns, to_ns(t)))
        return float(self.g.raw_m[i])

    def _evidence(self, values: Mapping[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in values.items() if v is not None}
        if self.c.device is not None:
            out["series"] = {"device": self.c.device, "quantity": QUANTITY}
        return out

    def _finding(
        self,
        type_: str,
        order: int,
        since: datetime,
        at: datetime,
        evidence: Mapping[str, Any],
        tone: Colour | None = None,
    ) -> None:
        finding = Finding(
            type_,
            self.c.tenant,
            SubjectKind.STATION,
            self.c.code,
            since,
            at,
            severity=None if tone is None else tone.severity,
            evidence=self._evidence(evidence),
        )
        self.events.append((to_ns(at), order, finding))

    def _clearance(self, type_: str, at: datetime) -> None:
        clearance = Clearance(type_, self.c.tenant, SubjectKind.STATION, self.c.code, at)
        self.events.append((to_ns(at), _CLEAR, clearance))

    def vigilance(self, v: VigilanceResult) -> None:
        yellows = [e for e in v.episodes if e.colour is Colour.YELLOW]

        def outer(e: VigilanceEpisode) -> VigilanceEpisode:
            # Episodes nest, so the yellow one around e is among those reported with it.
            return next(
                y for y in yellows if y.start <= e.start and (y.end is None or y.end >= e.start)
            )

        for e in v.episodes:
            since = outer(e).start
            if self._in_run(e.confirmed_at):
                entered = {
                    "colour": e.colour.value,
                    "threshold_m": e.threshold_m,
                    "level_m": self._level_at(e.confirmed_at),
                }
                self._finding(VIGILANCE, _ENTER, since, e.confirmed_at, entered, e.colour)
            if e.cleared_at is None:
                continue
            peak = {"peak_m": e.peak_m, "peak_at": _iso(e.peak_at), "ended_at": _iso(e.end)}
            if e.colour is Colour.YELLOW:
                left = {"colour": e.colour.value, "threshold_m": e.threshold_m, **peak}
                self._finding(VIGILANCE, _LEAVE, since, e.cleared_at, left, e.colour)
                self._clearance(VIGILANCE, e.cleared_at)
                continue
            below = LEVELS[LEVELS.index(e.colour) - 1]
            y = outer(e)
            if y.cleared_at is None or y.cleared_at > e.cleared_at:
                lower = {
                    "colour": below.value,
                    "threshold_m": self.c.thresholds.of(below),
                    "left": e.colour.value,
                    **peak,
                }
                self._finding(VIGILANCE, _LEAVE, since, e.cleared_at, lower, below)
        colour = v.state.colour
        if colour is not Colour.GREEN and self.last_ns is not None:
            y = next(y for y in yellows if y.end is None)
            now = {
                "colour": colour.value,
                "threshold_m": self.c.thresholds.of(colour),
                "level_m": self.last_level_m,
                "peak_m": y.peak_m,
                "peak_at": _iso(y.peak_at),
            }
            self._finding(VIGILANCE, _LAST, y.start, from_ns(self.last_ns), now, colour)

    def rise(self, r: RiseResult) -> None:
        threshold = self.c.rise.rise_cm_h
        for e in r.episodes:
            if self._in_run(e.confirmed_at):
                i = int(np.searchsorted(self.g.times_ns, to_ns(e.confirmed_at)))
                confirmed = {"rise_cm_h": float(r.rise_cm_h[i]), "threshold_cm_h": threshold}
                self._finding(RISE, _ENTER, e.start, e.confirmed_at, confirmed)
            stats = {
                "max_rise_cm_h": e.max_rise_cm_h,
                "max_at": _iso(e.max_at),
                "threshold_cm_h": threshold,
            }
            if e.end is not None:
                self._finding(RISE, _LEAVE, e.start, e.end, stats)
                self._clearance(RISE, e.end)
            elif self.last_ns is not None:
                known = r.rise_cm_h[~np.isnan(r.rise_cm_h)]
                last = float(known[-1]) if len(known) else None
                now = {"rise_cm_h": last, **stats}
                self._finding(RISE, _LAST, e.start, from_ns(self.last_ns), now)

    def faults(self) -> None:
        st, g = self.state, self.g
        quiet_ns = int(self.c.fault_quiet_s * NS_PER_S)
        spans: list[tuple[int, int | None]] = []  # sensor-fault alerts: since, cleared
        for t, kind in zip(g.times_ns.tolist(), g.fault, strict=True):
            if kind is not None:
                if st.fault_since_ns is None:
                    st.fault_since_ns = t
                st.fault_last_ns = t
            elif (
                st.fault_since_ns is not None
                and st.fault_last_ns is not None
                and t - st.fault_last_ns >= quiet_ns
            ):
                spans.append((st.fault_since_ns, t))
                self._clearance(FAULT, from_ns(t))
                st.fault_since_ns = st.fault_last_ns = None
        if st.fault_since_ns is not None:
            spans.append((st.fault_since_ns, None))
        for e in g.episodes:
            self._fault(e, spans)

    def _fault(self, e: FaultEpisode, spans: list[tuple[int, int | None]]) -> None:
        start = to_ns(e.start)
        # A fault span opened by an earlier run began before this episode; else pick its own.
        since = next(
            (s for s, c in reversed(spans) if s <= start and (c is None or c > start)), start
        )
        evidence = {
            "kind": e.kind.value,
            "start": _iso(e.start),
            "end": _iso(e.end),
            "points": e.points,
            **e.evidence,
        }
        order = _ENTER if e.end is not None else _LAST
        self._finding(FAULT, order, from_ns(since), e.last_at, evidence)


def evaluate_station(
    config: StationConfig,
    times_ns: Int64Array,
    level_m: FloatArray,
    state: StationState | None = None,
) -> tuple[list[Event], StationState]:
    """Findings and clearances from one station's readings since ``state`` (its level series,
    UTC ns and metres), and the station's new state. The given state is not modified."""
    prev = state or StationState()
    # Findings carry datetimes (microseconds): truncate once so times round-trip exactly.
    times_us = np.asarray(times_ns, dtype=np.int64) // 1000 * 1000
    g = guard_levels(times_us, level_m, config.guard, prev.guard, final=False)
    v = track_vigilance(g.times_ns, g.level_m, config.thresholds, config.vigilance, prev.vigilance)
    r = track_rise(g.times_ns, g.level_m, config.rise, prev.rise)
    new = StationState(g.state, v.state, r.state, prev.fault_since_ns, prev.fault_last_ns)
    run = _Run(config, g, new)
    run.vigilance(v)
    run.rise(r)
    run.faults()
    run.events.sort(key=lambda e: (e[0], e[1]))
    return [e for _, _, e in run.events], new


def evaluate_levels(
    configs: Mapping[str, StationConfig],
    series: Mapping[str, tuple[Int64Array, FloatArray]],
    state: LevelsState | None = None,
) -> tuple[list[Event], LevelsState]:
    """:func:`evaluate_station` for every configured station (by code; a station without new
    readings keeps its state). Events are grouped by station, each group in time order."""
    prev = state or LevelsState()
    new = LevelsState(dict(prev.stations))
    events: list[Event] = []
    empty = (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64))
    for code in sorted(configs):
        times, levels = series.get(code, empty)
        found, new.stations[code] = evaluate_station(
            configs[code], times, levels, prev.stations.get(code)
        )
        events.extend(found)
    return events, new


def station_series(
    readings: SeriesSet, station_of: Mapping[str, str]
) -> dict[str, tuple[Int64Array, FloatArray]]:
    """The ``water_level_m`` series of each station from a store read; ``station_of`` maps a
    level sensor's DevEUI to its station code."""
    out: dict[str, tuple[Int64Array, FloatArray]] = {}
    for i, key in enumerate(readings.keys):
        code = station_of.get(key.device)
        if key.quantity == QUANTITY and code is not None:
            out[code] = readings.series(i)
    return out
