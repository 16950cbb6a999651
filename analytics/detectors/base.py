"""The detector seam: what a detector declares, and what it is given and gives back on a pass.

A detector is a module of ``analytics.detectors`` that defines ``DETECTOR``, like a codec. Its
``Spec`` declares everything the rest of Vigie needs to know about it, so that adding one adds a
module and its tests, nothing else:

- ``alert_types``: the alerts it raises, with their French titles and default severities (the
  alert engine's catalogue is the union of every detector's);
- ``params``: a frozen dataclass of its parameters with their defaults, and ``units`` for each
  (a deployment overrides them in ``[analytics.detectors.<name>]``);
- ``subjects`` and ``reads``: what it watches in the registry (household meters, sector inflows,
  level stations, ...) and which data of theirs it reads (a ``Feed``), over which ``window``;
- ``evidence``: the keys of the evidence its findings carry.

The generic watch (``analytics.watch.detectors``) loads the subjects and the data (shared by
detectors that declare the same), runs ``detect`` and hands the findings to the alert engine. A
subject the detector ``judged`` on this pass without a finding clears its open alert; a subject
it could not judge (no recent data) clears nothing: silence is not evidence.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from analytics.findings import AlertType, Clearance, Finding, SubjectKind
from core.config import DEFAULT_ZONE
from core.state.store import StateStore
from core.timeseries import TimeSeriesStore

ParamValue = float | int | bool | str | None


@dataclass(frozen=True, slots=True)
class Subject:
    """One thing a detector watches: its alert identity and the devices that measure it."""

    tenant: str
    kind: SubjectKind
    code: str  # the alert's subject: a DevEUI, a building or sector code, a station code
    devices: tuple[str, ...]
    parameters: Mapping[str, Any] = field(default_factory=dict)  # registry parameters


class SubjectSource(Protocol):
    """Which subjects of the registry a detector watches: all of them, or one tenant's (when
    analytics runners share the tenants, each loads only those it holds)."""

    @property
    def name(self) -> str: ...

    def load(self, state: StateStore, tenant: str | None = None) -> list[Subject]: ...


class Feed(Protocol):
    """The data a detector reads for its subjects over [start, end); feeds of the same name are
    loaded once per pass and shared."""

    @property
    def name(self) -> str: ...

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = DEFAULT_ZONE,
    ) -> Any:
        """The data; ``zone`` is the territory's, of local hours, nights and days."""
        ...


class WindowKind(StrEnum):
    LOOKBACK = "lookback"  # every pass reads the last ``lookback`` (baselines need history)
    SINCE_LAST = "since_last"  # every pass reads what came since the last, with an overlap


@dataclass(frozen=True, slots=True)
class Window:
    kind: WindowKind
    first: timedelta = timedelta(days=2)  # SINCE_LAST: how far the first pass reads back
    overlap: timedelta = timedelta(hours=1)  # SINCE_LAST: re-read for late frames
    lookback: timedelta | None = None  # LOOKBACK: its own length (None: the watch's)


@dataclass(frozen=True, slots=True)
class Parameter:
    """One parameter as declared: name, default, unit, meaning."""

    name: str
    default: ParamValue
    unit: str
    description: str


@dataclass(frozen=True)
class Spec:
    name: str
    description: str
    alert_types: tuple[AlertType, ...]
    params: Any  # the defaults: a frozen dataclass instance (nested ones for sub-rules)
    units: Mapping[str, str]  # per parameter (dotted for nested): "L/h", "h", "1" for a count
    subjects: SubjectSource
    reads: Feed
    window: Window
    evidence: tuple[str, ...]

    def parameters(self) -> list[Parameter]:
        """Every parameter, nested ones as ``rule.name``, with its default and unit."""
        return [
            Parameter(name, value, self.units.get(name, ""), doc)
            for name, value, doc in _flatten(self.params)
        ]

    def resolve(self, overrides: Mapping[str, ParamValue]) -> Any:
        """The parameters with a deployment's overrides (dotted names reach nested rules); a
        name it does not declare, or a value of the wrong type, is an error that names them."""
        known = {name: value for name, value, _ in _flatten(self.params)}
        nested: dict[str, dict[str, ParamValue]] = {}
        for name, value in overrides.items():
            if name not in known:
                names = ", ".join(sorted(known))
                raise ValueError(f"detector {self.name!r} has no parameter {name!r} ({names})")
            head, _, rest = name.partition(".")
            nested.setdefault(head, {})[rest] = _coerce(self.name, name, known[name], value)
        return _replace(self.params, nested)


def _flatten(params: Any, prefix: str = "") -> list[tuple[str, ParamValue, str]]:
    out: list[tuple[str, ParamValue, str]] = []
    for f in dataclasses.fields(params):
        value = getattr(params, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out.extend(_flatten(value, f"{prefix}{f.name}."))
        else:
            out.append((prefix + f.name, value, str(f.metadata.get("doc", ""))))
    return out


def _replace(params: Any, changes: Mapping[str, Mapping[str, ParamValue]]) -> Any:
    values: dict[str, Any] = {}
    for head, sub in changes.items():
        direct = {k: v for k, v in sub.items() if k == ""}
        if direct:
            values[head] = direct[""]
        else:
            inner: dict[str, dict[str, ParamValue]] = {}
            for name, value in sub.items():
                h, _, r = name.partition(".")
                inner.setdefault(h, {})[r] = value
            values[head] = _replace(getattr(params, head), inner)
    return dataclasses.replace(params, **values)


def _coerce(detector: str, name: str, default: Any, value: ParamValue) -> Any:
    """``value`` as the type of the parameter's default (an int may stand for a float)."""
    if isinstance(default, bool) and isinstance(value, bool):
        return value
    if not isinstance(default, bool) and not isinstance(value, bool):
        if isinstance(default, float) and isinstance(value, int | float):
            return float(value)
        if isinstance(default, int) and isinstance(value, int):
            return value
        if isinstance(default, str) and isinstance(value, str):
            return value
        if default is None and (value is None or isinstance(value, int | float | str)):
            return value
    kind = type(default).__name__ if default is not None else "number"
    raise ValueError(f"detector {detector!r}: {name} = {value!r} is not a {kind}")


@dataclass(frozen=True)
class Pass:
    """What a detector is given on one pass."""

    subjects: Sequence[Subject]
    data: Any  # what its feed loaded for them
    params: Any  # an instance of its ``params``
    start: datetime  # the data's window [start, end)
    end: datetime
    since: datetime | None  # where its previous pass stopped (None: first pass)
    state: Mapping[str, Any]  # what its previous pass left (JSON), {} at first
    zone: str = DEFAULT_ZONE  # the territory's: local hours, nights, days


@dataclass
class Detection:
    """What a detector gives back: findings, explicit clearances, the subjects it judged, and
    the state (JSON) its next pass needs."""

    findings: list[Finding] = field(default_factory=list)
    clearances: list[Clearance] = field(default_factory=list)
    judged: set[tuple[str, str]] = field(default_factory=set)  # (alert type, subject code)
    state: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


class Detector(Protocol):
    @property
    def spec(self) -> Spec: ...

    def detect(self, run: Pass) -> Detection: ...
