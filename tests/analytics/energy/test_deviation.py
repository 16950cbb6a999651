"""The deviation detector on seeded synthetic buildings: causal, quiet when clean, finds faults."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pytest

from analytics.energy.deviation import (
    DeviationParams,
    MeterDeviation,
    State,
    day_groups,
    recent_offset,
    score_meter,
)

UTC = ZoneInfo("UTC")
START = np.datetime64("2025-01-06T00:00", "s")  # a Monday
DAYS = 330
WEEK_AT = 260 * 24  # a Monday, well after the 150 days of learning


def building(seed: int, days: int = DAYS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hours, kWh and °C of an office: occupied 08-18 on weekdays, heating below 15 °C."""
    rng = np.random.default_rng(seed)
    n = days * 24
    hours = START + np.arange(n) * np.timedelta64(3600, "s")
    i = np.arange(n)
    hod, weekday = i % 24, (i // 24) % 7
    temp = (
        10
        + 8 * np.sin(2 * np.pi * (i / 24 - 110) / 365)
        + 4 * np.sin(2 * np.pi * (hod - 9) / 24)
        + rng.normal(0, 1.0, n)
    )
    occupied = (weekday < 5) & (hod >= 8) & (hod < 18)
    kwh = 20 + 30 * occupied + 1.5 * np.maximum(0, 15 - temp) + rng.normal(0, 2.0, n)
    return hours, np.maximum(kwh, 0.5), temp


def run(kwh: np.ndarray, seed: int = 1, **params: float) -> MeterDeviation:
    hours, _, temp = building(seed, len(kwh) // 24)
    return score_meter(hours, kwh, temp, zone=UTC, params=DeviationParams(**params))  # type: ignore[arg-type]


def test_the_score_of_an_hour_never_depends_on_later_hours() -> None:
    hours, kwh, temp = building(1)
    kwh = kwh.copy()
    kwh[WEEK_AT : WEEK_AT + 168] += 15.0
    whole = score_meter(hours, kwh, temp, zone=UTC)
    for cut in (200 * 24 + 13, WEEK_AT + 40, WEEK_AT + 200):
        part = score_meter(hours[:cut], kwh[:cut], temp[:cut], zone=UTC)
        np.testing.assert_array_equal(part.score, whole.score[:cut])
        np.testing.assert_array_equal(part.expected_kwh, whole.expected_kwh[:cut])
        np.testing.assert_array_equal(part.anomalous, whole.anomalous[:cut])
        np.testing.assert_array_equal(part.state, whole.state[:cut])
    assert np.isfinite(whole.score[WEEK_AT:]).all()


def test_the_events_as_of_an_hour_are_those_a_scoring_then_found() -> None:
    hours, kwh, temp = building(1)
    kwh = kwh.copy()
    kwh[WEEK_AT : WEEK_AT + 168] += 15.0
    kwh[WEEK_AT + 30 * 24 : WEEK_AT + 33 * 24] = 3.0  # a drop after it: a change of sign
    whole = score_meter(hours, kwh, temp, zone=UTC)
    assert [e.direction for e in whole.events] == [1, -1]
    p = DeviationParams()
    # before, during, just after (the merge gap still open), closed, during the drop, at the end
    for cut in (
        WEEK_AT - 5,
        WEEK_AT + 40,
        WEEK_AT + 180,
        WEEK_AT + 220,
        WEEK_AT + 31 * 24,
        len(kwh),
    ):
        part = score_meter(hours[:cut], kwh[:cut], temp[:cut], zone=UTC)
        then = whole.as_of(cut - 1, p)
        assert then.events == part.events, cut
        np.testing.assert_array_equal(then.anomalous, part.anomalous)


def test_a_clean_building_raises_nothing_and_learns_first() -> None:
    _, kwh, _ = building(1)
    dev = run(kwh)
    assert dev.events == []
    assert not dev.anomalous.any()
    assert (dev.state[: 150 * 24] == State.LEARNING).all()
    assert (dev.state[-60 * 24 :] == State.SCORED).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_thirty_percent_more_baseload_for_a_week_is_one_excess_event(seed: int) -> None:
    _, kwh, _ = building(seed)
    added = 0.3 * float(np.percentile(kwh[WEEK_AT - 28 * 24 : WEEK_AT], 10))
    faulty = kwh.copy()
    faulty[WEEK_AT : WEEK_AT + 168] += added
    dev = run(faulty, seed)
    week = (dev.hours[WEEK_AT], dev.hours[WEEK_AT + 168])
    during = [e for e in dev.events if e.onset < week[1] and (e.end or week[1]) >= week[0]]
    assert len(during) == 1
    event = during[0]
    assert event.direction == 1 and not event.level_shift
    assert dev.hours[WEEK_AT] <= event.detected_at < dev.hours[WEEK_AT + 168]
    assert abs(event.onset - dev.hours[WEEK_AT]) <= np.timedelta64(24, "h")
    assert event.excess_kwh == pytest.approx(added * 168, rel=0.35)
    assert event.excess_eur == pytest.approx(event.excess_kwh * 0.20)


def test_an_unexplained_drop_is_an_event_below_the_baseline() -> None:
    _, kwh, _ = building(2)
    closed = kwh.copy()
    closed[WEEK_AT : WEEK_AT + 120] *= 0.5
    dev = run(closed, 2)
    first = dev.events[0]
    assert first.direction == -1 and first.excess_kwh < 0
    assert dev.hours[WEEK_AT] <= first.detected_at < dev.hours[WEEK_AT + 24]
    assert not (
        dev.anomalous[WEEK_AT : WEEK_AT + 120] & (dev.score[WEEK_AT : WEEK_AT + 120] > 0)
    ).any()


def test_a_change_of_use_is_one_level_shift_then_silence() -> None:
    _, kwh, _ = building(3)
    shifted = kwh.copy()
    shifted[200 * 24 :] *= 1.4
    dev = run(shifted, 3)
    assert len(dev.events) == 1
    assert dev.events[0].level_shift and dev.events[0].direction == 1
    assert not dev.anomalous[230 * 24 :].any()
    assert (dev.state[230 * 24 :] == State.SCORED).all()


def test_exact_zeros_are_missing_readings_not_a_drop() -> None:
    _, kwh, _ = building(1)
    gappy = kwh.copy()
    gappy[WEEK_AT : WEEK_AT + 46] = 0.0
    dev = run(gappy)
    assert dev.events == []
    assert (dev.state[WEEK_AT : WEEK_AT + 46] == State.MISSING).all()


def test_a_baseline_that_cannot_hold_says_so_instead_of_alarming() -> None:
    rng = np.random.default_rng(5)
    noise = rng.lognormal(3.0, 1.0, DAYS * 24)  # no schedule, no weather: nothing to learn
    dev = run(noise)
    assert dev.events == []
    assert (dev.state[: 150 * 24] == State.LEARNING).all()
    assert (dev.state[180 * 24 :] == State.UNUSABLE).all()


def test_recent_offset_is_the_median_residual_of_each_hour_of_day() -> None:
    rng = np.random.default_rng(0)
    residual = rng.normal(0, 1, 28 * 24)
    how = np.arange(28 * 24) % 168
    group = day_groups(how)
    offset = recent_offset(residual, group)
    for g in (0, 13, 24, 47):
        assert offset[g] == pytest.approx(np.median(residual[group == g]))
    assert (recent_offset(residual[:100], group[:100]) == 0).all()  # too little to say


@pytest.mark.parametrize(
    "bad",
    [
        {"half_life_h": 0.0},
        {"slow_half_life_h": -2.0},
        {"threshold": -1.0},
        {"slow_threshold": 0.0},
        {"holdout_days": 200},
        {"min_train_days": 400},
    ],
)
def test_parameters_are_checked(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        DeviationParams(**bad)  # type: ignore[arg-type]


def test_a_register_the_baseline_predicts_exactly_still_scores_and_finds_a_step() -> None:
    """A noiseless register (every hour of a kind alike) has no spread to divide by: the scale
    falls back on a share of its level instead of dividing by zero."""
    hours, _, temp = building(1)
    i = np.arange(len(hours))
    occupied = ((i // 24) % 7 < 5) & (i % 24 >= 8) & (i % 24 < 18)
    kwh = np.where(occupied, 50.0, 20.0)
    kwh[WEEK_AT : WEEK_AT + 168] *= 1.3
    m = score_meter(hours, kwh, temp, zone=UTC)
    assert (m.state[: WEEK_AT - 24] != State.SCORED).sum() < WEEK_AT  # it scored before the step
    assert not m.anomalous[150 * 24 : WEEK_AT].any()
    assert [e.direction for e in m.events if e.onset >= hours[WEEK_AT - 24]] == [1]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_load_left_on_at_night_is_seen_first_by_the_nights(seed: int) -> None:
    _, kwh, _ = building(seed)
    faulty = kwh.copy()
    for night in range(5):  # 3.5 kWh more from 00:00 to 06:00, five nights running
        at = WEEK_AT + night * 24
        faulty[at : at + 6] += 3.5
    week = slice(WEEK_AT, WEEK_AT + 6 * 24)

    def first_excess(dev: MeterDeviation) -> int | None:
        hits = np.flatnonzero(dev.anomalous[week] & (dev.score[week] > 0))
        return int(hits[0]) if len(hits) else None

    on = run(faulty, seed)
    off = run(faulty, seed, night_threshold=0.0)
    first, hourly = first_excess(on), first_excess(off)
    assert first is not None and first % 24 == 6  # known when a night ends, not before
    assert hourly is None or first < hourly
    assert len([e for e in on.events if e.direction == 1]) == 1
