"""A space's state: by measured time, held changes only, unknown after its heartbeat."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from analytics.parking.settings import ParkingSettings
from analytics.parking.space import SpaceState, UnknownReason, space_status
from core.reading import Reading
from simulator.engine import EngineConfig
from tests.analytics.parking.streams import NO_FAULTS, SimArea, at_steps, sim_area

EUI = "70b3d50000000001"
T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
HOLD = timedelta(seconds=60)
DAY = timedelta(days=1)


def r(minutes: float, occupied: int) -> Reading:
    return Reading(T0 + timedelta(minutes=minutes), EUI, "occupied", occupied)


def test_a_late_older_frame_never_overrides_a_newer_state() -> None:
    arrival = [r(0, 0), r(5, 1), r(9, 0), r(6, 1)]  # the occupied frame of 10:06 arrives last
    s = space_status(arrival, T0 + timedelta(minutes=20), DAY, HOLD)
    assert s.state is SpaceState.FREE
    assert s.last_change == T0 + timedelta(minutes=9)
    assert s.last_seen == T0 + timedelta(minutes=9)


def test_duplicates_count_once() -> None:
    once = space_status([r(0, 0), r(5, 1)], T0 + timedelta(minutes=5, seconds=30), DAY, HOLD)
    thrice = space_status(
        [r(0, 0), r(5, 1), r(5, 1), r(0, 0), r(5, 1)],
        T0 + timedelta(minutes=5, seconds=30),
        DAY,
        HOLD,
    )
    assert once == thrice
    assert once.state is SpaceState.FREE  # the change has held 30 s, not yet 60
    assert once.flaps == 0


def test_a_change_shows_once_it_has_held() -> None:
    seq = [r(0, 0), r(10, 1)]
    assert (
        space_status(seq, T0 + timedelta(minutes=10, seconds=59), DAY, HOLD).state
        is SpaceState.FREE
    )
    s = space_status(seq, T0 + timedelta(minutes=11), DAY, HOLD)
    assert s.state is SpaceState.OCCUPIED
    assert s.last_change == T0 + timedelta(minutes=10)  # when it began, not when it was shown


def test_a_flap_is_suppressed_and_keeps_the_last_change() -> None:
    seq = [r(0, 0), r(10, 1), r(10.3, 0), r(10.5, 1), r(10.6, 0), r(30, 0)]
    s = space_status(seq, T0 + timedelta(minutes=40), DAY, HOLD)
    assert s.state is SpaceState.FREE
    assert s.last_change == T0
    assert s.flaps == 2


def test_two_values_at_one_instant_show_occupied() -> None:
    s = space_status([r(0, 0), r(0, 1)], T0 + timedelta(minutes=1), DAY, HOLD)
    assert s.state is SpaceState.OCCUPIED


def test_readings_measured_after_now_are_not_known_yet() -> None:
    s = space_status([r(0, 1), r(30, 0)], T0 + timedelta(minutes=10), DAY, HOLD)
    assert s.state is SpaceState.OCCUPIED
    assert s.last_seen == T0


@pytest.mark.parametrize(("codec", "heartbeat_h"), [("nwave/nps405", 24), ("bosch/tps110", 1)])
def test_silent_beyond_heartbeat_times_grace_is_unknown(codec: str, heartbeat_h: int) -> None:
    settings = ParkingSettings()  # grace 1.5
    silent = settings.silent_after(codec, {})
    assert silent == timedelta(hours=1.5 * heartbeat_h)
    seq = [r(0, 1)]
    before = space_status(seq, T0 + timedelta(hours=1.4 * heartbeat_h), silent, HOLD)
    after = space_status(seq, T0 + timedelta(hours=1.6 * heartbeat_h), silent, HOLD)
    assert before.state is SpaceState.OCCUPIED
    assert after.state is SpaceState.UNKNOWN
    assert after.reason is UnknownReason.SILENT
    assert after.known is SpaceState.OCCUPIED  # "données indisponibles", last known and when
    assert after.last_seen == T0


def test_a_device_heartbeat_parameter_overrides_the_model() -> None:
    settings = ParkingSettings()
    assert settings.heartbeat("nwave/nps405", {"heartbeat_s": 600}) == timedelta(minutes=10)
    assert settings.heartbeat("vendor/unknown", {}) == timedelta(days=1)


def test_never_heard_is_unknown() -> None:
    s = space_status([], T0, DAY, HOLD)
    assert (s.state, s.reason) == (SpaceState.UNKNOWN, UnknownReason.NEVER_HEARD)


def _states(area_readings: tuple[Reading, ...], instants: list[datetime]) -> list[list[SpaceState]]:
    settings = ParkingSettings()
    sim = sim_area(days=3, seed=2, config=EngineConfig(faults=NO_FAULTS, loss_scale=0.0))
    out = []
    for sp in sim.spaces:
        assert sp.device is not None
        mine = [x for x in area_readings if x.device == sp.device.dev_eui]
        silent = settings.silent_after(sp.device.codec_id, {})
        out.append([space_status(mine, at, silent, settings.hold).state for at in instants])
    return out


def test_a_clean_simulated_stream_gives_the_true_state_at_every_step() -> None:
    sim = sim_area(days=3, seed=2, config=EngineConfig(faults=NO_FAULTS, loss_scale=0.0))
    # Mid-step: the simulator's changes are reported 1-30 s after a step, held 60 s by 2.5 min.
    instants = at_steps(3, timedelta(minutes=20), timedelta(minutes=2, seconds=30))
    states = _states(sim.readings, instants)
    changes = 0
    for sp, row in zip(sim.spaces, states, strict=True):
        truth = [sim.truly_occupied(sp.code, at) for at in instants]
        assert row == [SpaceState.OCCUPIED if o else SpaceState.FREE for o in truth]
        changes += sum(a != b for a, b in itertools.pairwise(truth))
    assert changes > 20  # the model moved: the comparison meant something


def test_duplicated_and_out_of_order_frames_change_nothing() -> None:
    sim = sim_area(days=3, seed=2, config=EngineConfig(faults=NO_FAULTS, loss_scale=0.0))
    rng = random.Random(7)
    noisy = list(sim.readings) + rng.sample(sim.readings, len(sim.readings) // 3)
    rng.shuffle(noisy)
    instants = at_steps(3, timedelta(minutes=20), timedelta(minutes=2, seconds=30))
    assert _states(tuple(noisy), instants) == _states(sim.readings, instants)


def test_lost_frames_leave_few_wrong_spaces_and_the_next_frame_heals_them() -> None:
    config = EngineConfig(faults=NO_FAULTS, loss_scale=3.0, redelivery_p=0.05, late_p=0.2)
    sim = sim_area(days=4, seed=3, config=config)
    settings = ParkingSettings()
    instants = at_steps(4, timedelta(minutes=20), timedelta(minutes=2, seconds=30))
    right = wrong = 0
    for sp in sim.spaces:
        assert sp.device is not None
        mine = [x for x in sim.readings if x.device == sp.device.dev_eui]
        silent = settings.silent_after(sp.device.codec_id, {})
        for at in instants:
            s = space_status(mine, at, silent, settings.hold)
            if s.state is SpaceState.UNKNOWN:
                continue
            truth = sim.truly_occupied(sp.code, at)
            ok = (s.state is SpaceState.OCCUPIED) == truth
            right, wrong = right + ok, wrong + (not ok)
            # Whatever was lost before, a frame measured after the last true change is obeyed.
            if s.last_seen is not None and _steady_since(sim, sp.code, s.last_seen, at):
                assert ok
    assert wrong > 0  # losses did bite
    assert wrong / (right + wrong) < 0.1


def _steady_since(sim: SimArea, code: str, since: datetime, at: datetime) -> bool:
    t = since
    first = sim.truly_occupied(code, since)
    while t < at:
        if sim.truly_occupied(code, t) != first:
            return False
        t += timedelta(minutes=5)
    return sim.truly_occupied(code, at) == first
