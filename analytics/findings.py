"""What a detector says: findings and clearances about a subject, in the alert engine's words.

The vocabulary every detector speaks (``analytics.detectors``) and the alert engine reads: kinds
of subject, severities, alert types with their French titles, estimates of what an anomaly
costs. It imports nothing of Vigie's, so detectors and the engine both stand on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}


class SubjectKind(StrEnum):
    DEVICE = "device"
    BUILDING = "building"
    SECTOR = "sector"
    STATION = "station"
    AREA = "area"


@dataclass(frozen=True, slots=True)
class AlertType:
    """One kind of alert: its code, its French title (alerts are read by French teams), and the
    severity it gets unless the detector says otherwise."""

    code: str
    title_fr: str
    severity: Severity


@dataclass(frozen=True, slots=True)
class Estimates:
    """What the anomaly costs so far. ``cost_eur`` is filled by the engine from the configured
    price per m³ when the detector gives a volume."""

    flow_lph: float | None = None
    volume_m3: float | None = None
    cost_eur: float | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A detector's statement that a condition holds on one subject at ``observed_at``.

    The engine keeps one open alert per (tenant, subject kind, subject, type): a finding for a
    subject that already has one updates it (last seen, evidence, estimates, severity).
    ``evidence`` holds the numbers and the series that justify it (JSON-serialisable), e.g.
    ``{"night_min_lph": [..], "series": {"device": "...", "quantity": "volume_m3"}}``.
    """

    type: str
    tenant: str
    subject_kind: SubjectKind
    subject: str
    start: datetime
    observed_at: datetime
    severity: Severity | None = None  # None: the type's default
    evidence: dict[str, Any] = field(default_factory=dict)
    estimates: Estimates = Estimates()


@dataclass(frozen=True, slots=True)
class Clearance:
    """A detector's statement that the condition no longer holds: the open alert, if any, is
    resolved automatically."""

    type: str
    tenant: str
    subject_kind: SubjectKind
    subject: str
    at: datetime
