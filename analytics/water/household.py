"""Vectorised household/building continuous-flow leak detector.

Input is a 2-D array of hourly consumption in litres, shape ``[meters, hours]``, one column per
UTC hour, ``NaN`` for a missing hour, together with the local (Europe/Paris) hour of day and
local date of every column (see :func:`analytics.water.axis.hourly_axis`).  All meters are
scanned at once with numpy.

Rule (issue 5, design brief §5 Water)
-------------------------------------
1. Cleaning: a value that is not finite, negative, or above ``max_hourly_l`` (a register fault
   that reached the matrix, reverse flow as a negative difference) is treated as *missing*.
   Missing hours count neither as zero nor as non-zero.
2. A *break* is a valid hour with zero consumption (``<= zero_eps``), or a gap of more than
   ``max_gap_hours`` consecutive missing hours (a long gap ends the evidence). The missing hours
   after a meter's last valid hour are not a break: they are not in yet (a meter that sends
   its hourly history in one daily frame is up to a day behind).
3. A *continuous run* is the stretch of hours since the last break.  Its *onset* is the first
   hour after that break.  This is the sliding form of "a day with no zero hour": a run that
   has lasted ``min_run_valid_hours`` valid hours covers a full day without a zero hour.
   The run is *steady* at hour ``h`` when none of its valid hours up to ``h`` is below
   ``min_night_flow_lph``.
4. *Nights* are the local hours ``[night_start_hour, night_end_hour)`` of each local date
   (01:00-05:00 by default; a DST night has 3 or 5 hours).  A night with at least
   ``min_night_valid_hours`` valid hours has a *night minimum* (lowest hourly flow).  It is
   *leaky* when that minimum is ``>= min_night_flow_lph``, *quiet* otherwise.  A leaky night
   is *flat* when more than half of its valid hours are within
   ``max(flat_tolerance_l, flat_tolerance_share x night minimum)`` of the night minimum.
5. Alert at the first valid hour ``h`` of a run where either
   a. the run holds at least ``min_run_valid_hours`` valid hours, at least ``min_nights``
      complete nights inside the run are leaky (persistence over consecutive nights) and no
      complete night inside the run is quiet; or
   b. the run is steady at ``h``, holds at least ``steady_run_valid_hours`` valid hours, and
      at least one complete night inside it is flat (a steady run has no quiet night).
      ``steady_run_valid_hours=None`` turns this branch off.
6. The event lasts until the run ends (next zero hour or long gap; ``end`` is exclusive) or
   stays open (``end is None``).  A new event on the same meter starting within
   ``merge_gap_hours`` of the previous one's end updates that alert (one open alert per meter)
   instead of raising a new one.  Leak flow (L/h) = lowest night minimum over the run's
   complete nights; volume lost = flow x hours from onset to end (or to the last column).

Why rule 5b: a leak adds its flow to every hour, so from its onset no hour falls below it, and
at night, when nobody draws water, most hours read just the leak: one such night is enough.
Ordinary use that never stops for a day and a half (a large household, a guest night) has low
hours between draws and uneven nights, and still needs two leaky nights (rule 5a).

Events are column indices; map them to times with the axis returned by
:func:`analytics.water.axis.hourly_axis`.
Both branches of rule 5 need a leaky night (unless ``min_nights`` is 0) and a stretch of hours
without a zero hour, so the hour-by-hour scan only runs on meters that have both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics.water.axis import night_windows

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]  # int64: numpy's running maximum is fastest on it


@dataclass(frozen=True)
class ContinuousFlowParams:
    """Parameters of the continuous-flow rule (defaults tuned on DAIAD, see evaluation).

    On the 40 DAIAD homes (:mod:`analytics.evaluation.daiad_homes`, seeds 2016, 1, 2, 3): leaks of
    5, 10 and 20 L/h found 96.5-99.5 %, median delay 29-30 h, 0.065 false alerts per 100
    household-days; rule 5a alone waits 37-41 h (0.044).  Confirming a steady run after 24 h
    instead of 30 h raises 17 false alerts instead of 9.  On the simulated territory (a year,
    540 homes, seeds 1-3) the flat-night condition keeps precision at 0.98-1.0: without it,
    large households' busy nights give 2-6 false alarms a year (precision 0.88-0.96)."""

    zero_eps: float = 0.5
    max_hourly_l: float = 3000.0
    max_gap_hours: int = 6
    night_start_hour: int = 1
    night_end_hour: int = 5
    min_night_valid_hours: int = 2
    min_night_flow_lph: float = 3.0
    min_nights: int = 2
    min_run_valid_hours: int = 24
    steady_run_valid_hours: int | None = 30
    flat_tolerance_l: float = 1.0  # a register counting whole litres reads a leak ±1 L
    flat_tolerance_share: float = 0.2  # and a larger leak varies a little with the pressure
    merge_gap_hours: int = 72
    chunk_meters: int = 4096


@dataclass(frozen=True)
class ContinuousFlowEvent:
    """One continuous-flow alert on one meter (indices are columns of the input matrix)."""

    meter: int
    start: int
    alert: int
    end: int | None
    flow_lph_estimate: float
    volume_l: float


@dataclass(frozen=True)
class _Nights:
    """The nights of the axis and the per-column lookups the scan needs."""

    starts: NDArray[np.int64]
    ends: NDArray[np.int64]
    padded: NDArray[np.int64]  # [nights, longest night]: columns of each night, last repeated
    inside: NDArray[np.bool_]  # [nights, longest night]: False where ``padded`` repeats
    done_by: NDArray[np.int64]  # per column h: nights ended by the end of hour h
    last_end: NDArray[np.int64]  # per column h: end (exclusive) of the last of those, else 0

    @classmethod
    def build(
        cls,
        local_hour: NDArray[np.integer],
        local_date: NDArray[np.datetime64],
        p: ContinuousFlowParams,
    ) -> _Nights:
        ns, ne = night_windows(local_hour, local_date, p.night_start_hour, p.night_end_hour)
        done_by = np.searchsorted(ne, np.arange(1, len(local_hour) + 1), side="right")
        columns = ns[:, None] + np.arange(int((ne - ns).max(initial=0)))[None, :]
        return cls(
            starts=ns,
            ends=ne,
            padded=np.minimum(columns, ne[:, None] - 1),
            inside=columns < ne[:, None],
            done_by=done_by.astype(np.int64),
            last_end=np.concatenate([[0], ne])[done_by],
        )


def detect_continuous_flow(
    flow: NDArray[np.floating],
    local_hour: NDArray[np.integer],
    local_date: NDArray[np.datetime64],
    params: ContinuousFlowParams | None = None,
) -> list[ContinuousFlowEvent]:
    """Scan every meter (row) of ``flow`` and return its continuous-flow events."""
    p = params or ContinuousFlowParams()
    x = np.asarray(flow)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)  # float32 input stays float32: half the memory traffic
    if x.ndim != 2:
        raise ValueError("flow must be 2-D [meters, hours]")
    if len(local_hour) != x.shape[1] or len(local_date) != x.shape[1]:
        raise ValueError("local_hour/local_date must have one entry per column")
    nights = _Nights.build(local_hour, local_date, p)
    events: list[ContinuousFlowEvent] = []
    for lo in range(0, x.shape[0], p.chunk_meters):
        events.extend(_scan_chunk(x[lo : lo + p.chunk_meters], lo, nights, p))
    return _merge(events, p.merge_gap_hours)


def _merge(events: list[ContinuousFlowEvent], gap: int) -> list[ContinuousFlowEvent]:
    """One alert per meter: an event starting within ``gap`` hours of the previous one's end
    on the same meter updates that alert instead of raising a new one."""
    out: list[ContinuousFlowEvent] = []
    for e in events:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.meter == e.meter
            and prev.end is not None
            and e.start <= prev.end + gap
        ):
            flows = [f for f in (prev.flow_lph_estimate, e.flow_lph_estimate) if f == f]
            out[-1] = ContinuousFlowEvent(
                meter=e.meter,
                start=prev.start,
                alert=prev.alert,
                end=e.end,
                flow_lph_estimate=min(flows) if flows else float("nan"),
                volume_l=prev.volume_l + e.volume_l,
            )
            continue
        out.append(e)
    return out


def _valid(x: NDArray[np.floating], p: ContinuousFlowParams) -> BoolArray:
    """Rule 1 (NaN fails both comparisons, so no separate finiteness test is needed)."""
    with np.errstate(invalid="ignore"):
        return (x >= 0) & (x <= p.max_hourly_l)


@dataclass(frozen=True)
class _NightHours:
    """Every meter's night hours, ``[meters, nights, longest night]``, ``inf`` where missing
    or padding, with the night minima (rule 4, ``NaN`` for a night with too few valid hours)."""

    hours: NDArray[np.floating]
    n_valid: IntArray
    lowest: NDArray[np.floating]

    @classmethod
    def read(cls, x: NDArray[np.floating], nights: _Nights, p: ContinuousFlowParams) -> _NightHours:
        """Only the night columns, in one gather (shorter nights padded, the padding left out)."""
        m, n_n = x.shape[0], nights.starts.size
        hours = x[:, nights.padded.ravel()].reshape(m, n_n, nights.padded.shape[1])
        ok = _valid(hours, p)
        ok &= nights.inside
        hours[~ok] = np.inf
        n_valid = ok.sum(axis=2, dtype=np.int64)
        lowest = hours.min(axis=2, initial=np.inf)
        lowest[n_valid < p.min_night_valid_hours] = np.nan
        return cls(hours, n_valid, lowest)

    def subset(self, rows: NDArray[np.int64]) -> _NightHours:
        return _NightHours(self.hours[rows], self.n_valid[rows], self.lowest[rows])

    def flat(self, p: ContinuousFlowParams) -> BoolArray:
        """Rule 4: more than half of the night's valid hours near its minimum."""
        with np.errstate(invalid="ignore"):
            tolerance = np.maximum(p.flat_tolerance_l, p.flat_tolerance_share * self.lowest)
            near = self.hours <= (self.lowest + tolerance)[:, :, None]
        flat: BoolArray = 2 * near.sum(axis=2, dtype=np.int64) > self.n_valid
        return flat


def _stretches(flag: BoolArray, hours: int) -> BoolArray:
    """True at hour ``h`` when ``flag`` holds at hours ``h - hours + 1 .. h`` (the window width
    doubles at each pass: a 24-hour window takes five passes over the array).  ``flag`` is
    overwritten."""
    span = 1
    while span < hours:
        step = min(span, hours - span)
        flag[:, step:] &= flag[:, :-step]
        flag[:, :step] = False  # not enough hours before the first columns
        span += step
    return flag


def _last_true(flag: BoolArray, idx1: IntArray) -> IntArray:
    """Per hour: 1 + the latest hour at or before it where ``flag`` holds, 0 if none."""
    last = flag * idx1
    np.maximum.accumulate(last, axis=1, out=last)
    return last


def _shortest_run_hours(p: ContinuousFlowParams) -> int:
    """Fewest valid hours a run needs before either branch of rule 5 can alert."""
    if p.steady_run_valid_hours is None:
        return p.min_run_valid_hours
    return min(p.min_run_valid_hours, p.steady_run_valid_hours)


def _in_run(flag: BoolArray, first: IntArray) -> IntArray:
    """``[meters, nights]``: nights flagged among ``first .. k`` (``first`` per meter and k)."""
    m, n_n = flag.shape
    cum = np.zeros((m, n_n + 1), dtype=np.int64)
    np.cumsum(flag, axis=1, out=cum[:, 1:])
    before: IntArray = np.take_along_axis(cum, first, axis=1)
    return cum[:, 1:] - before


def _run_nights(
    onset: IntArray,
    leaky: BoolArray,
    quiet: BoolArray,
    flat: BoolArray,
    nights: _Nights,
    p: ContinuousFlowParams,
) -> tuple[BoolArray, BoolArray]:
    """Rule 5's night conditions for the run in progress at the end of each night, as
    ``[meters, 1 + nights]`` flags (column 0: a run with no complete night yet): branch a's
    (enough leaky nights, no quiet one) and branch b's (a flat night)."""
    m, n_n = leaky.shape
    branch_a = np.full((m, n_n + 1), p.min_nights <= 0)
    branch_b = np.zeros((m, n_n + 1), dtype=bool)
    if n_n == 0:
        return branch_a, branch_b
    # Nights inside the run at night k's last hour: the first one starting at or after the
    # run's onset, up to k.
    first = np.searchsorted(nights.starts, onset[:, nights.ends - 1])
    branch_a[:, 1:] = _in_run(leaky, first) >= p.min_nights
    branch_a[:, 1:] &= _in_run(quiet, first) <= 0
    branch_b[:, 1:] = _in_run(leaky & flat, first) >= 1
    return branch_a, branch_b


def _scan_chunk(
    x: NDArray[np.floating],
    offset: int,
    nights: _Nights,
    p: ContinuousFlowParams,
) -> list[ContinuousFlowEvent]:
    """Rules 1-5 on the meters of one chunk (rows ``offset ..``), hour by hour where needed."""
    meters = np.arange(offset, offset + x.shape[0], dtype=np.int64)
    nh = _NightHours.read(x, nights, p)
    if p.min_nights >= 1:
        # Both branches of rule 5 need a leaky night: other meters cannot alert.
        with np.errstate(invalid="ignore"):
            keep = np.flatnonzero((nh.lowest >= p.min_night_flow_lph).any(axis=1))
        if keep.size < x.shape[0]:
            x, meters, nh = x[keep], meters[keep], nh.subset(keep)
    valid = _valid(x, p)
    zero = valid & (x <= p.zero_eps)
    shortest = _shortest_run_hours(p)
    if shortest > 1:
        # A run of that many valid hours spans at least as many hours without a zero hour.
        keep = np.flatnonzero(_stretches(~zero, shortest).any(axis=1))
        if keep.size < x.shape[0]:
            x, meters, nh = x[keep], meters[keep], nh.subset(keep)
            valid, zero = valid[keep], zero[keep]
    if x.shape[0] == 0:
        return []
    nmin = nh.lowest
    with np.errstate(invalid="ignore"):
        leaky = nmin >= p.min_night_flow_lph
        quiet = nmin < p.min_night_flow_lph
    flat = nh.flat(p)
    gap = _stretches(~valid, p.max_gap_hours + 1)
    # Hours after a meter's last valid hour are not in yet, not missing: a meter that sends its
    # hourly history in one daily frame is up to a day behind, and a run it is in stays open
    # until data after the gap ends it.
    last = x.shape[1] - 1 - np.argmax(valid[:, ::-1], axis=1)
    gap &= np.arange(x.shape[1]) <= last[:, None]
    brk = zero | gap
    idx1 = np.arange(1, x.shape[1] + 1, dtype=np.int64)
    onset = _last_true(brk, idx1)  # the run's onset, at every hour
    # Valid hours in the run: the running count minus its value at the run's break.
    run_valid = np.cumsum(valid, axis=1, dtype=np.int64)
    at_break = run_valid * brk
    np.maximum.accumulate(at_break, axis=1, out=at_break)
    run_valid -= at_break
    del at_break
    branch_a, branch_b = _run_nights(onset, leaky, quiet, flat, nights, p)
    # An hour sees the night state of the last night ended by then if its run was already
    # going at that night's end; otherwise its run has no complete night yet (column 0).
    same_run = onset <= nights.last_end
    night_ok = np.take(branch_a, nights.done_by, axis=1)
    if p.min_nights <= 0:
        night_ok |= ~same_run
    else:
        night_ok &= same_run
    cond = run_valid >= p.min_run_valid_hours
    cond &= night_ok
    del night_ok
    if p.steady_run_valid_hours is not None:
        with np.errstate(invalid="ignore"):
            low = valid & (x < p.min_night_flow_lph)
        steady = _last_true(low, idx1) <= onset  # no low hour since the onset
        del low
        steady &= run_valid >= p.steady_run_valid_hours
        steady &= np.take(branch_b, nights.done_by, axis=1)
        steady &= same_run
        cond |= steady
    return _events(cond, valid, zero, gap, brk, onset, nmin, nights, meters, p)


def _events(
    cond: BoolArray,
    valid: BoolArray,
    zero: BoolArray,
    gap: BoolArray,
    brk: BoolArray,
    onset_at: IntArray,
    nmin: NDArray[np.floating],
    nights: _Nights,
    meters: NDArray[np.int64],
    p: ContinuousFlowParams,
) -> list[ContinuousFlowEvent]:
    """Rules 5-6 bookkeeping: one event per run, at its first valid hour where ``cond`` holds.
    Within a run ``cond`` holds on at most two stretches (one per branch): the first rising edge
    of a run is searched up to the run's end, later ones are dropped."""
    n_h = cond.shape[1]
    rise = cond.copy()
    rise[:, 1:] &= ~cond[:, :-1]
    keep = np.flatnonzero(rise.any(axis=1))
    if keep.size == 0:
        return []
    if keep.size < rise.shape[0]:
        rise, cond, valid, brk = rise[keep], cond[keep], valid[keep], brk[keep]
    r, h0 = np.nonzero(rise)
    onset = onset_at[keep[r], h0]
    first = np.ones(r.size, dtype=bool)
    first[1:] = (r[1:] != r[:-1]) | (onset[1:] != onset[:-1])
    r, h0, onset = r[first], h0[first], onset[first]
    # Positions in the flattened rows of ``keep``: searching them finds, for every edge, the
    # next break after it and the first valid hour of ``cond`` from it on.
    row_start = r.astype(np.int64) * n_h
    at = row_start + h0
    breaks = np.flatnonzero(brk)
    i = np.searchsorted(breaks, at, side="right")
    nxt = breaks[np.minimum(i, breaks.size - 1)] if breaks.size else np.zeros_like(at)
    b = np.where((i < breaks.size) & (nxt < row_start + n_h), nxt - row_start, n_h)
    hits = np.flatnonzero(cond & valid)
    j = np.searchsorted(hits, at, side="left")  # the edge itself is in ``cond``
    hit = hits[np.minimum(j, hits.size - 1)] - row_start
    ok = (j < hits.size) & (hit < b)
    r, onset, hit, b = r[ok], onset[ok], hit[ok], b[ok]
    rows = keep[r]
    bb = np.minimum(b, n_h - 1)
    gap_end = (b < n_h) & gap[rows, bb] & ~zero[rows, bb]  # a long gap ends where it began
    stop = np.where(gap_end, b - p.max_gap_hours, b)
    flow = _run_flow(nmin, rows, onset, stop, nights)
    volume = flow * (stop - onset)
    return [
        ContinuousFlowEvent(
            meter=m, start=s, alert=a, end=None if e >= n_h else e, flow_lph_estimate=f, volume_l=v
        )
        for m, s, a, e, f, v in zip(
            meters[rows].tolist(),
            onset.tolist(),
            hit.tolist(),
            stop.tolist(),
            flow.tolist(),
            volume.tolist(),
            strict=True,
        )
    ]


def _run_flow(
    nmin: NDArray[np.floating],
    rows: NDArray[np.int64],
    onset: NDArray[np.int64],
    stop: NDArray[np.int64],
    nights: _Nights,
) -> NDArray[np.float64]:
    """Rule 6 leak flow: the lowest night minimum over the complete nights of each run."""
    n_n = nmin.shape[1]
    first = np.searchsorted(nights.starts, onset, side="left")
    after = np.searchsorted(nights.ends, stop, side="right")
    flow = np.full(rows.size, np.nan)
    some = after > first
    if not some.any():
        return flow
    flat = np.append(np.where(np.isfinite(nmin), nmin, np.inf).ravel(), np.inf)
    base = rows[some] * n_n
    bounds = np.stack([base + first[some], base + after[some]], axis=1).ravel()
    lowest = np.minimum.reduceat(flat, bounds)[::2].astype(np.float64)
    flow[some] = np.where(np.isfinite(lowest), lowest, np.nan)
    return flow
