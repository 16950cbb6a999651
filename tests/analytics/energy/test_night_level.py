"""The baseload watch: nights judged against the meter's own nights before them."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.energy.night_level import NightLevel, NightParams


def feed(watch: NightLevel, residuals: np.ndarray, start: int = 0) -> list[float]:
    """Feed hourly residuals (hour 0 = local midnight); the score in force at each hour."""
    scores = []
    for k, r in enumerate(residuals):
        i = start + k
        watch.step(i, i % 24, float(r))
        scores.append(watch.score(i))
    return scores


def noise(days: int, seed: int = 3, sd: float = 1.0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0.0, sd, days * 24)


def test_nothing_is_said_before_enough_nights_of_history() -> None:
    watch = NightLevel(NightParams(min_history=40))
    scores = feed(watch, noise(40))
    assert all(math.isnan(s) for s in scores)
    assert math.isfinite(feed(watch, noise(2, seed=4), start=40 * 24)[-1])


def test_two_raised_nights_score_high_from_the_morning_after_and_hold_a_day() -> None:
    days = 100
    r = noise(days)
    r[98 * 24 : 98 * 24 + 6] += 3.0  # two nights: 3 σ of an hour, ~7 σ of a night's mean
    r[99 * 24 : 99 * 24 + 6] += 3.0
    scores = feed(NightLevel(), r)
    before = [s for s in scores[: 98 * 24 + 6] if math.isfinite(s)]
    assert max(before) < 4.0  # a night is not known before it ends
    assert 2.0 < scores[98 * 24 + 6] < 4.0  # one night in two raised: half of it shows
    assert all(s > 6.0 for s in scores[99 * 24 + 6 :])  # both: all of it, held the day


def test_the_day_does_not_count_only_the_night() -> None:
    r = noise(100)
    for d in range(97, 100):
        r[d * 24 + 8 : d * 24 + 20] += 10.0  # a busy working day, quiet nights
    scores = feed(NightLevel(), r)
    assert max(scores[97 * 24 :]) < 4.0


def test_a_meter_whose_nights_wander_is_judged_by_its_own_spread() -> None:
    r = noise(100, sd=0.2)
    wander = np.repeat(np.random.default_rng(5).normal(0.0, 3.0, 100), 24)
    r_calm, r_wild = r.copy(), r + wander
    r_calm[98 * 24 : 98 * 24 + 6] += 2.0
    r_wild[98 * 24 : 98 * 24 + 6] += 2.0
    assert feed(NightLevel(), r_calm)[98 * 24 + 7] > 5.0
    assert feed(NightLevel(), r_wild)[98 * 24 + 7] < 3.0


def test_a_score_lapses_when_the_nights_stop_coming() -> None:
    watch = NightLevel(NightParams(hold_h=30))
    r = noise(100)
    r[99 * 24 : 99 * 24 + 6] += 5.0
    feed(watch, r)
    last = 100 * 24 - 1
    assert math.isfinite(watch.score(last))
    assert math.isnan(watch.score(99 * 24 + 6 + 31))


def test_forgetting_drops_the_last_nights_but_keeps_their_spread() -> None:
    watch = NightLevel()
    r = noise(100)
    r[99 * 24 : 99 * 24 + 6] += 5.0
    feed(watch, r)
    watch.forget()
    assert math.isnan(watch.score(100 * 24))
    after = feed(watch, noise(2, seed=9), start=100 * 24)
    assert abs(after[-1]) < 4.0  # the raised night no longer weighs on the next


@pytest.mark.parametrize(
    "bad",
    [{"first_hour": 6, "last_hour": 5}, {"last_hour": 24}, {"nights": 0}, {"min_history": 2}],
)
def test_parameters_are_checked(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        NightParams(**bad)
