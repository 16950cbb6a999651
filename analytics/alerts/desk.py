"""What people do with alerts: acknowledge, resolve by hand (with a comment), assign, comment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from analytics.alerts.errors import AlertConflict, AlertNotFound
from analytics.alerts.history import record
from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.queries import AlertView, view
from core.clock import Clock
from core.state.alerts import Alert, EventKind, Resolution
from core.state.store import StateStore


class AlertDesk:
    """Operator actions, each one transaction that also writes the alert's history."""

    def __init__(self, state: StateStore, clock: Clock) -> None:
        self._state = state
        self._clock = clock

    def acknowledge(self, alert_id: int, actor: str, comment: str | None = None) -> AlertView:
        """Someone is on it: escalation stops. Acknowledging twice changes nothing."""
        now = self._clock.now()
        with self._state.session() as session:
            alert = _active(session, alert_id, "acknowledge")
            if alert.status == AlertStatus.ACKNOWLEDGED:
                return view(alert)
            alert.status = AlertStatus.ACKNOWLEDGED.value
            alert.acknowledged_at = now
            alert.acknowledged_by = actor
            alert.updated_at = now
            record(
                session, alert, EventKind.ACKNOWLEDGED, now, actor=actor, comment=_clean(comment)
            )
            return view(alert)

    def resolve(self, alert_id: int, actor: str, comment: str) -> AlertView:
        """Close by hand; the comment says why (a repair, a false alarm, ...)."""
        text = _clean(comment)
        if text is None:
            raise ValueError("resolving an alert by hand needs a comment")
        now = self._clock.now()
        with self._state.session() as session:
            alert = _active(session, alert_id, "resolve")
            close(alert, Resolution.MANUAL, now, actor)
            record(
                session,
                alert,
                EventKind.RESOLVED,
                now,
                actor=actor,
                comment=text,
                notice=NoticeKind.RESOLVED,
                resolution=Resolution.MANUAL.value,
            )
            return view(alert)

    def assign(self, alert_id: int, assignee: str | None, actor: str) -> AlertView:
        """Give the alert to someone (None: to nobody)."""
        who = _clean(assignee)
        now = self._clock.now()
        with self._state.session() as session:
            alert = _active(session, alert_id, "assign")
            if alert.assignee == who:
                return view(alert)
            previous = alert.assignee
            alert.assignee = who
            alert.updated_at = now
            record(session, alert, EventKind.ASSIGNED, now, actor=actor, previous=previous, to=who)
            return view(alert)

    def comment(self, alert_id: int, actor: str, text: str) -> AlertView:
        """Add a note to the history, whatever the status."""
        note = _clean(text)
        if note is None:
            raise ValueError("a comment needs text")
        now = self._clock.now()
        with self._state.session() as session:
            alert = _get(session, alert_id)
            record(session, alert, EventKind.COMMENTED, now, actor=actor, comment=note)
            return view(alert)


def close(alert: Alert, resolution: Resolution, at: datetime, actor: str | None) -> None:
    alert.status = AlertStatus.RESOLVED.value
    alert.resolution = resolution.value
    alert.resolved_at = at
    alert.resolved_by = actor
    alert.updated_at = at


def _get(session: Session, alert_id: int) -> Alert:
    # Row lock on PostgreSQL: an operator's action and the engine's update never interleave.
    alert = session.get(Alert, alert_id, with_for_update=True)
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert


def _active(session: Session, alert_id: int, action: str) -> Alert:
    alert = _get(session, alert_id)
    if alert.status == AlertStatus.RESOLVED:
        raise AlertConflict(f"cannot {action} alert #{alert_id}: it is resolved")
    return alert


def _clean(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None
