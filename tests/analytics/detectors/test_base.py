"""A detector's parameters: declared flat or nested, overridden by name, checked by type."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from analytics.detectors.base import Spec, Window, WindowKind
from analytics.detectors.feeds import HOUSEHOLD_REGISTERS
from analytics.detectors.subjects import HOUSEHOLD_METERS


@dataclass(frozen=True)
class Inner:
    floor_lph: float = 10.0
    nights: int = 2


@dataclass(frozen=True)
class Params:
    factor: float = 2.0
    enabled: bool = True
    label: str = "x"
    optional: float | None = None
    inner: Inner = field(default_factory=Inner)


SPEC = Spec(
    name="example",
    description="an example",
    alert_types=(),
    params=Params(),
    units={"factor": "1", "enabled": "-", "label": "-", "optional": "h"},
    subjects=HOUSEHOLD_METERS,
    reads=HOUSEHOLD_REGISTERS,
    window=Window(WindowKind.LOOKBACK),
    evidence=(),
)


def test_nested_parameters_are_listed_with_dotted_names() -> None:
    assert [(p.name, p.default) for p in SPEC.parameters()] == [
        ("factor", 2.0),
        ("enabled", True),
        ("label", "x"),
        ("optional", None),
        ("inner.floor_lph", 10.0),
        ("inner.nights", 2),
    ]


def test_overrides_reach_nested_rules_and_keep_the_rest() -> None:
    got = SPEC.resolve({"factor": 3, "inner.nights": 4, "optional": 1.5})
    assert got == Params(factor=3.0, optional=1.5, inner=Inner(nights=4))
    assert isinstance(got.factor, float)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"facteur": 3.0}, "has no parameter 'facteur'"),
        ({"inner.missing": 1}, "has no parameter 'inner.missing'"),
        ({"factor": "high"}, "factor = 'high' is not a float"),
        ({"enabled": 1}, "enabled = 1 is not a bool"),
        ({"inner.nights": 2.5}, "inner.nights = 2.5 is not a int"),
        ({"label": 3}, "label = 3 is not a str"),
    ],
)
def test_a_wrong_override_names_the_detector_and_the_parameter(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match="detector 'example'.*" + message.replace("(", r"\(")):
        SPEC.resolve(overrides)  # type: ignore[arg-type]
