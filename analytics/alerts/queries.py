"""Reading alerts back: filtered lists, one alert, its history, as plain records."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select

from analytics.alerts.errors import AlertNotFound
from analytics.alerts.history import estimates_of
from analytics.alerts.model import AlertStatus
from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Estimates, Severity, SubjectKind
from core.state.alerts import Alert, AlertEvent
from core.state.store import StateStore


@dataclass(frozen=True, slots=True)
class AlertView:
    """One alert as callers see it, detached from any database session."""

    id: int
    type: str
    title_fr: str
    severity: Severity
    status: AlertStatus
    tenant: str
    subject_kind: SubjectKind
    subject: str
    start: datetime
    last_seen: datetime
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution: str | None
    suppressed_until: datetime | None  # a snooze's end
    suppression_ended_at: datetime | None  # when a false alarm or snooze stopped holding back
    assignee: str | None
    escalation_level: int
    estimates: Estimates
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EventView:
    """One step of an alert's history."""

    id: int
    at: datetime
    kind: str
    actor: str | None
    comment: str | None
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """Which alerts to list; None means no restriction. An alert is within [since, until) when
    it was seen at or after ``since`` and started before ``until``."""

    tenants: Collection[str] | None = None
    types: Collection[str] | None = None
    severities: Collection[Severity] | None = None
    statuses: Collection[AlertStatus] | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, query: Select[Alert]) -> Select[Alert]:
        if self.tenants is not None:
            query = query.where(Alert.tenant.in_(sorted(self.tenants)))
        if self.types is not None:
            query = query.where(Alert.type.in_(sorted(self.types)))
        if self.severities is not None:
            query = query.where(Alert.severity.in_(sorted(s.value for s in self.severities)))
        if self.statuses is not None:
            query = query.where(Alert.status.in_(sorted(s.value for s in self.statuses)))
        if self.since is not None:
            query = query.where(Alert.last_seen >= self.since)
        if self.until is not None:
            query = query.where(Alert.start < self.until)
        return query


def view(alert: Alert) -> AlertView:
    known = ALERT_TYPES.get(alert.type)
    return AlertView(
        id=alert.id,
        type=alert.type,
        title_fr=known.title_fr if known else alert.type,
        severity=Severity(alert.severity),
        status=AlertStatus(alert.status),
        tenant=alert.tenant,
        subject_kind=SubjectKind(alert.subject_kind),
        subject=alert.subject,
        start=alert.start,
        last_seen=alert.last_seen,
        opened_at=alert.opened_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        resolved_at=alert.resolved_at,
        resolved_by=alert.resolved_by,
        resolution=alert.resolution,
        suppressed_until=alert.suppressed_until,
        suppression_ended_at=alert.suppression_ended_at,
        assignee=alert.assignee,
        escalation_level=alert.escalation_level,
        estimates=estimates_of(alert),
        evidence=dict(alert.evidence or {}),
    )


def list_alerts(
    state: StateStore, where: AlertFilter = AlertFilter(), *, limit: int = 100, offset: int = 0
) -> tuple[int, list[AlertView]]:
    """How many alerts match, and one page of them, most recently opened first."""
    query = where.apply(select(Alert))
    with state.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(
            query.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
        ).all()
        return total, [view(a) for a in rows]


def get_alert(state: StateStore, alert_id: int) -> AlertView:
    with state.session() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise AlertNotFound(alert_id)
        return view(alert)


def alert_events(state: StateStore, alert_id: int) -> list[EventView]:
    """The alert's history, oldest first."""
    with state.session() as session:
        rows = session.scalars(
            select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id)
        ).all()
        return [
            EventView(e.id, e.at, e.kind, e.actor, e.comment, dict(e.details or {})) for e in rows
        ]
