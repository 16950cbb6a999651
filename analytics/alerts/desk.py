"""What people do with alerts: acknowledge, resolve by hand (fixed or false alarm, with a
comment), snooze until a time, assign, comment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

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

    def resolve(
        self,
        alert_id: int,
        actor: str,
        comment: str,
        resolution: Resolution = Resolution.FIXED,
    ) -> AlertView:
        """Close by hand; the comment says why.

        ``fixed``: dealt with, a later finding opens a new alert. ``false_alarm``: findings on
        the same subject and type are held back (no new alert, no notice) until the detector
        reports the condition cleared, or a finding is more severe than this alert was.
        """
        if resolution not in (Resolution.FIXED, Resolution.FALSE_ALARM):
            raise ValueError(f"resolve by hand as fixed or false_alarm, not {resolution.value!r}")
        return self._dismiss(alert_id, actor, comment, resolution, None, "resolve")

    def snooze(self, alert_id: int, actor: str, until: datetime, comment: str) -> AlertView:
        """Close for a while: findings on the same subject and type are held back until
        ``until``, or until the condition clears or worsens; then a finding opens a new alert."""
        now = self._clock.now()
        if until.tzinfo is None or until.utcoffset() is None:
            raise ValueError("the end of a snooze needs a time zone")
        if until <= now:
            raise ValueError(f"a snooze must end in the future, not at {until.isoformat()}")
        if until - now > MAX_SNOOZE:
            raise ValueError(f"a snooze may last at most {MAX_SNOOZE.days} days")
        return self._dismiss(
            alert_id, actor, comment, Resolution.SNOOZED, until.astimezone(UTC), "snooze"
        )

    def _dismiss(
        self,
        alert_id: int,
        actor: str,
        comment: str,
        resolution: Resolution,
        until: datetime | None,
        action: str,
    ) -> AlertView:
        text = _clean(comment)
        if text is None:
            raise ValueError(f"to {action} an alert by hand, say why in a comment")
        now = self._clock.now()
        with self._state.session() as session:
            alert = _active(session, alert_id, action)
            close(alert, resolution, now, actor)
            alert.suppressed_until = until
            details: dict[str, str] = {"resolution": resolution.value}
            if until is not None:
                details["suppressed_until"] = until.isoformat()
            record(
                session,
                alert,
                EventKind.RESOLVED,
                now,
                actor=actor,
                comment=text,
                notice=NoticeKind.RESOLVED,
                **details,
            )
            return view(alert)

    def lift(self, alert_id: int, actor: str, comment: str | None = None) -> AlertView:
        """End a false alarm or snooze now: the next finding opens a new alert."""
        now = self._clock.now()
        with self._state.session() as session:
            alert = _get(session, alert_id)
            if not is_suppressing(alert):
                raise AlertConflict(f"alert #{alert_id} holds nothing back: nothing to lift")
            lift(session, alert, now, "by_hand", actor=actor, comment=_clean(comment))
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


# Longer than any holiday closure or planned works; beyond that, a false alarm is the word.
MAX_SNOOZE = timedelta(days=366)


def is_suppressing(alert: Alert) -> bool:
    """Whether the alert is a dismissal still recorded as holding back its key (its snooze may
    have run out: the engine checks the time)."""
    return (
        alert.resolution is not None
        and Resolution(alert.resolution).suppresses
        and alert.suppression_ended_at is None
    )


def lift(
    session: Session,
    alert: Alert,
    at: datetime,
    why: str,
    *,
    actor: str | None = None,
    comment: str | None = None,
) -> None:
    """Stop a dismissal holding back findings; ``why``: cleared, expired, worsened, by_hand."""
    alert.suppression_ended_at = at
    record(session, alert, EventKind.LIFTED, at, actor=actor, comment=comment, why=why)


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
