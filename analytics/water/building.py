"""Building leak detectors: night flow against the building's own nights, and continuous flow
in buildings whose normal use stops.

Input is a ``[buildings, steps]`` matrix of litres per step (hourly, or any regular step such as
15 min), ``NaN`` for unknown, with its axis (``hourly_axis`` or ``meter_hours.step_axis``).

Night-flow rule (issue 5, design brief §5 Water)
------------------------------------------------
1. *Night flow*: over the local hours ``[night_start_hour, night_end_hour)`` of each local date
   (00:00-05:00, Europe/Paris: a DST night lasts 4 or 6 hours), the lowest flow of a step, in
   L/h. A toilet flushed at 3 a.m. does not move it; a leak lifts every step, so it lifts the
   minimum by the leak's flow. A night is *known* when at least ``min_night_coverage`` of its
   nominal steps are known.
2. *Baseline* of night ``k``: the median of the building's known nights among the previous
   ``baseline_nights``, leaving out nights already found in excess (a leak does not become the
   norm). Its *spread* is the inter-quartile range / 1.349 (a robust standard deviation). At
   least ``min_baseline_nights`` nights are needed, else night ``k`` is not assessed.
3. Night ``k`` is in *excess* when its flow is above baseline + max(``floor_lph``,
   ``k_spread`` × spread). Pools that filter all night or gyms whose sessions end late simply
   have a higher baseline: each building is compared with itself.
4. An *event* starts with ``min_nights`` consecutive assessed nights in excess (nights that
   cannot be assessed are skipped, they neither confirm nor end it); its onset is the start of
   its first excess night, the alert is raised at the end of the night that confirms it, and it
   ends at the start of the next assessed night that is not in excess (``end`` exclusive, or
   ``None`` while open). Excess flow = median over its nights of night flow − baseline; volume
   lost = excess flow × hours from onset to end (or to the last step).

A lasting change of night use is excluded from the baseline until fewer than
``min_baseline_nights`` normal nights remain in the window; the nights then go unassessed, enter
the baseline, and the new level becomes the norm (about ``baseline_nights`` nights after onset).

Continuous-flow rule on buildings (:func:`building_continuous_flow`)
--------------------------------------------------------------------
The household rule (:mod:`analytics.water.household`: no zero hour over 24 h with two leaky
nights and no quiet night, or a steady run confirmed by one flat leaky night) with
``BUILDING_PARAMS``, on hourly litres, judges only buildings whose
normal use stops: a pool renews water and makes up evaporation all night, it never has a zero
hour, and the rule would hold it in alert for good.

5. A *busy night* is a night of the rule (``night_start_hour`` to ``night_end_hour``, at least
   ``min_night_valid_hours`` valid hours) whose lowest valid hour is at least
   ``min_night_flow_lph``: what the rule counts as a leaky night. Other known nights are quiet.
6. Each event of the rule (a run since the last zero hour or long gap) is judged against the
   building's *reference*: the ``reference_nights`` nights that end before the run's onset.
   Fewer than ``min_reference_nights`` known nights there: the building's normal use is
   unknown and the run is *not judged* (no alert; a caller should not take it as evidence that
   an alert's leak stopped either). More than ``busy_share`` of them busy: the building is
   *always on*, the run is its normal use, no alert. Otherwise the run is an alert.
7. The water meter's ``continuous_use`` device parameter overrides the learned verdict: true =
   always on (never judged by this rule), false = always judged, even without a reference.

Consequences: a building that becomes always on because of a leak is still judged, its
reference being the nights before the leak; but a leak already running when the data start
(a run from the first hour) has no reference and goes unjudged by this rule, and so does a leak
starting in the first ``min_reference_nights`` nights, unless the meter is declared
``continuous_use: false``. Always-on buildings stay covered by the night-flow rule, which
compares their nights with their own baseline. A building closed for more than ``busy_share``
of its reference nights (a pool's annual draining) is judged again when it reopens: declare its
meter ``continuous_use: true``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from analytics.water.axis import HourlyAxis, night_windows
from analytics.water.household import (
    ContinuousFlowEvent,
    ContinuousFlowParams,
    detect_continuous_flow,
)

# Continuous flow on building meters: larger meters, and leaks of 20-200 L/h. Buildings used
# around the clock (pools) never have a zero hour: see rules 5-7 of the module docstring.
BUILDING_PARAMS = ContinuousFlowParams(max_hourly_l=50_000.0, min_night_flow_lph=10.0)


_BLOCK_METERS = 2048


@dataclass(frozen=True)
class NightFlowParams:
    """Parameters of the building night-flow rule (see the module docstring)."""

    night_start_hour: int = 0
    night_end_hour: int = 5
    min_night_coverage: float = 0.75
    baseline_nights: int = 28
    min_baseline_nights: int = 7
    floor_lph: float = 10.0
    k_spread: float = 4.0
    min_nights: int = 2


@dataclass(frozen=True)
class NightFlowEvent:
    """One night-flow alert on one building (indices are columns of the input matrix)."""

    meter: int
    start: int
    alert: int
    end: int | None
    baseline_lph: float
    excess_flow_lph: float
    volume_l: float
    nights: int


@dataclass(frozen=True)
class NightFlows:
    """Per building and night: night flow, baseline, threshold, excess (for dashboards)."""

    night_start: NDArray[np.int64]  # first column of each night
    night_end: NDArray[np.int64]  # column after each night
    flow_lph: NDArray[np.float64]  # [meters, nights], NaN = night unknown
    baseline_lph: NDArray[np.float64]  # NaN = not assessed
    threshold_lph: NDArray[np.float64]
    excess: NDArray[np.bool_]


def _step_h(axis: HourlyAxis) -> float:
    utc = axis.utc.astype("datetime64[s]").astype(np.int64)
    return float(utc[1] - utc[0]) / 3600.0 if utc.size > 1 else 1.0


def _row_quantile(
    sorted_rows: NDArray[np.float64], count: NDArray[np.int64], q: float
) -> NDArray[np.float64]:
    """Quantile ``q`` (linear) of each row's first ``count`` values (sorted, NaN last)."""
    pos = q * np.maximum(count - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(count - 1, 0))
    a = np.take_along_axis(sorted_rows, lo[:, None], axis=1)[:, 0]
    b = np.take_along_axis(sorted_rows, hi[:, None], axis=1)[:, 0]
    out: NDArray[np.float64] = a + (b - a) * (pos - lo)
    return out


def _night_minimum(
    x: NDArray[np.floating], ns: NDArray[np.int64], ne: NDArray[np.int64], need: float
) -> NDArray[np.float64]:
    """Rule 1: lowest known litres of a step in each night, ``[nights, meters]``.

    Night-major layout, so that each reduction runs across meters (vectorised); meters are
    taken in blocks small enough for the gather to stay in cache.
    """
    m = x.shape[0]
    out = np.full((ns.size, m), np.nan)
    if ns.size == 0:
        return out
    lengths = ne - ns
    cols = np.concatenate([np.arange(a, b) for a, b in zip(ns.tolist(), ne.tolist(), strict=True)])
    at = np.concatenate([[0], np.cumsum(lengths)]).tolist()
    for lo in range(0, m, _BLOCK_METERS):
        seg = x[lo : lo + _BLOCK_METERS].T[cols]
        with np.errstate(invalid="ignore"):
            if np.any(seg < 0):
                seg = np.where(seg >= 0, seg, np.nan)
        known = np.isfinite(seg)
        for k in range(ns.size):
            a, b = at[k], at[k + 1]
            low = np.fmin.reduce(seg[a:b], axis=0)
            enough = known[a:b].sum(axis=0) >= need
            out[k, lo : lo + seg.shape[1]] = np.where(enough, low, np.nan)
    return out


def _assess(
    flow: NDArray[np.float64], p: NightFlowParams, every_row: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    """Rules 2-3 on ``[nights, meters]``: baseline, threshold, assessed and excess.

    Unless ``every_row``, the baseline is only computed where the night could be in excess: a
    night no higher than the window's lowest night + floor cannot exceed median + floor.
    """
    n_n, m = flow.shape
    base = np.full((n_n, m), np.nan)
    thr = np.full((n_n, m), np.nan)
    assessed = np.zeros((n_n, m), dtype=bool)
    excess = np.zeros((n_n, m), dtype=bool)
    history = flow.copy()  # nights in excess are removed from it as they are found
    for k in range(p.min_baseline_nights, n_n):
        window = history[max(0, k - p.baseline_nights) : k]
        count = np.isfinite(window).sum(axis=0)
        ok = (count >= p.min_baseline_nights) & np.isfinite(flow[k])
        assessed[k] = ok
        if every_row:
            rows = np.flatnonzero(ok)
        else:
            with np.errstate(invalid="ignore"):
                rows = np.flatnonzero(ok & (flow[k] > np.fmin.reduce(window, axis=0) + p.floor_lph))
        if rows.size == 0:
            continue
        w, c = np.sort(window[:, rows].T, axis=1), count[rows]
        med = _row_quantile(w, c, 0.5)
        spread = (_row_quantile(w, c, 0.75) - _row_quantile(w, c, 0.25)) / 1.349
        base[k, rows] = med
        thr[k, rows] = med + np.maximum(p.floor_lph, p.k_spread * spread)
        hit = rows[flow[k, rows] > thr[k, rows]]
        excess[k, hit] = True
        history[k, hit] = np.nan
    return base, thr, assessed, excess


def _flows(
    volume_l: NDArray[np.floating], axis: HourlyAxis, p: NightFlowParams
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    x = np.asarray(volume_l)
    if x.ndim != 2 or x.shape[1] != len(axis.utc):
        raise ValueError("volume_l must be [meters, steps] on the axis")
    step_h = _step_h(axis)
    ns, ne = night_windows(axis.local_hour, axis.local_date, p.night_start_hour, p.night_end_hour)
    need = float(np.ceil(p.min_night_coverage * (p.night_end_hour - p.night_start_hour) / step_h))
    return ns, ne, _night_minimum(x, ns, ne, need) / step_h


def night_flows(
    volume_l: NDArray[np.floating], axis: HourlyAxis, params: NightFlowParams | None = None
) -> NightFlows:
    """Rules 1-3 for every building (row) and night, every baseline computed (dashboards)."""
    p = params or NightFlowParams()
    ns, ne, flow = _flows(volume_l, axis, p)
    base, thr, _assessed, excess = _assess(flow, p, every_row=True)
    return NightFlows(ns, ne, flow.T, base.T, thr.T, excess.T)


def detect_night_flow(
    volume_l: NDArray[np.floating], axis: HourlyAxis, params: NightFlowParams | None = None
) -> list[NightFlowEvent]:
    """Scan every building (row) and return its night-flow events (rule 4)."""
    p = params or NightFlowParams()
    ns, ne, flow = _flows(volume_l, axis, p)
    flow_t, base_t, _thr, assessed_t, excess_t = flow, *_assess(flow, p, every_row=False)
    flow, base, assessed, excess = flow_t.T, base_t.T, assessed_t.T, excess_t.T
    n_steps = len(axis.utc)
    step_h = _step_h(axis)
    events: list[NightFlowEvent] = []
    for r in np.flatnonzero(excess.any(axis=1)).tolist():
        nights = np.flatnonzero(assessed[r])
        exc = excess[r, nights]
        # Runs of consecutive excess among the assessed nights.
        edge = np.diff(np.concatenate([[0], exc.astype(np.int8), [0]]))
        for a, b in zip(np.flatnonzero(edge == 1), np.flatnonzero(edge == -1), strict=True):
            if b - a < p.min_nights:
                continue
            ks = nights[a:b]
            first, confirm = int(ks[0]), int(ks[p.min_nights - 1])
            start = int(ns[first])
            end = int(ns[nights[b]]) if b < nights.size else None
            over = flow[r, ks] - base[r, ks]
            excess_lph = float(np.median(over))
            stop = n_steps if end is None else end
            events.append(
                NightFlowEvent(
                    meter=r,
                    start=start,
                    alert=int(ne[confirm]) - 1,
                    end=end,
                    baseline_lph=float(base[r, first]),
                    excess_flow_lph=excess_lph,
                    volume_l=excess_lph * (stop - start) * step_h,
                    nights=int(ks.size),
                )
            )
    return events


@dataclass(frozen=True)
class AlwaysOnParams:
    """Parameters of the always-on verdict of the continuous-flow rule (rules 5-7)."""

    reference_nights: int = 28
    min_reference_nights: int = 7  # a week: the building's weekdays and weekend
    busy_share: float = 0.5  # more than this share of busy nights: always on


@dataclass(frozen=True)
class BuildingLeaks:
    """The continuous-flow rule on buildings: its alerts, and the runs it did not judge."""

    alerts: list[ContinuousFlowEvent]
    always_on: list[ContinuousFlowEvent]  # the building's normal use is continuous
    unjudged: list[ContinuousFlowEvent]  # too few known nights before the run to tell


def busy_nights(
    volume_l: NDArray[np.floating], axis: HourlyAxis, params: ContinuousFlowParams = BUILDING_PARAMS
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    """Rule 5: each night's columns ``[start, end)`` and ``[meters, nights]`` 1.0 for a busy
    night, 0.0 for a quiet one, ``NaN`` for an unknown one (hourly litres)."""
    p = params
    x = np.asarray(volume_l, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(axis.utc):
        raise ValueError("volume_l must be [meters, hours] on the axis")
    ns, ne = night_windows(axis.local_hour, axis.local_date, p.night_start_hour, p.night_end_hour)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(x) & (x >= 0) & (x <= p.max_hourly_l)  # the rule's own cleaning
    lowest = np.where(valid, x, np.inf)
    busy = np.full((x.shape[0], ns.size), np.nan)
    for k, (a, b) in enumerate(zip(ns.tolist(), ne.tolist(), strict=True)):
        known = valid[:, a:b].sum(axis=1) >= p.min_night_valid_hours
        low = lowest[:, a:b].min(axis=1)
        busy[:, k] = np.where(known, (low >= p.min_night_flow_lph).astype(np.float64), np.nan)
    return ns, ne, busy


def building_continuous_flow(
    volume_l: NDArray[np.floating],
    axis: HourlyAxis,
    continuous_use: Sequence[bool | None] | None = None,
    *,
    params: ContinuousFlowParams = BUILDING_PARAMS,
    always_on: AlwaysOnParams | None = None,
) -> BuildingLeaks:
    """Rules 5-7: the continuous-flow events of every building (row) of hourly litres, sorted
    into alerts, always-on runs and unjudged runs. ``continuous_use`` holds each row's declared
    value (``None``: learn it from the data)."""
    a = always_on or AlwaysOnParams()
    x = np.asarray(volume_l, dtype=np.float64)
    declared = list(continuous_use) if continuous_use is not None else [None] * x.shape[0]
    if len(declared) != x.shape[0]:
        raise ValueError("continuous_use must have one entry per meter")
    events = detect_continuous_flow(x, axis.local_hour, axis.local_date, params)
    out = BuildingLeaks(alerts=[], always_on=[], unjudged=[])
    if not events:
        return out
    _ns, ne, busy = busy_nights(x, axis, params)
    for e in events:
        said = declared[e.meter]
        if said is not None:
            (out.always_on if said else out.alerts).append(e)
            continue
        # Nights that ended before the run's onset: the run's own nights are not its reference.
        k = int(np.searchsorted(ne, e.start, side="right"))
        reference = busy[e.meter, max(0, k - a.reference_nights) : k]
        known = reference[np.isfinite(reference)]
        if known.size < a.min_reference_nights:
            out.unjudged.append(e)
        elif known.mean() > a.busy_share:
            out.always_on.append(e)
        else:
            out.alerts.append(e)
    return out
