"""The alert engine: findings open or update alerts (one open per subject and type), clearances
resolve them, unacknowledged alerts escalate; every step is history and, where due, a notice.

An alert dismissed by hand as a false alarm, or snoozed, holds back later findings on its subject
and type (no new alert, no notice) until it is lifted: by a clearance (the condition ended once),
by a finding more severe than the dismissed alert, or when the snooze runs out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from analytics.alerts.desk import AlertDesk, close, lift
from analytics.alerts.history import record
from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.queries import AlertView
from analytics.detectors.registry import ALERT_TYPES
from analytics.findings import Clearance, Estimates, Finding, Severity
from core.clock import Clock
from core.config import AlertsSettings
from core.state.alerts import SUPPRESSING, Alert, EventKind, Resolution
from core.state.store import StateStore

Key = tuple[str, str, str, str]  # tenant, subject kind, subject, type

# Keys per prefetch query: well under SQLite's bound-parameter limit (4 parameters per key).
_KEY_CHUNK = 200


@dataclass(frozen=True, slots=True)
class Change:
    """What the engine did to one alert: the history step, and the notice it queued, if any.

    ``event`` is ``updated`` with no notice for a plain refresh (last seen, evidence, estimates)
    or a lower severity."""

    alert_id: int
    event: EventKind
    notice: NoticeKind | None = None


class AlertEngine:
    """Keeps alerts in the state store in step with what detectors find.

    All state lives in the store, so a restarted engine carries on where the last one stopped;
    time comes from ``clock``.
    """

    def __init__(self, state: StateStore, clock: Clock, settings: AlertsSettings) -> None:
        self._state = state
        self._clock = clock
        self._settings = settings
        self._desk = AlertDesk(state, clock)

    def apply(
        self, findings: Sequence[Finding], clearances: Sequence[Clearance] = ()
    ) -> list[Change]:
        """Upsert findings and resolve cleared alerts, in one transaction, in time order.

        A finding older than its alert's last sighting, or a clearance older than it, is stale
        and changes nothing.
        """
        statements: list[Finding | Clearance] = [*findings, *clearances]
        unknown = sorted({s.type for s in statements} - ALERT_TYPES.keys())
        if unknown:
            raise ValueError(f"unknown alert type(s): {', '.join(unknown)}")
        statements.sort(key=_time)
        now = self._clock.now()
        changes: list[Change] = []
        with self._state.session() as session:
            keys = {_key(s) for s in statements}
            alerts = _open_alerts(session, keys)
            dismissed = _dismissed(session, keys - alerts.keys())
            for statement in statements:
                if isinstance(statement, Finding):
                    change = self._upsert(session, alerts, dismissed, statement, now)
                else:
                    change = _clear(session, alerts, dismissed, statement, now)
                if change is not None:
                    changes.append(change)
        return changes

    def escalate_due(self) -> list[Change]:
        """Escalate alerts open and unacknowledged for ``escalate_after_h`` × the next level.

        Each level is reached once; when several are due at once (the engine was stopped), the
        alert goes straight to the highest with one notice.
        """
        after_h = self._settings.escalate_after_h
        if after_h <= 0:
            return []
        step = timedelta(hours=after_h)
        levels = self._settings.escalation_levels
        now = self._clock.now()
        changes: list[Change] = []
        with self._state.session() as session:
            due = session.scalars(
                select(Alert)
                .where(
                    Alert.status == AlertStatus.OPEN.value,
                    Alert.escalation_level < levels,
                    Alert.opened_at <= now - step,
                )
                .order_by(Alert.id)
                .with_for_update()
            ).all()
            for alert in due:
                level = min(levels, (now - alert.opened_at) // step)
                if level <= alert.escalation_level:
                    continue
                alert.escalation_level = level
                alert.escalated_at = now
                alert.updated_at = now
                record(
                    session,
                    alert,
                    EventKind.ESCALATED,
                    now,
                    notice=NoticeKind.ESCALATED,
                    level=level,
                )
                changes.append(Change(alert.id, EventKind.ESCALATED, NoticeKind.ESCALATED))
        return changes

    def acknowledge(self, alert_id: int, actor: str, comment: str | None = None) -> AlertView:
        return self._desk.acknowledge(alert_id, actor, comment)

    def resolve(
        self,
        alert_id: int,
        actor: str,
        comment: str,
        resolution: Resolution = Resolution.FIXED,
    ) -> AlertView:
        return self._desk.resolve(alert_id, actor, comment, resolution)

    def snooze(self, alert_id: int, actor: str, until: datetime, comment: str) -> AlertView:
        return self._desk.snooze(alert_id, actor, until, comment)

    def assign(self, alert_id: int, assignee: str | None, actor: str) -> AlertView:
        return self._desk.assign(alert_id, assignee, actor)

    def _estimates(self, finding: Finding) -> Estimates:
        given = finding.estimates
        if given.volume_m3 is None:
            return given
        return Estimates(
            flow_lph=given.flow_lph,
            volume_m3=given.volume_m3,
            cost_eur=round(given.volume_m3 * self._settings.price_eur_m3, 2),
        )

    def _upsert(
        self,
        session: Session,
        alerts: dict[Key, Alert],
        dismissed: dict[Key, Alert],
        finding: Finding,
        now: datetime,
    ) -> Change | None:
        key = _key(finding)
        severity = finding.severity or ALERT_TYPES[finding.type].severity
        estimates = self._estimates(finding)
        alert = alerts.get(key)
        if alert is None:
            follows: dict[str, Any] = {}
            held = dismissed.pop(key, None)
            if held is not None:
                why = _lifted_by(held, severity, now)
                if why is None:
                    # Held back: no alert, no notice. Its last sighting still moves, so a
                    # clearance older than the condition's latest sighting stays stale.
                    held.last_seen = max(held.last_seen, finding.observed_at)
                    dismissed[key] = held
                    return None
                at = held.suppressed_until if why == "expired" else now
                assert at is not None
                lift(session, held, at, why)
                follows["follows"] = held.id
            alert = _insert(session, finding, severity, estimates, now)
            if alert is not None:
                alerts[key] = alert
                record(session, alert, EventKind.OPENED, now, notice=NoticeKind.OPENED, **follows)
                return Change(alert.id, EventKind.OPENED, NoticeKind.OPENED)
            # Another engine opened it between our read and our insert: update that one.
            alert = _open_alerts(session, {key})[key]
            alerts[key] = alert
        if finding.observed_at < alert.last_seen:
            return None
        alert.last_seen = finding.observed_at
        alert.start = min(alert.start, finding.start)
        alert.evidence = dict(finding.evidence)
        alert.flow_lph, alert.volume_m3, alert.cost_eur = (
            estimates.flow_lph,
            estimates.volume_m3,
            estimates.cost_eur,
        )
        alert.updated_at = now
        previous = Severity(alert.severity)
        alert.severity = severity.value
        if severity.rank > previous.rank:
            record(
                session,
                alert,
                EventKind.WORSENED,
                now,
                notice=NoticeKind.WORSENED,
                previous=previous.value,
            )
            return Change(alert.id, EventKind.WORSENED, NoticeKind.WORSENED)
        if severity.rank < previous.rank:
            record(session, alert, EventKind.UPDATED, now, previous=previous.value)
        return Change(alert.id, EventKind.UPDATED)


def _time(statement: Finding | Clearance) -> datetime:
    return statement.observed_at if isinstance(statement, Finding) else statement.at


def _key(statement: Finding | Clearance) -> Key:
    return (statement.tenant, statement.subject_kind.value, statement.subject, statement.type)


def _open_alerts(session: Session, keys: set[Key]) -> dict[Key, Alert]:
    """The alerts not yet resolved for these keys, locked against concurrent changes: FOR
    UPDATE on PostgreSQL; on SQLite the unit of work holds the write lock from its BEGIN
    IMMEDIATE (see core/state/store.py)."""
    return _locked(session, keys, Alert.status != AlertStatus.RESOLVED.value)


def _dismissed(session: Session, keys: set[Key]) -> dict[Key, Alert]:
    """The dismissals (false alarm, snooze) still holding back these keys, locked like open
    alerts: the partial unique index keeps at most one per key."""
    return _locked(
        session,
        keys,
        Alert.resolution.in_(SUPPRESSING),
        Alert.suppression_ended_at.is_(None),
    )


def _locked(session: Session, keys: set[Key], *where: ColumnElement[bool]) -> dict[Key, Alert]:
    """The alerts of these keys that match ``where``, locked FOR UPDATE, by key; keys are sent
    in chunks so that a pass over many subjects stays within the drivers' parameter limits."""
    found: dict[Key, Alert] = {}
    ordered = sorted(keys)
    columns = tuple_(Alert.tenant, Alert.subject_kind, Alert.subject, Alert.type)
    for start in range(0, len(ordered), _KEY_CHUNK):
        chunk = ordered[start : start + _KEY_CHUNK]
        rows = session.scalars(
            select(Alert).where(*where, columns.in_(chunk)).with_for_update()
        ).all()
        found.update({(a.tenant, a.subject_kind, a.subject, a.type): a for a in rows})
    return found


def _lifted_by(held: Alert, severity: Severity, now: datetime) -> str | None:
    """Why a finding ends this dismissal, or None when the dismissal holds it back."""
    if held.suppressed_until is not None and now >= held.suppressed_until:
        return "expired"
    if severity.rank > Severity(held.severity).rank:
        return "worsened"  # not what was dismissed: people must hear about it
    return None


def _insert(
    session: Session, finding: Finding, severity: Severity, estimates: Estimates, now: datetime
) -> Alert | None:
    """A new open alert, or None when the database already holds an open one for its key."""
    alert = Alert(
        type=finding.type,
        severity=severity.value,
        status=AlertStatus.OPEN.value,
        tenant=finding.tenant,
        subject_kind=finding.subject_kind.value,
        subject=finding.subject,
        start=finding.start,
        last_seen=finding.observed_at,
        opened_at=now,
        updated_at=now,
        evidence=dict(finding.evidence),
        flow_lph=estimates.flow_lph,
        volume_m3=estimates.volume_m3,
        cost_eur=estimates.cost_eur,
        escalation_level=0,
    )
    try:
        with session.begin_nested():
            session.add(alert)
    except IntegrityError:
        return None
    return alert


def _clear(
    session: Session,
    alerts: dict[Key, Alert],
    dismissed: dict[Key, Alert],
    clearance: Clearance,
    now: datetime,
) -> Change | None:
    alert = alerts.pop(_key(clearance), None)
    if alert is None:
        held = dismissed.get(_key(clearance))
        if held is None or clearance.at < held.last_seen:
            return None
        # The condition ended once: a recurrence is news again.
        del dismissed[_key(clearance)]
        lift(session, held, now, "cleared")
        return Change(held.id, EventKind.LIFTED)
    if clearance.at < alert.last_seen:
        alerts[_key(clearance)] = alert
        return None
    close(alert, Resolution.AUTO, clearance.at, None)
    record(
        session,
        alert,
        EventKind.RESOLVED,
        now,
        notice=NoticeKind.RESOLVED,
        resolution=Resolution.AUTO.value,
    )
    return Change(alert.id, EventKind.RESOLVED, NoticeKind.RESOLVED)
