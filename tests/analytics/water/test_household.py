"""Continuous-flow detector on seeded synthetic homes (no shared data read here)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.water.axis import HourlyAxis, hourly_axis, night_windows
from analytics.water.household import (
    ContinuousFlowEvent,
    ContinuousFlowParams,
    detect_continuous_flow,
)


def _home(axis: HourlyAxis, rng: np.random.Generator) -> np.ndarray:
    """A normal home: zero at night, bursts of use in the day, some zero day hours."""
    lh = axis.local_hour
    use = np.where((lh >= 7) & (lh <= 22), rng.gamma(1.5, 20.0, lh.size), 0.0)
    use[rng.random(lh.size) < 0.3] = 0.0
    return np.round(use)


def _axis(start: datetime, days: int) -> HourlyAxis:
    return hourly_axis(start, days * 24)


def test_constant_leak_found_with_onset_and_flow() -> None:
    rng = np.random.default_rng(1)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 20)
    homes = np.vstack([_home(axis, rng) for _ in range(5)])
    onset = 24 * 8 + 13
    homes[2, onset:] += 10.0
    events = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    assert [e.meter for e in events] == [2]
    e = events[0]
    assert abs(e.start - onset) <= 12
    assert e.end is None
    assert 8.0 <= e.flow_lph_estimate <= 12.0
    assert e.alert - onset <= 72
    assert e.volume_l == pytest.approx(e.flow_lph_estimate * (homes.shape[1] - e.start))


def test_leak_that_stops_is_closed() -> None:
    rng = np.random.default_rng(2)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 20)
    home = _home(axis, rng)[None, :]
    home[0, 100:300] += 20.0
    (e,) = detect_continuous_flow(home, axis.local_hour, axis.local_date)
    assert e.end is not None and 295 <= e.end <= 330
    assert 16.0 <= e.flow_lph_estimate <= 24.0


def test_normal_homes_raise_nothing() -> None:
    rng = np.random.default_rng(3)
    axis = _axis(datetime(2024, 1, 1, tzinfo=UTC), 60)
    homes = np.vstack([_home(axis, rng) for _ in range(200)])
    assert detect_continuous_flow(homes, axis.local_hour, axis.local_date) == []


def test_missing_hours_and_register_reset_do_not_alert() -> None:
    rng = np.random.default_rng(4)
    axis = _axis(datetime(2024, 3, 1, tzinfo=UTC), 30)
    homes = np.vstack([_home(axis, rng) for _ in range(4)])
    # every night hour missing for a week: nothing to say, no alert
    night = (axis.local_hour >= 0) & (axis.local_hour < 6)
    homes[0, np.flatnonzero(night)[:42]] = np.nan
    # register reset artefacts: +248,5xx then -248,5xx
    homes[1, 200] = 248_543.0
    homes[1, 201] = -248_520.0
    homes[1, 400:403] = [248_500.0, -248_499.0, 248_502.0]
    # long gap
    homes[2, 300:420] = np.nan
    # random missing hours everywhere
    homes[3, rng.random(homes.shape[1]) < 0.2] = np.nan
    assert detect_continuous_flow(homes, axis.local_hour, axis.local_date) == []


def test_reset_inside_leak_does_not_break_or_inflate_it() -> None:
    rng = np.random.default_rng(5)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 15)
    home = _home(axis, rng)[None, :]
    home[0, 50:] += 10.0
    home[0, 150] = -248_510.0
    home[0, 151] = 248_530.0
    (e,) = detect_continuous_flow(home, axis.local_hour, axis.local_date)
    assert e.end is None
    assert 8.0 <= e.flow_lph_estimate <= 12.0


@pytest.mark.parametrize(
    ("start", "short_date", "n_hours"),
    [
        (datetime(2024, 3, 25, tzinfo=UTC), "2024-03-31", 23),
        (datetime(2024, 10, 20, tzinfo=UTC), "2024-10-27", 25),
    ],
)
def test_dst_days(start: datetime, short_date: str, n_hours: int) -> None:
    axis = _axis(start, 14)
    dates, counts = np.unique(axis.local_date, return_counts=True)
    assert counts[list(dates.astype(str)).index(short_date)] == n_hours
    s, e = night_windows(axis.local_hour, axis.local_date, 1, 5)
    lengths = dict(zip(axis.local_date[s].astype(str), e - s, strict=True))
    assert lengths[short_date] == (3 if n_hours == 23 else 5)
    edges = (str(axis.local_date[0]), str(axis.local_date[-1]))  # axis cut mid-night
    assert all(v == 4 for k, v in lengths.items() if k != short_date and k not in edges)
    rng = np.random.default_rng(6)
    homes = np.vstack([_home(axis, rng) for _ in range(3)])
    onset = 24 * 4 + 10
    homes[1, onset:] += 10.0
    events = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    assert [ev.meter for ev in events] == [1]
    assert abs(events[0].start - onset) <= 12
    assert 8.0 <= events[0].flow_lph_estimate <= 12.0


def test_chunking_matches_single_pass() -> None:
    rng = np.random.default_rng(7)
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 12)
    homes = np.vstack([_home(axis, rng) for _ in range(50)])
    homes[::7, 60:] += 5.0
    a = detect_continuous_flow(homes, axis.local_hour, axis.local_date)
    b = detect_continuous_flow(
        homes, axis.local_hour, axis.local_date, ContinuousFlowParams(chunk_meters=8)
    )
    assert a == b and len(a) == 8


def test_bad_shapes() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 2)
    with pytest.raises(ValueError):
        detect_continuous_flow(np.zeros(48), axis.local_hour, axis.local_date)
    with pytest.raises(ValueError):
        detect_continuous_flow(np.zeros((2, 47)), axis.local_hour, axis.local_date)


# --- Rule 5b: one flat leaky night confirms a steady run --------------------------------------


def _col(axis: HourlyAxis, day: str, hour: int) -> int:
    """First column of local ``day`` at local ``hour``."""
    (cols,) = np.nonzero((axis.local_date == np.datetime64(day)) & (axis.local_hour == hour))
    return int(cols[0])


def _dry_home(axis: HourlyAxis) -> np.ndarray:
    """Zero from 23:00 to 07:00, 20 L every other hour in the day, zero in between."""
    lh = axis.local_hour
    return np.where((lh >= 7) & (lh <= 22) & (lh % 2 == 0), 20.0, 0.0)


def _night_hours(axis: HourlyAxis, day: str) -> np.ndarray:
    """Columns of the night (01:00-05:00 local) of ``day``."""
    return np.flatnonzero(
        (axis.local_date == np.datetime64(day)) & np.isin(axis.local_hour, (1, 2, 3, 4))
    )


ONE_NIGHT = 29  # the 30th valid hour of a steady run: rule 5b's alert
OFF = ContinuousFlowParams(steady_run_valid_hours=None)


def test_steady_leak_alerts_after_one_flat_night() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 8)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)  # zero at 11:00: the run starts with the leak
    home[onset:] += 10.0
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (e.start, e.alert, e.end) == (onset, onset + ONE_NIGHT, None)
    assert e.flow_lph_estimate == 10.0
    # Rule 5a alone waits for the end of the second night (04:00 two days later).
    (old,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date, OFF)
    assert old.start == onset
    assert old.alert == _col(axis, "2024-06-05", 4) == onset + 40


@pytest.mark.parametrize("flow", [4.5, 9.6])
def test_register_steps_still_make_a_flat_night(flow: float) -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 8)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    # A register counting whole litres reads 4.5 L/h as 4 or 5 L an hour, 9.6 as 9 or 10.
    home[onset:] += np.diff(np.floor(flow * np.arange(home.size - onset + 1)))
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert e.alert == onset + ONE_NIGHT
    assert e.flow_lph_estimate == np.floor(flow)


@pytest.mark.parametrize("night", [[4.0, 12.0, 9.0, 20.0], [6.0, 6.0, 15.0, 22.0]])
def test_uneven_night_is_not_a_leak(night: list[float]) -> None:
    """A large household using water all day and through a night with no hour under 3 L: the
    night is leaky but its hours are not the same flow, so one night is not enough."""
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 8)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    stop = _col(axis, "2024-06-04", 23)  # 34 hours of use, then a zero hour
    home[onset:stop] = 8.0
    home[_night_hours(axis, "2024-06-04")] = night
    assert detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date) == []
    # Had its night been flat, the same run would have been an alert.
    home[_night_hours(axis, "2024-06-04")] = [6.0, 6.0, 6.0, 22.0]
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (e.start, e.alert, e.end) == (onset, onset + ONE_NIGHT, stop)


def test_low_hour_in_run_waits_for_two_nights() -> None:
    """A run that began before the leak with a 2 L hour is not steady: rule 5a decides."""
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 8)
    home = _dry_home(axis)
    leak = _col(axis, "2024-06-03", 13)
    home[leak - 3 : leak] = [0.0, 2.0, 20.0]
    home[leak:] += 10.0
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert e.start == leak - 2
    assert e.alert == _col(axis, "2024-06-05", 4)


def test_missing_hours_count_neither_way() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 8)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    home[onset:] += 10.0
    home[onset + 2 : onset + 5] = np.nan  # three missing hours: 30 valid hours come 3 h later
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (e.start, e.alert) == (onset, onset + ONE_NIGHT + 3)


def test_night_with_one_valid_hour_is_not_assessed() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 9)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    home[onset:] += 10.0
    home[_night_hours(axis, "2024-06-04")[1:]] = np.nan  # one valid hour that night
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert e.alert == _col(axis, "2024-06-05", 4)  # the next night confirms it (rule 5b)
    (old,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date, OFF)
    assert old.alert == _col(axis, "2024-06-06", 4)  # rule 5a needs two assessed nights


def test_long_gap_splits_the_run_and_the_alert_is_updated() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 10)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    home[onset:] += 10.0
    gap = onset + 40
    home[gap : gap + 8] = np.nan  # 8 missing hours: the run ends where the gap began
    (first, second) = detect_continuous_flow(
        home[None, :], axis.local_hour, axis.local_date, ContinuousFlowParams(merge_gap_hours=0)
    )
    assert (first.start, first.alert, first.end) == (onset, onset + ONE_NIGHT, gap)
    assert second.start == gap + 8 and second.end is None  # the first hour after the gap
    (merged,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (merged.start, merged.alert, merged.end) == (onset, onset + ONE_NIGHT, None)
    assert merged.volume_l == pytest.approx(first.volume_l + second.volume_l)


def test_hours_not_in_yet_leave_the_leak_open() -> None:
    """A meter that sends its hourly history in one daily frame is up to a day behind: the
    hours after its last reading are not a gap that ends the run, until data follows them."""
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 10)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    home[onset:] += 10.0
    last = _col(axis, "2024-06-06", 0)
    home[last + 1 :] = np.nan  # 20-odd hours of the next daily frame, not sent yet
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (e.start, e.alert, e.end) == (onset, onset + ONE_NIGHT, None)
    home[last + 20] = 10.0  # a reading after the gap: now it was a gap, and it ends the run
    (ended, *_) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert ended.end == last + 1


def test_condition_met_only_on_a_missing_hour_raises_nothing() -> None:
    """Rule 5 alerts at a valid hour: a run whose second night ends on a missing hour and stops
    at the next hour never alerts, and a later leak on the same meter is its own alert."""
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 12)
    home = _dry_home(axis)
    onset = _col(axis, "2024-06-03", 12)
    last = _col(axis, "2024-06-05", 4)  # the last hour of the run's second night
    home[onset:last] += 10.0
    home[last] = np.nan
    again = _col(axis, "2024-06-08", 12)
    home[again:] += 10.0
    events = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date, OFF)
    assert [(e.start, e.alert) for e in events] == [(again, _col(axis, "2024-06-10", 4))]


def test_leaks_far_apart_are_two_alerts() -> None:
    axis = _axis(datetime(2024, 6, 1, tzinfo=UTC), 14)
    home = _dry_home(axis)
    a, b = _col(axis, "2024-06-02", 12), _col(axis, "2024-06-04", 23)
    c = _col(axis, "2024-06-09", 12)
    home[a:b] += 10.0
    home[c:] += 10.0
    first, second = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (first.start, first.end, second.start, second.end) == (a, b, c, None)
    # Repaired and leaking again 10 hours later: the same alert, updated.
    home[b + 10 : c] += 10.0
    home[b : b + 10] = 0.0
    (one,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert (one.start, one.alert, one.end) == (a, a + ONE_NIGHT, None)


@pytest.mark.parametrize(
    ("start", "day", "busy_hours", "flat"),
    [
        # 2024-03-31: the night has three hours (01, 03, 04); two at the floor is a majority.
        (datetime(2024, 3, 25, tzinfo=UTC), "2024-03-31", 1, True),
        (datetime(2024, 3, 25, tzinfo=UTC), "2024-03-31", 2, False),
        # 2024-10-27: five hours (01, 02, 02, 03, 04); three at the floor are needed.
        (datetime(2024, 10, 21, tzinfo=UTC), "2024-10-27", 2, True),
        (datetime(2024, 10, 21, tzinfo=UTC), "2024-10-27", 3, False),
    ],
)
def test_dst_night_flatness(start: datetime, day: str, busy_hours: int, flat: bool) -> None:
    axis = _axis(start, 10)
    home = _dry_home(axis)
    night = np.flatnonzero(
        (axis.local_date == np.datetime64(day)) & (axis.local_hour >= 1) & (axis.local_hour < 5)
    )
    assert night.size == (3 if day.endswith("31") else 5)
    onset = night[0] - 13  # 12:00 local the day before
    home[onset:] += 10.0
    home[night[:busy_hours]] += 25.0
    (e,) = detect_continuous_flow(home[None, :], axis.local_hour, axis.local_date)
    assert e.start == onset
    if flat:
        assert e.alert == onset + ONE_NIGHT
    else:  # the next night, flat, confirms it
        assert e.alert == night[-1] + 24


# --- The vectorised scan against the rule of the module docstring, hour by hour ---------------


def _rule(x: np.ndarray, axis: HourlyAxis, p: ContinuousFlowParams) -> list[ContinuousFlowEvent]:
    """Rules 1-6 read literally, one meter and one hour at a time (slow, obviously so)."""
    ns, ne = night_windows(axis.local_hour, axis.local_date, p.night_start_hour, p.night_end_hour)
    n_h = x.shape[1]
    out: list[ContinuousFlowEvent] = []
    for r, row in enumerate(x.tolist()):
        valid = [math.isfinite(v) and 0 <= v <= p.max_hourly_l for v in row]
        nights: list[tuple[int, int, float, bool]] = []  # assessed nights: start, end, min, flat
        for s, e in zip(ns.tolist(), ne.tolist(), strict=True):
            vals = [row[h] for h in range(s, e) if valid[h]]
            if len(vals) >= p.min_night_valid_hours:
                low = min(vals)
                tol = max(p.flat_tolerance_l, p.flat_tolerance_share * low)
                nights.append((s, e, low, 2 * sum(v <= low + tol for v in vals) > len(vals)))
        breaks, missing = [], 0
        last_valid = max((h for h in range(n_h) if valid[h]), default=-1)
        for h in range(n_h):
            missing = 0 if valid[h] else missing + 1
            long_gap = missing > p.max_gap_hours and h < last_valid  # hours not in yet are not
            if (valid[h] and row[h] <= p.zero_eps) or long_gap:
                breaks.append(h)
        onset = 0
        for b in [*breaks, n_h]:
            run_valid, steady = 0, True
            for h in range(onset, b):
                if valid[h]:
                    run_valid += 1
                    steady = steady and row[h] >= p.min_night_flow_lph
                done = [n for n in nights if n[0] >= onset and n[1] <= h + 1]
                leaky = [n for n in done if n[2] >= p.min_night_flow_lph]
                rule_a = (
                    run_valid >= p.min_run_valid_hours
                    and len(leaky) >= p.min_nights
                    and len(leaky) == len(done)
                )
                rule_b = (
                    p.steady_run_valid_hours is not None
                    and steady
                    and run_valid >= p.steady_run_valid_hours
                    and any(n[3] for n in leaky)
                )
                if valid[h] and (rule_a or rule_b):
                    end = None if b == n_h else b if valid[b] else b - p.max_gap_hours
                    stop = n_h if end is None else end
                    mins = [n[2] for n in nights if n[0] >= onset and n[1] <= stop]
                    flow = min(mins) if mins else math.nan
                    event = ContinuousFlowEvent(r, onset, h, end, flow, flow * (stop - onset))
                    prev = out[-1] if out else None
                    if (
                        prev is not None
                        and prev.meter == r
                        and prev.end is not None
                        and onset <= prev.end + p.merge_gap_hours
                    ):
                        flows = [f for f in (prev.flow_lph_estimate, flow) if f == f]
                        event = replace(
                            prev,
                            end=end,
                            flow_lph_estimate=min(flows) if flows else math.nan,
                            volume_l=prev.volume_l + event.volume_l,
                        )
                        out.pop()
                    out.append(event)
                    break
            onset = b + 1
    return out


def _homes_of_every_kind(axis: HourlyAxis, n: int, seed: int) -> np.ndarray:
    """Dry homes, homes using water at night, leaks (steady, read in whole litres, repaired),
    missing hours, long gaps, register resets and near-zero hours."""
    rng = np.random.default_rng(seed)
    lh = axis.local_hour
    out = np.vstack([_home(axis, rng) for _ in range(n)])
    for row in out:
        kind = rng.integers(7)
        if kind == 1:  # a large household: use at night too, sometimes all night
            row += np.round(rng.gamma(0.8, 6.0, row.size)) * (rng.random(row.size) < 0.8)
        elif kind in (2, 3):  # a leak from a random hour, maybe repaired
            a = int(rng.integers(0, row.size - 24))
            b = int(rng.integers(a + 12, row.size + 40))
            flow = float(rng.choice([3.0, 3.5, 5.0, 9.6, 20.0]))
            litres = np.diff(np.floor(flow * np.arange(row.size + 1)))
            row[a:b] += litres[a:b] if kind == 3 else flow
        elif kind == 4:  # near-zero hours and a constant trickle under the threshold
            row += np.where((lh >= 0) & (lh < 6), 0.3, 1.0) * (rng.random(row.size) < 0.7)
        elif kind == 5:  # a leak that drops to a trickle some nights: quiet, yet no zero hour
            a = int(rng.integers(0, row.size // 2))
            row[a:] += 6.0
            night = np.flatnonzero((lh[a:] >= 1) & (lh[a:] < 5) & (rng.random(row.size - a) < 0.3))
            row[a + night] = 2.0
        row[rng.random(row.size) < 0.04] = np.nan
        if rng.random() < 0.3:
            g = int(rng.integers(0, row.size - 10))
            row[g : g + int(rng.integers(5, 10))] = np.nan
        if rng.random() < 0.2:
            row[int(rng.integers(row.size))] = rng.choice([248_530.0, -248_510.0, -2.0])
        if rng.random() < 0.2:  # a daily frame not in yet
            row[-int(rng.integers(1, 30)) :] = np.nan
    return out


def _key(events: list[ContinuousFlowEvent]) -> list[tuple[object, ...]]:
    """Comparable events (NaN is not equal to itself; sums may differ in the last bits)."""

    def num(v: float) -> float | None:
        return None if math.isnan(v) else round(v, 6)

    return [
        (e.meter, e.start, e.alert, e.end, num(e.flow_lph_estimate), num(e.volume_l))
        for e in events
    ]


@pytest.mark.parametrize(
    "params",
    [
        ContinuousFlowParams(),
        ContinuousFlowParams(chunk_meters=16, steady_run_valid_hours=26),
        OFF,
        ContinuousFlowParams(min_nights=1, max_gap_hours=3, flat_tolerance_share=0.0),
        ContinuousFlowParams(min_night_flow_lph=0.0, min_nights=0, min_run_valid_hours=30),
        ContinuousFlowParams(min_night_flow_lph=10.0, max_hourly_l=50_000.0, merge_gap_hours=0),
        ContinuousFlowParams(min_run_valid_hours=20, steady_run_valid_hours=12),
        ContinuousFlowParams(min_nights=0, min_run_valid_hours=20, steady_run_valid_hours=None),
    ],
)
@pytest.mark.parametrize(
    "start", [datetime(2024, 3, 24, 7, tzinfo=UTC), datetime(2024, 10, 20, tzinfo=UTC)]
)
def test_scan_follows_the_documented_rule(params: ContinuousFlowParams, start: datetime) -> None:
    axis = _axis(start, 16)
    homes = _homes_of_every_kind(axis, 120, seed=start.month)
    expected = _rule(homes, axis, params)
    assert len(expected) >= 3
    assert _key(detect_continuous_flow(homes, axis.local_hour, axis.local_date, params)) == _key(
        expected
    )
