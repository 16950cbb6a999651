"""Sector (district) leak detector: steps in the minimum night flow against a robust baseline.

Input is the table of local nights made by :func:`analytics.water.night_flow.night_flows`.  The
nights are scanned in order (a sequential test: each decision moves the baseline the next one is
scored against), each night doing a little numpy work on its reference nights.

Rule (issue 5, design brief §5 Water)
-------------------------------------
1. Reference: the last ``reference_nights`` in-control nights; baseline ``b`` = their median.
   Spread ``σ`` from the 80th percentile of |night-to-night change| over the last
   ``spread_nights`` nights (for normal nights it is 1.2816 × √2 σ), inflated by its standard
   error (× (1 + 1/√n)) and floored at ``min_sigma_m3h``: a change of level moves one
   difference only, so ``σ`` is the sector's noise whatever its leaks.  ``σ`` is widened by the
   uncertainty of a median of ``n`` nights, ``σ·√(1 + π/2n)``.  The first ``warmup_nights``
   nights (at the start, or after a gap longer than ``max_gap_nights``) only build the
   reference: a leak already running then is part of the baseline.
2. Score: ``z = (MNF − b) / σ``, clipped to ±``night_cap`` so that one odd night (a burst across
   the night window, a filling) cannot decide alone.  Two CUSUMs run on it, upward
   ``S⁺ = max(0, S⁺ + z − k)`` and downward ``S⁻ = max(0, S⁻ − z − k)``, ``k`` = ``allowance``.
   While either is positive the nights are *pending*: they join the reference only once both
   are back to zero, so a rising leak does not drag the baseline up with it.
3. Step: when a CUSUM reaches ``decision``, the step's first night is the split of the pending
   nights that best fits them as ``b`` then a new level (least absolute deviations).  The level
   is the lower median of the step's nights (upper median for a fall), so one burst night cannot
   make a two-night step.  The step is confirmed when it spans ``min_nights`` nights and differs
   from ``b`` by at least ``min_step_m3h``, ``min_step_share`` of the mean inflow of the
   reference days, and ``significance`` standard errors.  A run pending ``max_run_nights``
   without a step is a slow drift (season): its older nights join the reference.
4. Re-anchoring: a confirmed step (either way) makes the step's nights the reference, so the
   next leak is scored as a new step against the new level: leaks accumulate.
5. Events: an upward step is a leak of added flow = level − baseline, onset = start of its first
   night's window, ``confirmed_at`` = end of the confirming night's window.  A growing
   (incipient) leak is reported as successive steps while it grows: the first comes within days,
   and the steps add up to its flow.  (Merging a step into the previous one while the CUSUM
   never returned to zero was tried: on the simulated territory it also merged new leaks
   starting days later into older ramps, and cost recall.)  A fall whose size matches an open
   leak's flow (ratio within ``repair_ratio``), or the sum of the latest open steps, is their
   repair, the closest match winning: ``end`` = start of the fall's first night.  A rise back
   to no more than the highest baseline of the last ``rebound_nights`` (plus the smallest step)
   after a fall that was not a repair (holidays, season) is a return
   to normal, not a leak; above it only the excess is a leak.  (So a new leak that only
   restores the level of a leak older than the data, repaired in the last ``rebound_nights``,
   goes unseen: night flow alone cannot tell it from people coming back.)
6. Volume lost = flow × hours from onset to ``end`` (or to the series' last sample).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from analytics.water.night_flow import NightFlows
from core.series import NS, FloatArray

# The 80th percentile of |difference of two normal nights| is 1.2816 × √2 σ: more stable than
# the median on a few weeks of nights, and still blind to the few differences a step makes.
Q80_TO_SIGMA = 1.0 / (1.2816 * math.sqrt(2.0))
MEDIAN_EFFICIENCY = 1.2533  # sd of a median / sd of a mean, normal samples


@dataclass(frozen=True)
class SectorLeakParams:
    """Parameters of the night-flow step rule (defaults chosen on 40 simulated sector-years,
    docs/decisions/007-water-detectors.md)."""

    warmup_nights: int = 14
    reference_nights: int = 21
    spread_nights: int = 60
    allowance: float = 0.35
    decision: float = 3.5
    night_cap: float = 4.0
    min_nights: int = 2
    min_sigma_m3h: float = 0.02
    min_step_m3h: float = 0.05
    min_step_share: float = 0.02
    significance: float = 1.5
    max_run_nights: int = 10
    max_gap_nights: int = 7
    repair_ratio: float = 2.0
    rebound_nights: int = 60


@dataclass(frozen=True)
class SectorLeak:
    """One network leak found in a sector's night flow; times are aware UTC datetimes."""

    start: datetime
    confirmed_at: datetime
    end: datetime | None
    flow_m3h_estimate: float
    volume_m3: float
    baseline_m3h: float
    night_dates: tuple[date, ...]
    night_mnf_m3h: tuple[float, ...]


@dataclass
class _Open:
    first: int  # night index of the onset
    confirmed: int
    baseline: float
    flow: float
    nights: list[int]
    last: int | None = None  # first night of the repair


@dataclass
class _State:
    seen: list[int] = field(default_factory=list)  # valid nights since the last restart
    reference: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    s_up: list[float] = field(default_factory=list)  # S⁺ after each pending night
    s_down: list[float] = field(default_factory=list)
    bases: list[tuple[int, float]] = field(default_factory=list)  # (night, baseline) history
    fell: int | None = None  # night of the last fall that was no repair

    def anchor(self, nights: list[int]) -> None:
        self.reference = sorted(set(nights))
        self.pending, self.s_up, self.s_down = [], [], []

    def score(
        self, i: int, x: FloatArray, sigma: float, p: SectorLeakParams
    ) -> tuple[float, float]:
        """Score night ``i`` against the reference and add it to the pending nights."""
        base = float(np.median(x[self.reference]))
        widen = math.sqrt(1.0 + math.pi / (2 * len(self.reference)))
        z = float(np.clip((x[i] - base) / (sigma * widen), -p.night_cap, p.night_cap))
        up = max(0.0, (self.s_up[-1] if self.s_up else 0.0) + z - p.allowance)
        down = max(0.0, (self.s_down[-1] if self.s_down else 0.0) - z - p.allowance)
        self.pending.append(i)
        self.s_up.append(up)
        self.s_down.append(down)
        self.bases.append((i, base))
        return up, down

    def highest(self, i: int, p: SectorLeakParams) -> float | None:
        recent = [b for n, b in self.bases if n >= i - p.rebound_nights]
        return max(recent) if recent else None


def detect_sector_leaks(
    nights: NightFlows, params: SectorLeakParams | None = None
) -> list[SectorLeak]:
    """Scan a sector's nights in order and return its leaks, oldest first."""
    p = params or SectorLeakParams()
    x = nights.mnf_m3h
    st = _State()
    events: list[_Open] = []
    for i in np.flatnonzero(np.isfinite(x)).tolist():
        if st.seen and i - st.seen[-1] > p.max_gap_nights:
            st = _State()
        st.seen.append(i)
        if len(st.seen) <= p.warmup_nights:
            st.reference = st.seen[-p.reference_nights :]
            continue
        sigma = _spread(x[st.seen[-p.spread_nights :]], p)
        up, down = st.score(i, x, sigma, p)
        base = float(np.median(x[st.reference]))
        floor = _min_step(nights, st.reference, p)
        if up >= p.decision and _step(st, x, base, sigma, floor, p, events, True):
            continue
        if down >= p.decision and _step(st, x, base, sigma, floor, p, events, False):
            continue
        if up == 0.0 and down == 0.0:
            st.anchor((st.reference + st.pending)[-p.reference_nights :])
        elif len(st.pending) >= p.max_run_nights:
            # A slow drift (season): the older nights join the reference, the latest are
            # scored again against it so a step that is just starting is not swallowed.
            keep = st.pending[-p.min_nights :]
            if down > 0.0:
                st.fell = i
            st.anchor((st.reference + st.pending[: -p.min_nights])[-p.reference_nights :])
            for k in keep:
                st.score(k, x, sigma, p)
    return [_freeze(e, nights) for e in events]


def _spread(values: FloatArray, p: SectorLeakParams) -> float:
    """Noise of one night from night-to-night changes (insensitive to changes of level)."""
    d = np.abs(np.diff(values))
    # Inflated by about one standard error so a few calm weeks do not make the test too keen.
    estimate = Q80_TO_SIGMA * float(np.quantile(d, 0.8)) * (1.0 + 1.0 / math.sqrt(d.size))
    return max(estimate, p.min_sigma_m3h)


def _min_step(nights: NightFlows, reference: list[int], p: SectorLeakParams) -> float:
    day = nights.day_mean_m3h[reference]
    day = day[np.isfinite(day)]
    scale = float(np.median(day)) if day.size else 0.0
    return max(p.min_step_m3h, p.min_step_share * scale)


def _step(
    st: _State,
    x: FloatArray,
    base: float,
    sigma: float,
    floor: float,
    p: SectorLeakParams,
    events: list[_Open],
    upward: bool,
) -> bool:
    """Confirm a step whose CUSUM reached the decision level; False if it does not hold yet."""
    split, level = _change_point(x[st.pending], base, upward)
    run = st.pending[split:]
    if len(run) < p.min_nights:
        return False
    size = level - base if upward else base - level
    noise = MEDIAN_EFFICIENCY * sigma * math.sqrt(1 / len(run) + 1 / len(st.reference))
    if size < max(floor, p.significance * noise):
        return False
    if upward:
        _rise(st, run, level, base, floor, events, p)
    else:
        _drop(st, run, level, base, events, p)
    st.anchor(run)
    return True


def _change_point(values: FloatArray, base: float, upward: bool) -> tuple[int, float]:
    """First pending night of the step and the step's level: the split that best fits the
    pending nights as ``base`` then a new level (least absolute deviations; ties to the latest).
    """
    n = len(values)
    best, split, level = math.inf, n, base
    for k in range(n):
        tail = np.sort(values[k:])
        lv = float(tail[(len(tail) - 1) // 2] if upward else tail[len(tail) // 2])
        cost = float(np.abs(values[:k] - base).sum() + np.abs(values[k:] - lv).sum())
        if cost <= best:
            best, split, level = cost, k, lv
    return split, level


def _rise(
    st: _State,
    run: list[int],
    level: float,
    base: float,
    floor: float,
    events: list[_Open],
    p: SectorLeakParams,
) -> None:
    highest = st.highest(run[0], p)
    if st.fell is not None and run[0] - st.fell <= p.rebound_nights and highest is not None:
        if level <= highest + floor:
            if level >= highest - floor:
                st.fell = None  # fully back
            return  # back towards a level seen before a fall that was no repair
        st.fell = None
        base = max(base, highest)
    events.append(_Open(run[0], run[-1], base, level - base, list(run)))
    st.bases = []


def _drop(
    st: _State,
    run: list[int],
    level: float,
    base: float,
    events: list[_Open],
    p: SectorLeakParams,
) -> None:
    size = base - level
    active = [e for e in events if e.last is None]

    def fits(flow: float) -> bool:
        return flow > 0 and 1 / p.repair_ratio <= size / flow <= p.repair_ratio

    # One leak, or the latest steps together (the steps of one growing leak are the latest):
    # the repair is the candidate whose flow is closest to the fall.
    candidates = [[e] for e in active if fits(e.flow)] + [
        active[-k:] for k in range(2, len(active) + 1) if fits(sum(e.flow for e in active[-k:]))
    ]
    if candidates:
        for e in min(candidates, key=lambda g: abs(sum(e.flow for e in g) - size)):
            e.last = run[0]
        st.bases = []
    else:
        st.fell = run[0]  # people away, a season: night use may come back


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1e6, UTC)


def _freeze(e: _Open, nights: NightFlows) -> SectorLeak:
    start_ns = int(nights.start_ns[e.first])
    end_ns = None if e.last is None else int(nights.start_ns[e.last])
    stop_ns = nights.last_ns if end_ns is None else end_ns
    hours = max(0, stop_ns - start_ns) / (3600 * NS)
    return SectorLeak(
        start=_utc(start_ns),
        confirmed_at=_utc(int(nights.end_ns[e.confirmed])),
        end=None if end_ns is None else _utc(end_ns),
        flow_m3h_estimate=e.flow,
        volume_m3=e.flow * hours,
        baseline_m3h=e.baseline,
        night_dates=tuple(date.fromisoformat(str(d)) for d in nights.dates[e.nights]),
        night_mnf_m3h=tuple(float(v) for v in nights.mnf_m3h[e.nights]),
    )
