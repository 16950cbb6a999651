"""Turning one step of an alert's history into the Notice a channel sends."""

from __future__ import annotations

from datetime import datetime

from analytics.alerts.model import AlertStatus, Notice, NoticeKind
from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Estimates, Severity, SubjectKind
from core.config import DEFAULT_ZONE
from core.state.alerts import Alert, AlertEvent

# The API's alert resource (api/routes/alerts.py); analytics cannot import the API layer.
ALERT_PATH = "/api/v1/alerts"


def alert_url(base_url: str, alert_id: int) -> str:
    return f"{base_url.rstrip('/')}{ALERT_PATH}/{alert_id}"


def build_notice(
    alert: Alert, event: AlertEvent, base_url: str, zone: str = DEFAULT_ZONE
) -> Notice:
    """The notice of ``event``: severity, status and estimates as they were at that step (from
    its snapshot), the alert's identity and current evidence."""
    if event.notice is None:
        raise ValueError(f"event #{event.id} ({event.kind}) carries no notice")
    details = event.details or {}
    known = ALERT_TYPES.get(alert.type)
    last_seen = details.get("last_seen")
    until = details.get("suppressed_until")
    return Notice(
        kind=NoticeKind(event.notice),
        alert_id=alert.id,
        type=alert.type,
        title_fr=known.title_fr if known else alert.type,
        severity=Severity(details.get("severity", alert.severity)),
        status=AlertStatus(details.get("status", alert.status)),
        tenant=alert.tenant,
        subject_kind=SubjectKind(alert.subject_kind),
        subject=alert.subject,
        start=alert.start,
        last_seen=datetime.fromisoformat(last_seen) if last_seen else alert.last_seen,
        estimates=Estimates(
            flow_lph=details.get("flow_lph", alert.flow_lph),
            volume_m3=details.get("volume_m3", alert.volume_m3),
            cost_eur=details.get("cost_eur", alert.cost_eur),
        ),
        evidence=dict(alert.evidence or {}),
        url=alert_url(base_url, alert.id),
        resolution=details.get("resolution"),
        suppressed_until=datetime.fromisoformat(until) if until else None,
        zone=zone,
    )
