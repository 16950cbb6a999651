"""The quantity vocabulary is data: unique keys, sane ranges, every quantity of the design brief."""

from __future__ import annotations

import math

import pytest

from core.quantities import QUANTITIES, VOCABULARY, Domain, Kind, Quantity, quantity

# The quantities the design brief (§3) names; the vocabulary may hold more, never fewer.
DESIGN_QUANTITIES = (
    "volume_m3", "flow_m3h", "pulse_count", "energy_kwh", "power_w", "apparent_power_va",
    "current_a", "voltage_v", "power_factor", "temperature_c", "humidity_pct", "co2_ppm",
    "tvoc_ppb", "pressure_hpa", "illuminance_lux", "motion_count", "leak", "occupied",
    "distance_mm", "water_level_m", "battery_v", "battery_pct", "rssi_dbm", "snr_db",
    "gateway_count", "spreading_factor",
)  # fmt: skip

STATES = [q for q in VOCABULARY if q.kind is Kind.STATE]


def test_keys_are_unique() -> None:
    keys = [q.key for q in VOCABULARY]
    assert len(keys) == len(set(keys))
    assert set(QUANTITIES) == set(keys)


@pytest.mark.parametrize("key", DESIGN_QUANTITIES)
def test_every_quantity_of_the_design_is_in_the_vocabulary(key: str) -> None:
    assert key in QUANTITIES


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
def test_key_is_ascii_lower_snake_case(q: Quantity) -> None:
    assert q.key.isascii()
    assert q.key == q.key.lower()
    assert " " not in q.key
    assert q.key.replace("_", "").isalnum()


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
def test_range_is_finite_and_not_empty(q: Quantity) -> None:
    assert math.isfinite(q.minimum)
    assert math.isfinite(q.maximum)
    assert q.minimum < q.maximum


@pytest.mark.parametrize("q", VOCABULARY, ids=lambda q: q.key)
def test_unit_kind_domain_and_description_are_declared(q: Quantity) -> None:
    assert q.unit
    assert isinstance(q.kind, Kind)
    assert isinstance(q.domain, Domain)
    assert q.description


@pytest.mark.parametrize("q", STATES, ids=lambda q: q.key)
def test_states_are_zero_or_one(q: Quantity) -> None:
    assert (q.minimum, q.maximum) == (0, 1)


@pytest.mark.parametrize(
    "q", [q for q in VOCABULARY if q.kind is Kind.CUMULATIVE], ids=lambda q: q.key
)
def test_cumulative_registers_are_never_negative(q: Quantity) -> None:
    assert q.minimum == 0


@pytest.mark.parametrize(
    ("key", "domain"),
    [
        ("volume_m3", Domain.WATER),
        ("energy_kwh", Domain.ENERGY),
        ("temperature_c", Domain.CLIMATE),
        ("occupied", Domain.PARKING),
        ("water_level_m", Domain.LEVEL),
        ("battery_v", Domain.DEVICE),
        ("rssi_dbm", Domain.RADIO),
    ],
)
def test_quantity_is_stored_under_its_domain(key: str, domain: Domain) -> None:
    assert quantity(key).domain is domain


def test_flow_may_be_negative_when_reversed() -> None:
    assert quantity("flow_m3h").minimum < 0


def test_lookup_returns_the_declared_entry() -> None:
    assert quantity("energy_kwh") is QUANTITIES["energy_kwh"]
    assert quantity("energy_kwh").unit == "kWh"


def test_lookup_of_an_unknown_key_names_it() -> None:
    with pytest.raises(KeyError, match="temperature_f"):
        quantity("temperature_f")


def test_every_domain_holds_at_least_one_quantity() -> None:
    assert {q.domain for q in VOCABULARY} == set(Domain)
