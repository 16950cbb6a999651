"""What the alert engine tells notifiers: an alert's status, and the notices about it.

What detectors tell the engine (findings, clearances, severities, alert types) is in
``analytics.findings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from analytics.findings import Estimates, Severity, SubjectKind
from core.config import DEFAULT_ZONE


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NoticeKind(StrEnum):
    """Why a notice is sent: the lifecycle step it reports."""

    OPENED = "opened"
    WORSENED = "worsened"  # severity went up on an open alert
    ESCALATED = "escalated"  # not acknowledged in time
    RESOLVED = "resolved"


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
    zone: str = DEFAULT_ZONE  # of the local times the message shows
