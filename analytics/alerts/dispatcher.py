"""The dispatcher: routes queued notices into the outbox, then delivers what is due, honouring
quiet hours and per-destination rate limits, and retrying failed sends with backoff.

Several dispatchers may share one state store (two analytics runners): each claims the rows it
will send before sending, so a notice goes out once. On PostgreSQL the claim locks the rows with
``SELECT … FOR UPDATE SKIP LOCKED`` (another dispatcher takes the next rows instead of waiting)
and moves their next attempt a lease ahead; on SQLite every unit of work holds the database's
write lock from its BEGIN (core/state/store.py), so claims run one after the other and the second
sees the rows already leased. A dispatcher that dies after its claim leaves the rows to be sent
by another once the lease has run out: at least once, never twice while the lease holds.

Just before sending, a notice is checked against its alert as it is now: one that the alert has
overtaken (opened, worse or escalated, then acknowledged or resolved while it waited for quiet
hours to end or for a retry) is recorded as cancelled, with why, and not sent.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from analytics.alerts.channel import Notifier, NotifyError
from analytics.alerts.model import AlertStatus, Notice, NoticeKind
from analytics.alerts.notices import build_notice
from analytics.alerts.quiet_hours import is_quiet, quiet_until
from analytics.alerts.routing import destinations
from analytics.findings import Severity
from core.clock import Clock
from core.config import AlertsSettings
from core.state.alerts import Alert, AlertEvent, DeliveryStatus, Notification
from core.state.store import StateStore

log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(hours=1)
MAX_BACKOFF = timedelta(hours=1)
# How long a claimed row is left to the dispatcher that claimed it: longer than a round of
# sends takes (each channel times out within seconds), short enough to retry a dead one's work.
CLAIM_LEASE = timedelta(minutes=15)
_CRITICAL = Severity.CRITICAL.value
# Critical first: during an alert storm they are never starved by a batch of lesser ones.
_URGENCY = case({"critical": 0, "warning": 1}, value=Notification.severity, else_=2)
_RETRYABLE = (DeliveryStatus.PENDING.value, DeliveryStatus.FAILED.value)


@dataclass(slots=True)
class DispatchReport:
    """What one dispatch round did."""

    queued: int = 0  # outbox rows created from new notices
    unrouted: int = 0  # notices no route wanted
    sent: int = 0
    held: int = 0  # non-critical, waiting for quiet hours to end
    suppressed: int = 0  # over a destination's rate limit: recorded, not sent
    failed: int = 0  # attempts that failed and will be retried
    given_up: int = 0  # attempts that failed for the last allowed time
    cancelled: int = 0  # overtaken by the alert (acknowledged, resolved) before delivery
    held_until: datetime | None = None  # end of the current quiet hours, if any


@dataclass(frozen=True, slots=True)
class _Delivery:
    id: int
    channel: str
    destination: str
    severity: str
    attempts: int
    notice: Notice


class Dispatcher:
    """Moves notices from alert history to people, durably: every notice to every destination
    is an outbox row whose fate (sent, failed after N attempts, suppressed) is recorded."""

    def __init__(
        self,
        state: StateStore,
        clock: Clock,
        settings: AlertsSettings,
        notifiers: Mapping[str, Notifier],
        *,
        batch: int = 500,
    ) -> None:
        self._state = state
        self._clock = clock
        self._settings = settings
        self._notifiers = dict(notifiers)
        self._batch = batch

    def dispatch(self) -> DispatchReport:
        """One round: route new notices, then deliver the due ones. Call it periodically."""
        report = DispatchReport()
        now = self._clock.now()
        # Routing is cheap and must see every notice before delivery picks the most urgent.
        while self._route(now, report) == self._batch:
            pass
        self._deliver(now, report)
        return report

    def _route(self, now: datetime, report: DispatchReport) -> int:
        """Route one batch of notices into the outbox; returns how many notices it took."""
        with self._state.session() as session:
            rows = session.execute(
                select(AlertEvent, Alert)
                .join(Alert, AlertEvent.alert_id == Alert.id)
                .where(AlertEvent.notice.is_not(None), AlertEvent.routed_at.is_(None))
                .order_by(AlertEvent.id)
                .limit(self._batch)
                .with_for_update(of=AlertEvent, skip_locked=True)
            ).all()
            for event, alert in rows:
                assert event.notice is not None
                severity = Severity((event.details or {}).get("severity", alert.severity))
                targets = destinations(
                    self._settings.routes,
                    alert.tenant,
                    alert.type,
                    severity,
                    NoticeKind(event.notice),
                )
                for target in targets:
                    session.add(
                        Notification(
                            alert_id=alert.id,
                            event_id=event.id,
                            kind=event.notice,
                            severity=severity.value,
                            channel=target.channel,
                            destination=target.address,
                            status=DeliveryStatus.PENDING.value,
                            attempts=0,
                            created_at=now,
                            next_attempt_at=now,
                            updated_at=now,
                        )
                    )
                event.routed_at = now
                report.queued += len(targets)
                if not targets:
                    report.unrouted += 1
                    log.info("no route for %s notice of alert #%d", event.notice, alert.id)
            return len(rows)

    def _deliver(self, now: datetime, report: DispatchReport) -> None:
        quiet = is_quiet(now, self._settings.quiet_hours)
        report.held_until = quiet_until(now, self._settings.quiet_hours)
        due = (
            Notification.status.in_(_RETRYABLE),
            Notification.attempts < self._settings.max_attempts,
            Notification.next_attempt_at <= now,
        )
        with self._state.session() as session:
            query = select(Notification, AlertEvent, Alert).join(
                AlertEvent, Notification.event_id == AlertEvent.id
            )
            query = query.join(Alert, Notification.alert_id == Alert.id).where(*due)
            if quiet:
                report.held = (
                    session.scalar(
                        select(func.count())
                        .select_from(Notification)
                        .where(*due, Notification.severity != _CRITICAL)
                    )
                    or 0
                )
                query = query.where(Notification.severity == _CRITICAL)
            rows = session.execute(
                query.order_by(_URGENCY, Notification.id)
                .limit(self._batch)
                .with_for_update(of=Notification, skip_locked=True)
            ).all()
            work: list[_Delivery] = []
            for n, event, alert in rows:
                why = _overtaken(session, n, event, alert)
                if why is not None:
                    n.status = DeliveryStatus.CANCELLED.value
                    n.last_error = why
                    n.updated_at = now
                    report.cancelled += 1
                    log.info("notice #%d to %s cancelled: %s", n.id, n.destination, why)
                    continue
                # The claim: no other dispatcher finds this row due while the lease runs.
                n.next_attempt_at = now + CLAIM_LEASE
                n.updated_at = now
                work.append(
                    _Delivery(
                        n.id,
                        n.channel,
                        n.destination,
                        n.severity,
                        n.attempts,
                        build_notice(alert, event, self._settings.base_url, self._settings.zone),
                    )
                )
        recent: dict[tuple[str, str], int] = {}
        for item in work:
            # Sending happens outside any transaction: a slow SMTP server holds no lock.
            if self._over_limit(item, now, recent):
                self._settle(
                    item.id,
                    now,
                    status=DeliveryStatus.SUPPRESSED.value,
                    last_error=f"rate limit: {self._settings.rate_limit} notices per hour "
                    f"to {item.destination}",
                )
                report.suppressed += 1
                continue
            error = self._send(item)
            if error is None:
                self._settle(
                    item.id,
                    now,
                    status=DeliveryStatus.SENT.value,
                    attempts=item.attempts + 1,
                    sent_at=now,
                )
                key = (item.channel, item.destination)
                recent[key] = recent.get(key, 0) + 1
                report.sent += 1
                continue
            attempts = item.attempts + 1
            self._settle(
                item.id,
                now,
                status=DeliveryStatus.FAILED.value,
                attempts=attempts,
                last_error=error[:2000],
                next_attempt_at=now + self._backoff(attempts),
            )
            if attempts >= self._settings.max_attempts:
                report.given_up += 1
                log.error("gave up notice #%d to %s: %s", item.id, item.destination, error)
            else:
                report.failed += 1
                log.warning("notice #%d to %s failed: %s", item.id, item.destination, error)

    def _over_limit(
        self, item: _Delivery, now: datetime, recent: dict[tuple[str, str], int]
    ) -> bool:
        """Whether the destination had its quota of notices in the past hour. Critical notices
        always go (and count): missing a burst costs more than one e-mail too many."""
        limit = self._settings.rate_limit
        key = (item.channel, item.destination)
        if limit <= 0:
            return False
        if key not in recent:
            with self._state.session() as session:
                recent[key] = (
                    session.scalar(
                        select(func.count())
                        .select_from(Notification)
                        .where(
                            Notification.channel == item.channel,
                            Notification.destination == item.destination,
                            Notification.status == DeliveryStatus.SENT.value,
                            Notification.sent_at > now - RATE_WINDOW,
                        )
                    )
                    or 0
                )
        return item.severity != _CRITICAL and recent[key] >= limit

    def _send(self, item: _Delivery) -> str | None:
        """None when delivered, else why not."""
        notifier = self._notifiers.get(item.channel)
        if notifier is None:
            return f"no notifier for channel {item.channel!r}"
        try:
            notifier.send(item.notice, item.destination)
        except NotifyError as exc:
            return str(exc) or type(exc).__name__
        except Exception as exc:  # a notifier bug must not block every later notice
            log.exception("notifier %s crashed on notice #%d", item.channel, item.id)
            return f"{type(exc).__name__}: {exc}"
        return None

    def _backoff(self, attempts: int) -> timedelta:
        delay = timedelta(seconds=self._settings.retry_after_s * 2 ** (attempts - 1))
        return min(delay, MAX_BACKOFF)

    def _settle(self, notification_id: int, now: datetime, **values: Any) -> None:
        if "next_attempt_at" not in values:
            values["next_attempt_at"] = now  # the claim's lease ends with the attempt
        with self._state.session() as session:
            session.execute(
                update(Notification)
                .where(Notification.id == notification_id)
                .values(updated_at=now, **values)
            )


def _overtaken(
    session: Session, notification: Notification, event: AlertEvent, alert: Alert
) -> str | None:
    """Why this notice is no longer worth sending, or None.

    A resolved alert makes its pending opened, worsened and escalated notices moot; an
    acknowledgement does the same for those queued before it (a worsening after it is news to
    whoever acknowledged). A resolution notice to a destination that was sent nothing about the
    alert (its opening was held at night, then cancelled) would announce the end of something
    never announced: it is cancelled too.
    """
    if notification.kind == NoticeKind.RESOLVED:
        told = session.scalar(
            select(
                exists().where(
                    Notification.alert_id == alert.id,
                    Notification.channel == notification.channel,
                    Notification.destination == notification.destination,
                    Notification.status == DeliveryStatus.SENT.value,
                )
            )
        )
        return None if told else "nothing about this alert was sent to this destination"
    if alert.status == AlertStatus.RESOLVED:
        assert alert.resolved_at is not None
        by = f" by {alert.resolved_by}" if alert.resolved_by else ""
        return (
            f"alert resolved ({alert.resolution}){by} at {alert.resolved_at.isoformat()}"
            " before delivery"
        )
    acknowledged = alert.acknowledged_at
    if alert.status == AlertStatus.ACKNOWLEDGED and acknowledged and acknowledged >= event.at:
        return (
            f"alert acknowledged by {alert.acknowledged_by} at {acknowledged.isoformat()}"
            " before delivery"
        )
    return None
