"""Free spaces ahead: the profile, the anomaly's decay, and a sanity check on the simulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from analytics.parking.forecast import ForecastModel, Profile, value_at
from core.calendar import FrenchCalendar
from simulator.parking import STEP, simulate_area
from tests.simulator.conftest import territory

MONDAY = datetime(2024, 1, 8, tzinfo=UTC)
QUARTER = 900.0


def _grid(weeks: int) -> np.ndarray:
    return MONDAY.timestamp() + QUARTER * np.arange(weeks * 7 * 96, dtype=np.float64)


def _shape(t: np.ndarray) -> np.ndarray:
    hour = ((t - MONDAY.timestamp()) / 3600.0) % 24
    return 0.9 - 0.6 * np.exp(-(((hour - 12) / 3) ** 2))  # emptiest at noon


def test_value_at_interpolates_but_not_across_a_long_gap() -> None:
    t = np.array([0.0, 600.0, 1200.0, 9000.0])
    x = np.array([1.0, 2.0, 4.0, 0.0])
    got = value_at(t, x, np.array([0.0, 300.0, 1200.0, 5000.0, -1.0, 9000.0, 9500.0]), 3600.0)
    assert got[:3].tolist() == [1.0, 1.5, 4.0]
    assert np.isnan(got[3]) and np.isnan(got[4]) and np.isnan(got[6])
    assert got[5] == 0.0


def test_the_profile_is_the_time_of_week_mean() -> None:
    t = _grid(3)
    p = Profile.learn(t, _shape(t), "UTC", slot_min=30)
    probe = MONDAY.timestamp() + 86_400 * 2 + 12 * 3600 + np.array([0.0, 3600.0])
    assert p.at(probe) == pytest.approx(_shape(probe), abs=0.02)


@pytest.mark.parametrize(
    ("persistent", "phi_low", "phi_high"), [(True, 0.9, 1.0), (False, 0.0, 0.2)]
)
def test_the_decay_is_fitted_from_how_long_anomalies_last(
    persistent: bool, phi_low: float, phi_high: float
) -> None:
    rng = np.random.default_rng(1)
    t = _grid(6)
    days = len(t) // 96
    # A per-day offset lasts the day; white noise is gone by the next quarter hour.
    anomaly = (
        np.repeat(rng.normal(0, 0.08, days), 96) if persistent else rng.normal(0, 0.08, len(t))
    )
    model = ForecastModel.fit(t, np.clip(_shape(t) + anomaly, 0, 1), "UTC")
    for h in (15, 30, 60):
        assert phi_low <= model.phi[h] <= phi_high


def test_a_forecast_stays_within_the_area_and_follows_the_profile() -> None:
    t = _grid(2)
    model = ForecastModel.fit(t, _shape(t), "UTC")
    now = MONDAY + timedelta(days=14, hours=9)  # 09:00: the area fills towards noon
    points = model.predict(now, free=80.0, total=100)
    assert [p.horizon_min for p in points] == [15, 30, 60]
    assert [p.at for p in points] == [now + timedelta(minutes=m) for m in (15, 30, 60)]
    frees = [p.free for p in points]
    assert all(0 <= f <= 100 for f in frees)
    assert frees[0] > frees[1] > frees[2]  # filling
    assert model.predict(now, 0.0, 0) == ()


def test_on_the_simulator_it_beats_both_references_an_hour_ahead() -> None:
    area = territory(households=1, spaces=40).areas[0]
    occ = np.stack(list(simulate_area(area, MONDAY, 42, 3, FrenchCalendar()).values()))
    t = MONDAY.timestamp() + STEP.total_seconds() * np.arange(occ.shape[1], dtype=np.float64)
    share = 1 - occ.mean(axis=0)
    train = t < t[-1] - 7 * 86_400
    model = ForecastModel.fit(t[train], share[train], "Europe/Paris")
    origins = np.flatnonzero(~train)[::3]
    t0, x0 = t[origins], share[origins]
    truth = value_at(t, share, t0 + 3600, 3600)
    ok = np.isfinite(truth)
    mae = {
        "model": np.mean(np.abs(model.predict_share(t0, x0, 60) - truth)[ok]),
        "persistence": np.mean(np.abs(x0 - truth)[ok]),
        "time_of_week": np.mean(np.abs(model.profile.at(t0 + 3600) - truth)[ok]),
    }
    assert mae["model"] < 0.85 * min(mae["persistence"], mae["time_of_week"])
