"""A Reading is valid by construction: UTC time, DevEUI, known quantity, finite in-range float."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from core.quantities import VOCABULARY, Quantity
from core.reading import Reading, ReadingError

T = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
DEV = "70b3d5e75e001234"


def test_a_valid_reading_keeps_its_fields() -> None:
    r = Reading(T, DEV, "energy_kwh", 1234.5, "hc")
    assert (r.time, r.device, r.quantity, r.channel) == (T, DEV, "energy_kwh", "hc")
    assert r.value == 1234.5


def test_channel_defaults_to_none() -> None:
    assert Reading(T, DEV, "temperature_c", 19.5).channel is None


def test_reading_is_immutable() -> None:
    r = Reading(T, DEV, "temperature_c", 19.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 20.0  # type: ignore[misc]


def test_equal_readings_are_equal_and_hash_alike() -> None:
    assert Reading(T, DEV, "leak", 1) == Reading(T, DEV, "leak", 1.0)
    assert len({Reading(T, DEV, "leak", 1), Reading(T, DEV, "leak", 1.0)}) == 1


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("local", "utc"),
    [
        (datetime(2026, 3, 29, 3, 30, tzinfo=PARIS), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (datetime(2026, 3, 29, 1, 30, tzinfo=PARIS), datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (
            datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=PARIS),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        (
            datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
        (
            datetime(2026, 6, 1, 12, 0, tzinfo=timezone(-timedelta(hours=3, minutes=30))),
            datetime(2026, 6, 1, 15, 30, tzinfo=UTC),
        ),
    ],
    ids=["paris-cest", "paris-cet", "paris-fold0-cest", "paris-fold1-cet", "fixed-offset"],
)
def test_aware_time_is_normalised_to_the_same_instant_in_utc(
    local: datetime, utc: datetime
) -> None:
    r = Reading(local, DEV, "temperature_c", 20.0)
    assert r.time.tzinfo is UTC
    assert r.time == utc  # same tzinfo on both sides: compared field by field, fold ignored


def test_the_two_paris_half_past_two_of_the_october_change_are_an_hour_apart() -> None:
    first = Reading(datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=PARIS), DEV, "leak", 0)
    second = Reading(datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=PARIS), DEV, "leak", 0)
    assert second.time - first.time == timedelta(hours=1)
    assert first.time == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", [0, 7, -3], ids=["zero", "positive", "negative"])
def test_integer_values_become_floats(value: int) -> None:
    r = Reading(T, DEV, "power_w", value)
    assert type(r.value) is float
    assert r.value == value


def test_float_subclass_values_become_plain_floats() -> None:
    class Weird(float):
        pass

    assert type(Reading(T, DEV, "power_w", Weird(2.5)).value) is float


INVALID: list[tuple[str, object]] = [
    ("time", datetime(2026, 3, 29, 1, 30)),  # naive
    ("time", "2026-03-29T01:30:00Z"),
    ("time", 1774747800),
    ("device", "70B3D5E75E001234"),  # upper case
    ("device", "70b3d5e75e00123"),  # 15 digits
    ("device", "70b3d5e75e0012345"),  # 17 digits
    ("device", "70-b3-d5-e7-5e-00-12-34"),
    ("device", "70b3d5e75e00123g"),
    ("device", ""),
    ("device", 0x70B3D5E75E001234),
    ("quantity", "temperature_f"),
    ("quantity", "Temperature_C"),
    ("quantity", ""),
    ("value", float("nan")),
    ("value", float("inf")),
    ("value", float("-inf")),
    ("value", -60.001),
    ("value", 150.5),
    ("value", 32767),  # a 0x7FFF sentinel passed through as data
    ("value", True),
    ("value", "19.5"),
    ("value", None),
    ("channel", ""),
    ("channel", 1),
]


@pytest.mark.parametrize(("field", "bad"), INVALID, ids=[f"{f}={b!r}" for f, b in INVALID])
def test_invalid_field_is_refused_naming_the_field_and_the_value(field: str, bad: object) -> None:
    fields: dict[str, object] = {
        "time": T, "device": DEV, "quantity": "temperature_c", "value": 19.5, "channel": None,
    }  # fmt: skip
    fields[field] = bad
    with pytest.raises(ReadingError) as caught:
        Reading(**fields)  # type: ignore[arg-type]
    error = caught.value
    assert error.field == field
    assert error.value is bad
    assert error.reason
    assert str(error).startswith(f"{field}={bad!r}: ")


def test_reading_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Reading(T, DEV, "temperature_f", 1.0)


def test_out_of_range_error_states_the_range_and_unit() -> None:
    with pytest.raises(ReadingError, match=r"\[-60, 150\] °C"):
        Reading(T, DEV, "temperature_c", 151.0)


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
@pytest.mark.parametrize("edge", ["minimum", "maximum"])
def test_both_ends_of_a_range_are_valid(q: Quantity, edge: str) -> None:
    value = getattr(q, edge)
    assert Reading(T, DEV, q.key, value).value == value


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
@pytest.mark.parametrize(
    ("edge", "step"), [("minimum", -1.0), ("maximum", 1.0)], ids=["below", "above"]
)
def test_just_outside_a_range_is_refused(q: Quantity, edge: str, step: float) -> None:
    bound = getattr(q, edge)
    outside = bound + step * max(1e-9, abs(bound) * 1e-9)
    with pytest.raises(ReadingError) as caught:
        Reading(T, DEV, q.key, outside)
    assert caught.value.field == "value"
