"""NS-decoded objects map to readings by profile: nested keys, scales, ints and absent keys."""

from __future__ import annotations

from datetime import UTC, datetime

from core.config import ObjectField
from ingest.objects import from_object

T = datetime(2026, 11, 2, 6, tzinfo=UTC)
EUI = "a81758fffe0a1b2c"
FIELDS = {
    "temperature": ObjectField(quantity="temperature_c"),
    "ext.temperature": ObjectField(quantity="temperature_c", channel="ext"),
    "vdd": ObjectField(quantity="battery_v", scale=0.001),
    "occupied": ObjectField(quantity="occupied"),
}


def test_mapped_keys_become_readings_and_tts_integers_become_floats() -> None:
    obj = {"temperature": 21, "ext": {"temperature": 7.5}, "vdd": 3600, "occupied": True, "x": 1}
    readings, errors = from_object(obj, FIELDS, EUI, T)
    assert errors == []
    assert [(r.quantity, r.channel, r.value, type(r.value)) for r in readings] == [
        ("temperature_c", None, 21.0, float),
        ("temperature_c", "ext", 7.5, float),
        ("battery_v", None, 3.6, float),
        ("occupied", None, 1.0, float),
    ]


def test_absent_keys_are_fine_and_unusable_values_are_errors() -> None:
    readings, errors = from_object({"temperature": "hot", "vdd": 90000}, FIELDS, EUI, T)
    assert readings == []
    assert len(errors) == 2
    assert "not a number" in errors[0] and "battery_v" in errors[1]
