"""Sector (district) leak detector: steps in the flow a leak adds by day and by night.

Input is the table of water days made by :func:`analytics.water.sector_days.sector_days`: each
day's mean inflow and the minimum night flow that closes it.  The days are scanned in order (a
sequential test: each decision moves the baseline the next day is scored against).  A decision
about a day uses that day and earlier ones only: a leak's ``detected_at`` is the time of the last
sample of the day that confirmed it, and no later data changes its onset or ``detected_at``
(later days refine its flow and may close it).

Rule (issues 5 and 11, design brief §5 Water)
---------------------------------------------
1. Leak signal.  A leak adds the same flow to every hour, the night as well as the day.  Each
   day gives two estimates of the sector's level, its mean flow ``m`` and its night minimum
   ``n``, each net of every level change already confirmed (leaks, repairs: the detector
   *re-anchors* by subtracting them from later days) and of the usual difference of Saturdays
   and Sundays from workdays (the median of each kind of day over the last ``kind_days``
   in-control days, less the workdays').  The signal is their inverse-variance mix
   ``c = a·n + (1 − a)·m``, ``a = σm² / (σm² + σn²)``, the spreads measured over the last
   ``spread_days``: mostly the night on a quiet residential sector, mostly the day's mean where
   the night is disturbed (a tank filling, night watering).  Public holidays and the days the
   clocks change are not scored.
2. Reference: the last ``reference_days`` in-control days; baseline ``b`` = median of ``c``.
   Spread ``σ`` from the 80th percentile of |day-to-day change| of ``c`` over the last
   ``spread_days`` days (for normal days it is 1.2816 × √2 σ), inflated by its standard error
   and floored at ``min_sigma_m3h``, widened for the uncertainty of the median of the reference.
   The first ``warmup_days`` (at the start, or after a gap longer than ``max_gap_days``) only
   build the reference.
3. Score: ``z = (c − b) / σ`` clipped to ±``day_cap``; two CUSUMs, upward
   ``S⁺ = max(0, S⁺ + z − k)`` and downward, ``k`` = ``allowance``.  While either is positive
   the days are *pending* and do not join the reference.
4. Step: when a CUSUM reaches ``decision``, the step's first day is the split of the pending
   days that best fits them as ``b`` then a new level (least absolute deviations), the level
   the lower (upper, for a fall) median of the step's days.  The step is confirmed when it
   spans ``min_days`` days and differs from ``b`` by at least ``min_step_m3h``,
   ``min_step_share`` of the mean inflow, and ``significance`` standard errors; a step of a
   single day also needs the day and the night to have moved the same way (one night of
   watering, one day of an event is not a leak).  Days pending ``max_run_days`` without a step
   are a slow drift (season): the older ones join the reference.
5. What moved: a leak (or its repair) moves the night as much as the day.  A step where one of
   them moved clearly less than ``min_ratio`` of the other (beyond two standard errors; for a
   night that moved less than the day, of that difference, the day's noise included: where day
   use swings, a day of more use is no proof) is a change of use (people away or back, a
   season of night watering): the detector re-anchors on it and reports nothing.
6. Events: a leak-like rise is a leak: onset = start of its first day, added flow = the step
   (the mix of its day and night changes).  For ``settle_days`` after its first day the step
   is re-estimated from the days since (its first day, partly before the change, left out) and
   the levels re-anchored on it.  A rise starting within ``merge_days`` of a leak's first day
   is more of it (its first day held only part of it); a later one is another leak, even while
   the first is still being re-estimated.  A growing (incipient) leak gives successive steps
   while it grows faster than the baseline follows.  A leak-like fall whose size matches an
   open leak's flow (ratio within ``repair_ratio``), or the sum of the latest open ones, is
   their repair (``end`` = start of the fall's first day).
7. Volume lost = flow × hours from onset to ``end`` (or to the series' last sample).
8. Fast test (:mod:`analytics.water.sector_fast`), hour by hour before each day is scored,
   and on the day still running: the median excess of the last ``fast_hours`` hours over
   each hour's usual level (reference days net of level changes and of the kind of day,
   hour by hour) beyond ``fast_sigmas`` spreads and ``fast_share`` of the inflow, the day's
   quiet hours risen by ``fast_low_ratio`` of it too, is a leak dated to the hour and
   detected at that hour's last sample; it is re-anchored and re-estimated like a step (its
   day is not scored).  After a change of use its reference restarts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import numpy as np

from analytics.water.sector_days import SKIP, SectorDays
from analytics.water.sector_fast import fast_rise
from core.series import NS, FloatArray

# The 80th percentile of |difference of two normal days| is 1.2816 × √2 σ: more stable than
# the median on a few weeks of days, and still blind to the few differences a step makes.
Q80_TO_SIGMA = 1.0 / (1.2816 * math.sqrt(2.0))
MEDIAN_EFFICIENCY = 1.2533  # sd of a median / sd of a mean, normal samples


@dataclass(frozen=True)
class SectorLeakParams:
    """Parameters of the sector rule (defaults chosen by measurement, docs/decisions/009)."""

    warmup_days: int = 14
    reference_days: int = 21
    kind_days: int = 56
    spread_days: int = 60
    allowance: float = 0.35
    decision: float = 3.5
    day_cap: float = 4.0
    min_days: int = 1
    min_sigma_m3h: float = 0.02
    min_step_m3h: float = 0.05
    min_step_share: float = 0.015
    significance: float = 1.5
    max_run_days: int = 10
    max_gap_days: int = 7
    repair_ratio: float = 2.0
    settle_days: int = 3
    min_ratio: float = 0.5
    fast_hours: int = 12  # 0: no fast test
    fast_sigmas: float = 6.0
    fast_share: float = 0.05
    fast_low_ratio: float = 0.7
    fast_max_share: float = 0.5  # above: a burst, not a leak
    merge_days: int = 1  # a rise this close to a leak's first day is more of it


@dataclass(frozen=True)
class SectorLeak:
    """One network leak found in a sector's inflow; times are aware UTC datetimes."""

    start: datetime
    detected_at: datetime
    end: datetime | None
    flow_m3h_estimate: float
    volume_m3: float
    baseline_m3h: float  # a workday's mean inflow before the leak (earlier leaks included)
    day_dates: tuple[date, ...]  # the water days of the step (local dates they start on)
    day_mean_m3h: tuple[float, ...]
    night_m3h: tuple[float, ...]


@dataclass
class _Open:
    first: int  # day index of the onset
    detected: int
    baseline: float
    flow: float
    days: list[int]
    last: int | None = None  # first day of the repair
    onset_ns: int | None = None  # the fast test's onset (to the hour)
    detected_ns: int | None = None  # the fast test's hour


@dataclass
class _Mix:
    """Each day's level net of the usual kind-of-day offsets: by day ``m``, by night ``n``, and
    their least noisy mix ``c = a·n + (1 − a)·m``, with the spreads."""

    c: FloatArray
    m: FloatArray
    n: FloatArray
    a: float
    sigma: float
    sigma_m: float
    sigma_n: float


@dataclass
class _Step:
    """The latest confirmed level change, its size re-estimated for ``settle_days``."""

    first: int
    dm: float  # signed change of the day mean
    dn: float  # signed change of the night
    before: list[int]  # reference days before it
    event: _Open | None = None


@dataclass
class _Scan:
    """The detector's state over one stretch of days without a long gap."""

    seen: list[int] = field(default_factory=list)  # valid days since the restart
    control: list[int] = field(default_factory=list)  # in-control days, oldest first
    pending: list[int] = field(default_factory=list)
    s_up: list[float] = field(default_factory=list)
    s_down: list[float] = field(default_factory=list)
    step: _Step | None = None

    def score(self, z: float, i: int, p: SectorLeakParams) -> tuple[float, float]:
        """Add day ``i`` to the pending days with its clipped score; the two CUSUMs after it."""
        z = min(max(z, -p.day_cap), p.day_cap)
        up = max(0.0, (self.s_up[-1] if self.s_up else 0.0) + z - p.allowance)
        down = max(0.0, (self.s_down[-1] if self.s_down else 0.0) - z - p.allowance)
        self.pending.append(i)
        self.s_up.append(up)
        self.s_down.append(down)
        return up, down

    def settle(self, days: list[int]) -> None:
        self.control.extend(days)
        self.pending, self.s_up, self.s_down = [], [], []


class _Signal:
    """The day and night levels, net of every confirmed level change (re-anchoring)."""

    def __init__(self, days: SectorDays, p: SectorLeakParams) -> None:
        self.m = days.mean_m3h.copy()
        self.n = days.night_m3h.copy()
        self.kind = days.kind
        self.p = p
        self.shifted_m = np.zeros(len(days))  # the day means' confirmed level changes
        # A change of use moves some hours, not all: the hours before it are no reference
        # for the fast test's hours after it.
        self.hours_since = 0

    def shift(self, first: int, dm: float, dn: float) -> None:
        self.m[first:] -= dm
        self.n[first:] -= dn
        self.shifted_m[first:] += dm

    def mix(self, scan: _Scan) -> _Mix:
        p = self.p
        hist = np.asarray(scan.seen[-p.spread_days :])
        ctl = np.asarray(scan.control[-p.kind_days :])
        em = self._net(self.m, ctl)
        en = self._net(self.n, ctl)
        floor = p.min_sigma_m3h
        sigma_m = max(_spread(em[hist]), floor)
        sigma_n = max(_spread(en[hist]), floor)
        a = sigma_m**2 / (sigma_m**2 + sigma_n**2) if math.isfinite(sigma_m + sigma_n) else 0.5
        c = a * en + (1 - a) * em
        return _Mix(c, em, en, a, max(_spread(c[hist]), floor), sigma_m, sigma_n)

    def _net(self, x: FloatArray, ctl: np.ndarray) -> FloatArray:
        """``x`` less the usual offset of each kind of day from workdays."""
        return np.asarray(x - self.offsets(x, ctl)[np.clip(self.kind, 0, 2)])

    def offsets(self, x: FloatArray, ctl: np.ndarray) -> FloatArray:
        """The usual offset of workdays, Saturdays and Sundays from workdays."""
        kind = self.kind[ctl]
        work = x[ctl][kind == 0]
        offsets = np.zeros(3)
        if work.size < 2:
            return offsets
        base = float(np.median(work))
        for k in (1, 2):
            same = x[ctl][kind == k]
            if same.size >= 2:
                offsets[k] = float(np.median(same)) - base
        return offsets

    def hours(self, days: SectorDays, scan: _Scan, which: list[int]) -> FloatArray:
        """The hourly flows of days ``which``, net of confirmed level changes and of their
        kind of day's usual offset, hour by hour (Sundays draw later in the morning): known
        before the day ends, neither depends on its data."""
        ctl = scan.control[-self.p.kind_days :]
        net = days.hourly_m3h[ctl] - self.shifted_m[ctl][:, None]
        kind = self.kind[ctl]
        offsets = np.zeros((3, 24))
        work = net[kind == 0]
        if work.shape[0] >= 2:
            usual = np.nanmedian(work, axis=0)
            for k in (1, 2):
                same = net[kind == k]
                if same.shape[0] >= 2:
                    offsets[k] = np.nanmedian(same, axis=0) - usual
        off = offsets[np.clip(self.kind[which], 0, 2)]
        return np.asarray(days.hourly_m3h[which] - self.shifted_m[which][:, None] - off)


def detect_sector_leaks(
    days: SectorDays, params: SectorLeakParams | None = None
) -> list[SectorLeak]:
    """Scan a sector's water days in order and return its leaks, oldest first."""
    p = params or SectorLeakParams()
    sig = _Signal(days, p)
    valid = np.isfinite(days.mean_m3h) & np.isfinite(days.night_m3h) & (days.kind != SKIP)
    scan = _Scan()
    events: list[_Open] = []
    todo = np.flatnonzero(valid).tolist()
    last = len(days) - 1
    if len(days) and not valid[last] and days.kind[last] != SKIP:
        todo.append(last)  # the day still running: only its hours so far, for the fast test
    for i in todo:
        if scan.seen and i - scan.seen[-1] > p.max_gap_days:
            scan = _Scan()
        if not valid[i]:
            if len(scan.seen) > p.warmup_days:
                _fast(days, sig, scan, i, events, p)
            break
        scan.seen.append(i)
        if len(scan.seen) <= p.warmup_days:
            scan.control.append(i)
            continue
        if scan.step is not None:
            _resettle(scan, sig, i, p)
        if _fast(days, sig, scan, i, events, p):
            continue  # the day of a fast rise is partly before it: not scored
        mx = sig.mix(scan)
        reference = scan.control[-p.reference_days :]
        base = float(np.median(mx.c[reference]))
        widen = math.sqrt(1.0 + math.pi / (2 * len(reference)))
        up, down = scan.score(float((mx.c[i] - base) / (mx.sigma * widen)), i, p)
        floor = _min_step(days, reference, p)
        run = None
        if up >= p.decision:
            run = _step(mx.c, scan, base, mx.sigma, floor, len(reference), p, True)
        if run is None and down >= p.decision:
            run = _step(mx.c, scan, base, mx.sigma, floor, len(reference), p, False)
        if run is not None and len(run) == 1 and not _leak_like(mx, run, reference, p):
            run = None  # one day cannot tell a leak from a night of watering: wait
        if run is not None:
            scan.step = _confirm(sig, mx, run, reference, days, floor, events, i, p, scan.step)
            scan.settle(scan.pending)
        elif up == 0.0 and down == 0.0:
            scan.settle(scan.pending)
        elif len(scan.pending) >= p.max_run_days:
            # A slow drift (season): the older days join the reference, the latest are
            # scored again against it so a step that is just starting is not swallowed.
            keep = scan.pending[-p.min_days :]
            scan.settle(scan.pending[: -p.min_days])
            mx = sig.mix(scan)
            reference = scan.control[-p.reference_days :]
            base = float(np.median(mx.c[reference]))
            for k in keep:
                scan.score(float((mx.c[k] - base) / (mx.sigma * widen)), k, p)
    return [_freeze(e, days) for e in events]


def _fast(
    days: SectorDays, sig: _Signal, scan: _Scan, i: int, events: list[_Open], p: SectorLeakParams
) -> bool:
    """Run the fast test over day ``i``'s hours; on a rise, record it as a leak (or more of
    the latest one, within ``merge_days`` of its first day) and re-anchor on it like a step."""
    reference = [d for d in scan.control[-p.reference_days :] if d >= sig.hours_since]
    if not p.fast_hours or len(reference) < 7:
        return False
    prev = [i - 1] if scan.seen[-2:-1] == [i - 1] or scan.seen[-1:] == [i - 1] else []
    rise = fast_rise(
        sig.hours(days, scan, prev)[0] if prev else None,
        sig.hours(days, scan, [i])[0],
        sig.hours(days, scan, reference),
        p.fast_hours,
        p.fast_sigmas,
        max(_min_step(days, reference, p), p.fast_share * _scale(days, reference)),
        p.fast_low_ratio,
        p.fast_max_share * _scale(days, reference),
    )
    if rise is None:
        return False
    first = i - 1 if rise.onset < 24 else i
    size = rise.size_m3h
    latest = scan.step
    if latest is not None and latest.event is not None and i - latest.first <= p.merge_days:
        event = latest.event
        event.flow += size
    else:
        event = _Open(
            first,
            i,
            float(np.median(sig.m[reference])) + float(sig.shifted_m[first]),
            size,
            [first],
            onset_ns=int(days.start_ns[first]) + (rise.onset % 24) * 3600 * NS,
            detected_ns=int(days.hour_last_ns[i, rise.hour]),
        )
        events.append(event)
    sig.shift(first, size, size)
    scan.control = [d for d in scan.control if d < first]
    scan.settle([d for d in scan.pending if d < first])
    scan.step = _Step(first, size, size, [d for d in reference if d < first], event)
    return True


def _confirm(
    sig: _Signal,
    mx: _Mix,
    run: list[int],
    reference: list[int],
    days: SectorDays,
    floor: float,
    events: list[_Open],
    detected: int,
    p: SectorLeakParams,
    last: _Step | None,
) -> _Step:
    """Record a confirmed step: a leak, a repair, or a change of use; re-anchor on it.  A rise
    starting within ``merge_days`` of a leak's first day is more of that leak (its first day
    held only part of it), not another."""
    dm = float(np.median(mx.m[run]) - np.median(mx.m[reference]))
    dn = float(np.median(mx.n[run]) - np.median(mx.n[reference]))
    size = mx.a * dn + (1 - mx.a) * dm
    step = _Step(run[0], dm, dn, [d for d in reference if d < run[0]])
    if _leak_like(mx, run, reference, p):
        recent = (
            last.event
            if last is not None and size > 0 and run[0] - last.first <= p.merge_days
            else None
        )
        if recent is not None:
            recent.flow += size
            recent.days.extend(run)
            step.event = recent
        elif size > floor:
            # The workday level before the leak, earlier leaks included.
            already = days.mean_m3h[run[0]] - sig.m[run[0]]
            baseline = float(np.median(mx.m[reference]) + already)
            step.event = _Open(run[0], detected, baseline, size, list(run))
            events.append(step.event)
        elif size < 0:
            _repair(run[0], -size, events, p)
    else:
        sig.hours_since = run[0]
    sig.shift(run[0], dm, dn)
    return step


def _leak_like(mx: _Mix, run: list[int], reference: list[int], p: SectorLeakParams) -> bool:
    """A leak (or its repair) moves the night as much as the day; people mostly the day, night
    watering mostly the night.  True unless one moved clearly less than ``min_ratio`` of the
    other (beyond two standard errors of each).  The step's first day, which the change may
    have reached only in the afternoon (whole at night, in part by day), is left out when there
    are others; a step of that one day alone must have moved the day its way and the night by
    ``min_ratio`` of the day at least, noise or not (a return of use moves the day only)."""
    full = run[1:] or run
    dm = float(np.median(mx.m[full]) - np.median(mx.m[reference]))
    dn = float(np.median(mx.n[full]) - np.median(mx.n[reference]))
    k = MEDIAN_EFFICIENCY * math.sqrt(1 / len(full) + 1 / len(reference))
    sign = 1.0 if mx.a * dn + (1 - mx.a) * dm > 0 else -1.0
    dm, dn = sign * dm, sign * dn
    if len(run) == 1 and dm <= 0:
        return False
    r = p.min_ratio
    # The noise of ``dn − r·dm`` is the night's and the day's together: where day use swings
    # (a school, a pool) a day of more use on a leak's first day is not a change of use
    # (measured: a third of the simulated leaks such a sector missed were taken for one).
    slack_n = (1 if len(run) == 1 else 2) * k * math.hypot(mx.sigma_n, r * mx.sigma_m)
    slack_m = 2 * k * mx.sigma_m
    return dn >= r * dm - slack_n and dm >= r * dn - slack_m


def _resettle(scan: _Scan, sig: _Signal, i: int, p: SectorLeakParams) -> None:
    """Re-estimate the latest step from the days since it (its first day, partly before the
    change, left out) and re-anchor the levels on it."""
    step = scan.step
    assert step is not None
    if i - step.first > p.settle_days or not step.before:
        scan.step = None
        return
    after = [d for d in scan.seen if step.first < d < i]
    if not after:
        return
    mx = sig.mix(scan)
    dm = float(np.median(mx.m[after]) + step.dm - np.median(mx.m[step.before]))
    dn = float(np.median(mx.n[after]) + step.dn - np.median(mx.n[step.before]))
    sig.shift(step.first, dm - step.dm, dn - step.dn)
    old = mx.a * step.dn + (1 - mx.a) * step.dm
    new = mx.a * dn + (1 - mx.a) * dm
    step.dm, step.dn = dm, dn
    if step.event is not None:
        step.event.flow = max(step.event.flow + new - old, 0.0)


def _spread(values: FloatArray) -> float:
    """Noise of one day from day-to-day changes (insensitive to changes of level)."""
    d = np.abs(np.diff(values))
    d = d[np.isfinite(d)]
    if d.size == 0:
        return math.inf
    # Inflated by about one standard error so a few calm weeks do not make the test too keen.
    return Q80_TO_SIGMA * float(np.quantile(d, 0.8)) * (1.0 + 1.0 / math.sqrt(d.size))


def _min_step(days: SectorDays, reference: list[int], p: SectorLeakParams) -> float:
    return max(p.min_step_m3h, p.min_step_share * _scale(days, reference))


def _scale(days: SectorDays, reference: list[int]) -> float:
    return float(np.median(days.mean_m3h[reference])) if reference else 0.0


def _step(
    c: FloatArray,
    scan: _Scan,
    base: float,
    sigma: float,
    floor: float,
    n_ref: int,
    p: SectorLeakParams,
    upward: bool,
) -> list[int] | None:
    """The days of a step whose CUSUM reached the decision level, if it holds."""
    split, level = _change_point(c[scan.pending], base, upward)
    run = scan.pending[split:]
    if len(run) < p.min_days:
        return None
    size = level - base if upward else base - level
    noise = MEDIAN_EFFICIENCY * sigma * math.sqrt(1 / len(run) + 1 / n_ref)
    if size < max(floor, p.significance * noise):
        return None
    return run


def _change_point(values: FloatArray, base: float, upward: bool) -> tuple[int, float]:
    """First pending day of the step and the step's level: the split that best fits the
    pending days as ``base`` then a new level (least absolute deviations; ties to the latest).
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


def _repair(first: int, size: float, events: list[_Open], p: SectorLeakParams) -> None:
    """Close the open leak, or the latest open ones together (the steps of one growing leak
    are the latest), whose flow is closest to a fall, if it is within ``repair_ratio``."""
    active = [e for e in events if e.last is None]

    def fits(flow: float) -> bool:
        return flow > 0 and 1 / p.repair_ratio <= size / flow <= p.repair_ratio

    candidates = [[e] for e in active if fits(e.flow)] + [
        active[-k:] for k in range(2, len(active) + 1) if fits(sum(e.flow for e in active[-k:]))
    ]
    if candidates:
        for e in min(candidates, key=lambda g: abs(sum(e.flow for e in g) - size)):
            e.last = first


def _utc(ns: int) -> datetime:
    return datetime.fromtimestamp(ns // 1000 / 1e6, UTC)


def _freeze(e: _Open, days: SectorDays) -> SectorLeak:
    start_ns = int(days.start_ns[e.first]) if e.onset_ns is None else e.onset_ns
    end_ns = None if e.last is None else int(days.start_ns[e.last])
    stop_ns = days.last_ns if end_ns is None else end_ns
    hours = max(0, stop_ns - start_ns) / (3600 * NS)
    return SectorLeak(
        start=_utc(start_ns),
        detected_at=_utc(
            int(days.last_ns_of_day[e.detected]) if e.detected_ns is None else e.detected_ns
        ),
        end=None if end_ns is None else _utc(end_ns),
        flow_m3h_estimate=e.flow,
        volume_m3=e.flow * hours,
        baseline_m3h=e.baseline,
        day_dates=tuple(date.fromisoformat(str(d)) for d in days.dates[e.days]),
        day_mean_m3h=tuple(float(v) for v in days.mean_m3h[e.days]),
        night_m3h=tuple(float(v) for v in days.night_m3h[e.days]),
    )
