"""The occupancy history tells what the screen showed, step by step."""

from __future__ import annotations

from datetime import timedelta

from analytics.parking.availability import area_availability
from analytics.parking.history import forecast_model, occupancy_history
from analytics.parking.settings import ParkingSettings
from analytics.parking.week import country_holidays
from tests.analytics.parking.streams import CLEAN, START, Registry, sim_area


def test_history_counts_are_the_live_counts_at_each_step() -> None:
    sim = sim_area(spaces=16, days=3, seed=5, config=CLEAN)
    start = START + timedelta(days=1, minutes=2, seconds=30)
    history = occupancy_history(
        sim.area, sim.spaces, sim.readings, start, start + timedelta(days=2), timedelta(minutes=15)
    )
    assert len(history) == 2 * 96
    for point in history[::7]:
        live = area_availability(sim.area, sim.spaces, sim.readings, point.time)
        assert (point.free, point.occupied, point.unknown) == (
            live.free,
            live.occupied,
            live.unknown,
        )
    assert min(p.free for p in history) < 10 < max(p.free for p in history)


def test_a_space_silent_in_the_window_is_unknown_there() -> None:
    sim = sim_area(spaces=4, days=3, seed=5, config=CLEAN)
    cut = START + timedelta(days=1)
    bosch = {
        sp.device.dev_eui for sp in sim.spaces if sp.device and sp.device.codec_id == "bosch/tps110"
    }
    # The hourly Bosch sensors go quiet at the cut: 1.5 h later their spaces are unknown.
    readings = [r for r in sim.readings if r.device not in bosch or r.time < cut]
    history = occupancy_history(
        sim.area,
        sim.spaces,
        readings,
        cut,
        cut + timedelta(hours=4),
        timedelta(minutes=30),
        ParkingSettings(),
    )
    # Heard at most an hour (and a jitter) before the cut, unknown 1.5 h after that at the latest.
    late = [p.unknown for p in history if p.time >= cut + timedelta(hours=2, minutes=30)]
    assert late == [2, 2, 2, 2]
    assert history[0].unknown < 2  # not both yet: they were heard within the last hour


def test_a_forecast_fitted_on_the_history_expects_the_morning_fill() -> None:
    sim = sim_area(spaces=16, days=15, seed=7, config=CLEAN)
    start = START + timedelta(days=1)
    history = occupancy_history(
        sim.area, sim.spaces, sim.readings, start, START + timedelta(days=14)
    )
    model = forecast_model(history, holidays=country_holidays("FR"))
    monday_7h = START + timedelta(days=14, hours=6)  # Monday 18 March, 07:00 in Paris
    a = area_availability(sim.area, sim.spaces, sim.readings, monday_7h, forecast=model)
    assert [p.horizon_min for p in a.forecast] == [15, 30, 60]
    assert a.forecast[-1].free < a.free - 3  # commuters arrive 06:00-10:00
    assert all(0 <= p.free <= 16 for p in a.forecast)
    closed = area_availability(
        Registry(sim.area.id_lieu, 16, 1, ouvert=False),
        sim.spaces,
        sim.readings,
        monday_7h,
        forecast=model,
    )
    assert closed.forecast == ()
