"""Writing an alert's history: each step with a snapshot of the alert, and its notice if any."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from analytics.alerts.model import NoticeKind
from analytics.findings import Estimates
from core.state.alerts import Alert, AlertEvent, EventKind


def snapshot(alert: Alert) -> dict[str, Any]:
    """What a notice about this step must say, even if it is built or retried much later."""
    return {
        "severity": alert.severity,
        "status": alert.status,
        "last_seen": alert.last_seen.isoformat(),
        "flow_lph": alert.flow_lph,
        "volume_m3": alert.volume_m3,
        "cost_eur": alert.cost_eur,
        "escalation_level": alert.escalation_level,
    }


def estimates_of(alert: Alert) -> Estimates:
    return Estimates(flow_lph=alert.flow_lph, volume_m3=alert.volume_m3, cost_eur=alert.cost_eur)


def record(
    session: Session,
    alert: Alert,
    kind: EventKind,
    at: datetime,
    *,
    actor: str | None = None,
    comment: str | None = None,
    notice: NoticeKind | None = None,
    **details: Any,
) -> AlertEvent:
    """Add one history step (flushed, so it has an id); ``details`` add to the snapshot."""
    event = AlertEvent(
        alert_id=alert.id,
        at=at,
        kind=kind.value,
        actor=actor,
        comment=comment,
        details={**snapshot(alert), **details},
        notice=None if notice is None else notice.value,
    )
    session.add(event)
    session.flush()
    return event
