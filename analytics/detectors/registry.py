"""Every detector, by name, and the alert types they declare: the alert engine's catalogue.

Every module of this package that defines ``DETECTOR`` is a detector: adding one adds a module
(and its tests), nothing else — its alert types join ``ALERT_TYPES``, the watch runs it.
"""

from __future__ import annotations

import importlib
import pkgutil

import analytics.detectors
from analytics.detectors.base import Detector
from analytics.findings import AlertType

_NOT_DETECTORS = frozenset({"base", "registry", "subjects", "feeds", "meter_events"})


def _discover() -> dict[str, Detector]:
    found: dict[str, Detector] = {}
    for info in sorted(pkgutil.iter_modules(analytics.detectors.__path__), key=lambda m: m.name):
        if info.name in _NOT_DETECTORS or info.ispkg:
            continue
        module = importlib.import_module(f"analytics.detectors.{info.name}")
        detector = getattr(module, "DETECTOR", None)
        if detector is None:
            continue
        name = detector.spec.name
        if name in found:
            raise RuntimeError(f"detector {name!r} is declared twice ({info.name})")
        found[name] = detector
    return found


def _catalogue(detectors: dict[str, Detector]) -> dict[str, AlertType]:
    types: dict[str, AlertType] = {}
    for detector in detectors.values():
        for t in detector.spec.alert_types:
            if t.code in types:
                raise RuntimeError(f"alert type {t.code!r} is declared by two detectors")
            types[t.code] = t
    return types


DETECTORS: dict[str, Detector] = _discover()
ALERT_TYPES: dict[str, AlertType] = _catalogue(DETECTORS)
