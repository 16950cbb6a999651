"""Registry parameters turn pulses into meter indexes and distances into water levels."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.reading import Reading
from ingest.derive import derived

T = datetime(2026, 11, 2, 6, tzinfo=UTC)
EUI = "24e124136b502217"


def test_pulses_become_an_index_with_weight_and_offset() -> None:
    params = {"pulse_quantity": "volume_m3", "pulse_weight": 0.01, "index_offset": 1523.4}
    out, problems = derived([Reading(T, EUI, "pulse_count", 12345)], params)
    assert problems == []
    assert [(r.quantity, r.channel, round(r.value, 6)) for r in out] == [
        ("volume_m3", None, 1646.85)
    ]


def test_a_weight_per_channel_wins_over_the_common_one() -> None:
    params = {"pulse_quantity": "energy_kwh", "pulse_weight": 1.0, "pulse_weight_b": 0.1}
    readings = [Reading(T, EUI, "pulse_count", 40, "a"), Reading(T, EUI, "pulse_count", 40, "b")]
    out, _ = derived(readings, params)
    assert [(r.channel, r.value) for r in out] == [("a", 40.0), ("b", 4.0)]


def test_distance_below_the_reference_gives_the_water_level() -> None:
    out, _ = derived([Reading(T, EUI, "distance_mm", 1850)], {"reference_height_m": 52.30})
    assert [(r.quantity, round(r.value, 3)) for r in out] == [("water_level_m", 50.45)]


@pytest.mark.parametrize(
    ("params", "needle"),
    [
        ({"pulse_quantity": "litres"}, "must be one of"),
        ({"pulse_quantity": "volume_m3"}, "pulse_weight is missing"),
        ({"pulse_quantity": "volume_m3", "pulse_weight": "ten"}, "cannot derive"),
    ],
)
def test_bad_parameters_are_reported_not_fatal(params: dict[str, object], needle: str) -> None:
    out, problems = derived([Reading(T, EUI, "pulse_count", 5)], params)
    assert out == [] and needle in problems[0]


def test_without_parameters_nothing_is_derived() -> None:
    assert derived(
        [Reading(T, EUI, "pulse_count", 5), Reading(T, EUI, "distance_mm", 900)], {}
    ) == ([], [])
