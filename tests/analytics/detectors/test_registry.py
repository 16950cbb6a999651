"""Every detector declares what the rest of Vigie needs: alert types, parameters with units,
what it watches and reads, its evidence; their alert types are the engine's catalogue."""

from __future__ import annotations

import dataclasses

import pytest

from analytics.detectors.base import WindowKind
from analytics.detectors.registry import ALERT_TYPES, DETECTORS
from analytics.findings import Severity

NAMES = sorted(DETECTORS)


def test_the_water_and_level_detectors_are_registered_with_their_alert_types() -> None:
    assert {"household_leak", "building_leak", "building_night_flow", "burst"} <= set(DETECTORS)
    assert {"sector_leak", "river_levels"} <= set(DETECTORS)
    assert set(ALERT_TYPES) >= {
        "household_leak",
        "building_leak",
        "building_night_flow",
        "burst",
        "sector_leak",
        "river_vigilance",
        "river_rise",
        "level_sensor_fault",
    }


@pytest.mark.parametrize("name", NAMES)
def test_a_detector_declares_everything(name: str) -> None:
    spec = DETECTORS[name].spec
    assert spec.name == name and spec.description
    assert spec.alert_types, "raises at least one alert type"
    for t in spec.alert_types:
        assert t.title_fr and t.severity in Severity
    assert dataclasses.is_dataclass(spec.params) and spec.params.__dataclass_params__.frozen
    parameters = spec.parameters()
    assert parameters, "declares its parameters"
    without_unit = [p.name for p in parameters if not p.unit]
    assert without_unit == [], f"every parameter has a unit: {without_unit}"
    assert set(spec.units) == {p.name for p in parameters}, "no unit for a parameter it lacks"
    assert spec.subjects.name and spec.reads.name and spec.window.kind in WindowKind
    assert spec.evidence, "declares its evidence"


@pytest.mark.parametrize("name", NAMES)
def test_its_defaults_resolve_to_themselves(name: str) -> None:
    spec = DETECTORS[name].spec
    assert spec.resolve({}) == spec.params
