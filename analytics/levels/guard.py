"""Sensor-fault guard for water levels: masks readings no river can produce, reports episodes.

Ultrasonic and radar level sensors fail in a few typical ways, each checked here on the level
series of one station (UTC times in ns, irregular sampling):

- ``out_of_range``: a level the sensor cannot measure — not finite, below ``min_level_m`` (the
  riverbed) or above ``max_level_m`` (the sensor face, i.e. a negative distance).
- ``stuck``: the exact same reading (within ``stuck_eps_m``) for ``stuck_s`` or longer: a frozen
  sensor or a gateway repeating a cached frame (12 h by default; a station's ``stuck_h``
  registry parameter lengthens it for slow groundwater). The first reading of the run is
  genuine; the repeats are masked.
- ``spike``: up to ``spike_max_points`` readings that leave the level by ``spike_min_m`` or more
  and come back within ``spike_window_s`` (an echo off a bird, a branch, foam). The level is
  judged against the straight line from the last good reading to the one after the excursion,
  so a spike on a rising river is still a spike, and a sustained rise is never one.
- ``jump``: a step from the last good reading larger than ``jump_floor_m`` + ``max_rate_m_h`` × Δt
  that does not come back as a spike. Readings are masked until the level returns to within
  ``jump_return_fraction`` of the step from the pre-jump level (the obstruction is gone), or for
  ``jump_hold_s`` at most, after which the new level is accepted (the sensor was re-mounted).

Streaming: :func:`guard_levels` takes the readings since its last call and the state it
returned. A reading whose fate needs later readings (a possible spike, a repeat that may turn
out stuck) stays in the state until a later call decides it, and readings are released in time
order only, so the released stream and its episodes are the same whether the series arrives in
one call or in many. ``final=True`` decides the tail with what is there (batch use).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from core.series import FloatArray, Int64Array, from_ns

NS_PER_S = 1_000_000_000
NS_PER_H = 3600 * NS_PER_S

OK, HELD, PENDING, NEW = "ok", "held", "pending", ""
# A spike's neighbours agree with each other at least twice as well as with the spike.
RETURN_SHARE = 0.5


class FaultKind(StrEnum):
    OUT_OF_RANGE = "out_of_range"
    STUCK = "stuck"
    SPIKE = "spike"
    JUMP = "jump"


@dataclass(frozen=True, slots=True)
class GuardParams:
    """What a credible level series looks like for one station (defaults: a small river)."""

    min_level_m: float | None = None  # the riverbed in the gauge datum, when known
    max_level_m: float | None = None  # the sensor face: water cannot be above it
    max_rate_m_h: float = 4.0  # 1 m in 15 min: faster than any small river rises or falls
    jump_floor_m: float = 0.20  # a step this small is never impossible (noise, close readings)
    jump_hold_s: float = 12 * 3600.0
    jump_return_fraction: float = 0.5
    spike_min_m: float = 0.20
    spike_max_points: int = 3
    spike_window_s: float = 2 * 3600.0
    stuck_s: float = 12 * 3600.0
    stuck_eps_m: float = 0.0

    @classmethod
    def for_sensor(
        cls,
        reference_height_m: float,
        *,
        blind_zone_m: float = 0.0,
        min_level_m: float | None = None,
        **overrides: Any,
    ) -> GuardParams:
        """Range from the mounting: a downward-looking sensor sees no water closer than its
        blind zone, so the level is at most ``reference_height_m − blind_zone_m``."""
        return cls(
            min_level_m=min_level_m, max_level_m=reference_height_m - blind_zone_m, **overrides
        )

    def allowed_step_m(self, dt_ns: int) -> float:
        return self.jump_floor_m + self.max_rate_m_h * dt_ns / NS_PER_H


@dataclass(frozen=True, slots=True)
class FaultEpisode:
    """Consecutive faulty readings of one kind. ``end`` is the last faulty reading, ``None``
    while the fault still holds; ``last_at`` is the last faulty reading seen so far."""

    kind: FaultKind
    start: datetime
    end: datetime | None
    last_at: datetime
    points: int
    evidence: dict[str, float | str]


@dataclass(slots=True)
class OpenFault:
    """An episode being built (serialisable form of :class:`FaultEpisode`)."""

    kind: str
    start_ns: int
    last_ns: int
    points: int
    evidence: dict[str, float | str] = field(default_factory=dict)

    def episode(self, closed: bool) -> FaultEpisode:
        last = from_ns(self.last_ns)
        return FaultEpisode(
            FaultKind(self.kind),
            from_ns(self.start_ns),
            last if closed else None,
            last,
            self.points,
            dict(self.evidence),
        )


@dataclass(slots=True)
class GuardState:
    """What the guard carries from one call to the next; JSON-friendly via :meth:`to_dict`."""

    # Readings received but not yet released: time, level, status (ok, held, pending, a kind).
    times_ns: list[int] = field(default_factory=list)
    level_m: list[float] = field(default_factory=list)
    status: list[str] = field(default_factory=list)
    last_ns: int | None = None  # newest reading received; older ones are replays
    anchor_ns: int | None = None  # last good reading
    anchor_m: float | None = None
    run_start_ns: int | None = None  # first reading of the current run of equal readings
    run_m: float | None = None
    stuck_open: bool = False
    jump_start_ns: int | None = None  # set while readings are masked after a jump
    jump_from_m: float | None = None
    jump_to_m: float | None = None
    open: dict[str, OpenFault] = field(default_factory=dict)
    done: list[OpenFault] = field(default_factory=list)  # closed, some readings not released

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # Strict JSON (PostgreSQL's) has no NaN: a non-finite reading is stored as null.
        d["level_m"] = [x if math.isfinite(x) else None for x in self.level_m]
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GuardState:
        d = dict(data)
        d["level_m"] = [math.nan if x is None else x for x in d["level_m"]]
        d["open"] = {k: OpenFault(**v) for k, v in d["open"].items()}
        d["done"] = [OpenFault(**v) for v in d["done"]]
        return cls(**d)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """Readings released by this call (ascending), cleaned, and the episodes they close or
    extend."""

    times_ns: Int64Array
    raw_m: FloatArray
    level_m: FloatArray  # raw with faulty readings set to NaN
    fault: list[FaultKind | None]
    episodes: list[FaultEpisode]
    state: GuardState

    @property
    def faulty(self) -> NDArray[np.bool_]:
        return np.array([k is not None for k in self.fault], dtype=bool)


class _Guard:
    def __init__(self, params: GuardParams, state: GuardState) -> None:
        self.p = params
        self.s = state
        self.out_t: list[int] = []
        self.out_m: list[float] = []
        self.out_s: list[str] = []

    # -- bookkeeping -----------------------------------------------------------------------

    def _index(self, t: int) -> int:
        # The queue is short and sorted; readings are unique by time.
        return self.s.times_ns.index(t)

    def _set(self, t: int, status: str) -> None:
        self.s.status[self._index(t)] = status

    def _extend(self, kind: FaultKind, t: int, evidence: dict[str, float | str]) -> None:
        self._set(t, kind.value)
        o = self.s.open.get(kind.value)
        if o is None:
            self.s.open[kind.value] = OpenFault(kind.value, t, t, 1, evidence)
        else:
            o.last_ns, o.points = t, o.points + 1
            o.evidence.update(evidence)

    def _close(self, kind: FaultKind, **evidence: float | str) -> None:
        o = self.s.open.pop(kind.value, None)
        if o is not None:
            o.evidence.update(evidence)
            self.s.done.append(o)

    def _accept(self, t: int, x: float) -> None:
        self._set(t, OK)
        self.s.anchor_ns, self.s.anchor_m = t, x

    # -- the checks ------------------------------------------------------------------------

    def feed(self, t: int, x: float) -> None:
        s, p = self.s, self.p
        s.times_ns.append(t)
        s.level_m.append(x)
        s.status.append(NEW)
        s.last_ns = t
        low = p.min_level_m is not None and x < p.min_level_m
        high = p.max_level_m is not None and x > p.max_level_m
        if not math.isfinite(x) or low or high:
            self._out_of_range(t, x)
            return
        self._close(FaultKind.OUT_OF_RANGE)
        self._stuck(t, x)

    def _out_of_range(self, t: int, x: float) -> None:
        o = self.s.open.get(FaultKind.OUT_OF_RANGE.value)
        evidence: dict[str, float | str] = {} if o is None else o.evidence
        if math.isfinite(x):
            evidence["lowest_m"] = min(float(evidence.get("lowest_m", x)), x)
            evidence["highest_m"] = max(float(evidence.get("highest_m", x)), x)
        if self.p.min_level_m is not None:
            evidence["min_level_m"] = self.p.min_level_m
        if self.p.max_level_m is not None:
            evidence["max_level_m"] = self.p.max_level_m
        self._extend(FaultKind.OUT_OF_RANGE, t, evidence)

    def _stuck(self, t: int, x: float) -> None:
        s, p = self.s, self.p
        repeat = s.run_m is not None and abs(x - s.run_m) <= p.stuck_eps_m
        if repeat and s.run_start_ns is not None:
            hours = (t - s.run_start_ns) / NS_PER_H
            if s.stuck_open:
                self._extend(FaultKind.STUCK, t, {"unchanged_h": hours})
                return
            self._set(t, HELD)
            if t - s.run_start_ns >= p.stuck_s * NS_PER_S:
                s.stuck_open = True
                for i, st in enumerate(list(s.status)):
                    if st == HELD:
                        since = (s.times_ns[i] - s.run_start_ns) / NS_PER_H
                        evidence: dict[str, float | str] = {"level_m": x, "unchanged_h": since}
                        self._extend(FaultKind.STUCK, s.times_ns[i], evidence)
            return
        if s.stuck_open:
            self._close(FaultKind.STUCK)
            s.stuck_open = False
        else:
            # The run ended early: its repeats were genuine readings after all.
            held = [i for i, st in enumerate(s.status) if st == HELD]
            for i in held:
                s.status[i] = NEW
            for i in held:
                self._check(s.times_ns[i], s.level_m[i])
        s.run_start_ns, s.run_m = t, x
        self._check(t, x)

    def _check(self, t: int, x: float) -> None:
        s, p = self.s, self.p
        if s.jump_start_ns is not None:
            self._in_jump(t, x)
            return
        if s.anchor_ns is None or s.anchor_m is None:
            self._accept(t, x)
            return
        if PENDING not in s.status:
            step = abs(x - s.anchor_m)
            if step < p.spike_min_m and step <= p.allowed_step_m(t - s.anchor_ns):
                self._accept(t, x)
                return
        self._set(t, PENDING)
        self._resolve(force=False)

    def _in_jump(self, t: int, x: float) -> None:
        s, p = self.s, self.p
        assert s.jump_start_ns is not None and s.jump_from_m is not None
        assert s.jump_to_m is not None
        if abs(x - s.jump_from_m) <= p.jump_return_fraction * abs(s.jump_to_m - s.jump_from_m):
            self._close(FaultKind.JUMP, outcome="returned")
            s.jump_start_ns = s.jump_from_m = s.jump_to_m = None
            self._check(t, x)  # against the pre-jump reading, like any other
        elif t - s.jump_start_ns >= p.jump_hold_s * NS_PER_S:
            self._close(FaultKind.JUMP, outcome="new_level")
            s.jump_start_ns = s.jump_from_m = s.jump_to_m = None
            self._accept(t, x)
        else:
            self._extend(FaultKind.JUMP, t, {})

    def _spike_length(self, b_ns: int, b_m: float, pend: list[tuple[int, float]]) -> int:
        """How many of the first pending readings form a spike (0: none, as far as known)."""
        p = self.p
        for j in range(min(len(pend) - 1, p.spike_max_points)):
            a_ns, a_m = pend[j + 1]
            span = a_ns - b_ns
            if span > p.spike_window_s * NS_PER_S:
                break
            back = abs(a_m - b_m)
            if back > p.allowed_step_m(span):
                continue
            slope = (a_m - b_m) / span
            devs = [x - (b_m + slope * (t - b_ns)) for t, x in pend[: j + 1]]
            same_side = all(d > 0 for d in devs) or all(d < 0 for d in devs)
            least = min(abs(d) for d in devs)
            if same_side and least >= p.spike_min_m and back <= RETURN_SHARE * least:
                return j + 1
        return 0

    def _resolve(self, force: bool) -> None:
        s, p = self.s, self.p
        idx = [i for i, st in enumerate(s.status) if st == PENDING]
        if not idx:
            return
        assert s.anchor_ns is not None and s.anchor_m is not None
        b_ns, b_m = s.anchor_ns, s.anchor_m
        pend = [(s.times_ns[i], s.level_m[i]) for i in idx]
        n = self._spike_length(b_ns, b_m, pend)
        if n:
            devs = [x - b_m for _, x in pend[:n]]
            worst = max(devs, key=abs)
            spike = OpenFault(
                FaultKind.SPIKE.value,
                pend[0][0],
                pend[n - 1][0],
                n,
                {"level_m": b_m + worst, "baseline_m": b_m, "excursion_m": worst},
            )
            for i in idx[:n]:
                s.status[i] = FaultKind.SPIKE.value
            s.done.append(spike)
            self._redispatch(idx[n:])
            return
        last_ns = pend[-1][0]
        out_of_window = last_ns - b_ns > p.spike_window_s * NS_PER_S
        if not (force or len(pend) - 1 >= p.spike_max_points or out_of_window):
            return
        q_ns, q_m = pend[0]
        if abs(q_m - b_m) > p.allowed_step_m(q_ns - b_ns):
            s.jump_start_ns, s.jump_from_m, s.jump_to_m = q_ns, b_m, q_m
            hours = (q_ns - b_ns) / NS_PER_H
            evidence: dict[str, float | str] = {
                "from_level_m": b_m,
                "to_level_m": q_m,
                "step_m": q_m - b_m,
                "rate_m_h": (q_m - b_m) / hours,
                "max_rate_m_h": p.max_rate_m_h,
            }
            self._extend(FaultKind.JUMP, q_ns, evidence)
        else:
            self._accept(q_ns, q_m)
        self._redispatch(idx[1:])

    def _redispatch(self, idx: list[int]) -> None:
        s = self.s
        for i in idx:
            s.status[i] = NEW
        for i in idx:
            self._check(s.times_ns[i], s.level_m[i])

    def flush(self) -> None:
        """Decide every reading still waiting, with the readings at hand."""
        s = self.s
        if not s.stuck_open:
            held = [i for i, st in enumerate(s.status) if st == HELD]
            self._redispatch(held)
        while PENDING in s.status:
            self._resolve(force=True)

    def release(self) -> None:
        """Move the decided readings at the head of the queue to the output."""
        s = self.s
        n = 0
        while n < len(s.status) and s.status[n] not in (HELD, PENDING):
            n += 1
        if n:
            self.out_t += s.times_ns[:n]
            self.out_m += s.level_m[:n]
            self.out_s += s.status[:n]
            del s.times_ns[:n], s.level_m[:n], s.status[:n]

    def episodes(self) -> list[FaultEpisode]:
        """Episodes whose readings are all out, so every call reports a stretch of one stream."""
        s = self.s
        horizon = s.times_ns[0] if s.times_ns else None
        ready = [o for o in s.done if horizon is None or o.last_ns < horizon]
        s.done = [o for o in s.done if horizon is not None and o.last_ns >= horizon]
        episodes = [o.episode(closed=True) for o in ready]
        for o in s.open.values():
            if horizon is None or o.last_ns < horizon:
                episodes.append(o.episode(closed=False))
        episodes.sort(key=lambda e: e.start)
        return episodes


def guard_levels(
    times_ns: Int64Array,
    level_m: FloatArray,
    params: GuardParams | None = None,
    state: GuardState | None = None,
    *,
    final: bool = True,
) -> GuardResult:
    """Check the readings received since ``state`` (all of them when ``None``).

    Readings at or before the newest one already received are replays and are ignored; a time
    given twice keeps its last level. The given state is not modified.
    """
    guard = _Guard(params or GuardParams(), copy.deepcopy(state) if state else GuardState())
    t = np.asarray(times_ns, dtype=np.int64)
    x = np.asarray(level_m, dtype=np.float64)
    order = np.argsort(t, kind="stable")
    t, x = t[order], x[order]
    keep = np.ones(len(t), dtype=bool)
    keep[:-1] = t[1:] != t[:-1]
    if guard.s.last_ns is not None:
        keep &= t > guard.s.last_ns
    for ti, xi in zip(t[keep].tolist(), x[keep].tolist(), strict=True):
        guard.feed(ti, xi)
        guard.release()  # keeps the queue short: only undecided readings and those after them
    if final:
        guard.flush()
        guard.release()
    episodes = guard.episodes()
    raw, status = guard.out_m, guard.out_s
    kinds = [None if st == OK else FaultKind(st) for st in status]
    raw_a = np.asarray(raw, dtype=np.float64)
    clean = np.where([k is None for k in kinds], raw_a, np.nan) if raw else raw_a.copy()
    return GuardResult(
        np.asarray(guard.out_t, dtype=np.int64),
        raw_a,
        np.asarray(clean, dtype=np.float64),
        kinds,
        episodes,
        guard.s,
    )
