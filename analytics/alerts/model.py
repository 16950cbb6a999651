"""What detectors tell the alert engine, and what the engine tells notifiers."""

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


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class SubjectKind(StrEnum):
    DEVICE = "device"
    BUILDING = "building"
    SECTOR = "sector"
    STATION = "station"
    AREA = "area"


class NoticeKind(StrEnum):
    """Why a notice is sent: the lifecycle step it reports."""

    OPENED = "opened"
    WORSENED = "worsened"  # severity went up on an open alert
    ESCALATED = "escalated"  # not acknowledged in time
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertType:
    """One kind of alert: its code, its French title (alerts are read by French teams), and the
    severity it gets unless the detector says otherwise."""

    code: str
    title_fr: str
    severity: Severity


ALERT_TYPES: dict[str, AlertType] = {
    t.code: t
    for t in (
        AlertType("household_leak", "Fuite probable chez un abonné", Severity.WARNING),
        AlertType("building_leak", "Débit continu dans un bâtiment", Severity.WARNING),
        AlertType("building_night_flow", "Consommation nocturne anormale", Severity.WARNING),
        AlertType("burst", "Débit anormalement élevé (casse probable)", Severity.CRITICAL),
        AlertType("sector_leak", "Fuite probable sur le réseau du secteur", Severity.WARNING),
        AlertType("river_vigilance", "Niveau de vigilance crue atteint", Severity.WARNING),
        AlertType("river_rise", "Montée rapide du niveau", Severity.WARNING),
        AlertType("level_sensor_fault", "Capteur de niveau suspect", Severity.INFO),
    )
}


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


@dataclass(frozen=True, slots=True)
class Notice:
    """One message to send about one alert, already in the words a person reads (French)."""

    kind: NoticeKind
    alert_id: int
    type: str
    title_fr: str
    severity: Severity
    status: AlertStatus
    tenant: str
    subject_kind: SubjectKind
    subject: str
    start: datetime
    last_seen: datetime
    estimates: Estimates
    evidence: dict[str, Any]
    url: str | None = None  # where to see it (the API's alert page), when known
    # For a resolution: how it was closed (auto, fixed, false_alarm, snoozed) and, for a
    # snooze, until when findings are held back.
    resolution: str | None = None
    suppressed_until: datetime | None = None
