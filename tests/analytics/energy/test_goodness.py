"""Guideline 14 goodness: the formulas on hand-computed cases, and the acceptance thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from analytics.energy.goodness import goodness


def test_hand_computed_cv_rmse_and_nmbe() -> None:
    actual = np.array([10.0, 12.0, 8.0, 10.0])
    predicted = np.array([9.0, 12.0, 10.0, 9.0])
    # residuals 1, 0, -2, 1: Σr = 0, Σr² = 6, mean 10; with p = 1: n - p = 3
    g = goodness(actual, predicted, n_params=1)
    assert g.n == 4
    assert g.cv_rmse == pytest.approx(math.sqrt(6 / 3) / 10)
    assert g.nmbe == pytest.approx(0.0)
    assert g.passes_g14


def test_nmbe_is_positive_when_the_model_predicts_too_little() -> None:
    g = goodness(np.full(10, 100.0), np.full(10, 85.0))
    assert g.nmbe == pytest.approx(0.15)
    assert g.cv_rmse == pytest.approx(0.15)
    assert not g.passes_g14  # |NMBE| 15 % > 10 %


@pytest.mark.parametrize(
    ("scale", "passes"),
    [(0.29, True), (0.31, False)],
)
def test_cv_rmse_threshold_is_30_percent(scale: float, passes: bool) -> None:
    actual = np.full(1000, 10.0)
    predicted = actual + scale * 10.0 * np.where(np.arange(1000) % 2 == 0, 1.0, -1.0)
    g = goodness(actual, predicted)
    assert g.nmbe == pytest.approx(0.0, abs=1e-12)
    assert g.cv_rmse == pytest.approx(scale)
    assert g.passes_g14 is passes


def test_missing_hours_on_either_side_are_skipped() -> None:
    actual = np.array([10.0, np.nan, 10.0, 10.0])
    predicted = np.array([10.0, 10.0, np.nan, 12.0])
    g = goodness(actual, predicted)
    assert g.n == 2
    assert g.nmbe == pytest.approx(-2 / (2 * 10))


@pytest.mark.parametrize(
    ("actual", "n_params"),
    [(np.zeros(5), 0), (np.ones(3), 3), (np.full(3, np.nan), 0)],
)
def test_undefined_goodness_does_not_pass(actual: np.ndarray, n_params: int) -> None:
    g = goodness(actual, np.ones(actual.size), n_params)
    assert math.isnan(g.cv_rmse) and math.isnan(g.nmbe)
    assert not g.passes_g14


def test_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="shape"):
        goodness(np.ones(3), np.ones(4))
