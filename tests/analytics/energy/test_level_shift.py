"""Changes of use found in daily residuals: a lasting step, not a closure or noise."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.energy.level_shift import find_level_shift

DAY = 86_400


def _hourly(daily: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    utc_s = np.arange(daily.size * 24, dtype=np.int64) * 3600 + 1_700_006_400
    return utc_s, np.repeat(daily, 24)


def _find(daily: np.ndarray, mean: float = 100.0, after: int = 28):
    utc_s, r = _hourly(daily)
    return find_level_shift(
        utc_s, r, mean, min_days=28, min_days_after=after, min_share=0.05, min_t=5.0
    )


def test_a_lasting_step_is_found_on_its_day() -> None:
    rng = np.random.default_rng(4)
    daily = rng.normal(0, 2.0, 300)
    daily[200:] -= 15.0
    shift = _find(daily)
    assert shift is not None
    assert shift.at_s == 1_700_006_400 // DAY * DAY + 200 * DAY
    assert shift.kwh == pytest.approx(-15.0, abs=1.0)


@pytest.mark.parametrize(
    "case",
    ["noise", "small-step", "closure-at-the-end", "step-too-recent"],
)
def test_what_is_not_a_change_of_use(case: str) -> None:
    rng = np.random.default_rng(5)
    daily = rng.normal(0, 2.0, 300)
    if case == "small-step":
        daily[150:] += 3.0  # 3 % of the mean
    elif case == "closure-at-the-end":
        daily[-10:] -= 60.0  # Christmas closure in the last 28 days
    elif case == "step-too-recent":
        daily[-20:] += 30.0
    assert _find(daily) is None


def test_a_longer_wait_after_the_step_is_honoured() -> None:
    rng = np.random.default_rng(6)
    daily = rng.normal(0, 2.0, 300)
    daily[-40:] += 20.0
    assert _find(daily, after=28) is not None
    assert _find(daily, after=56) is None
