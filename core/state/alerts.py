"""Alert tables: alerts (one open per subject and type, dismissals that hold back their
recurrence), their history, and the notice outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.state.base import Base, JSONDocument

# The vocabularies below are spelled as data here because ``core`` cannot import the alert
# model of ``analytics``; the CHECK constraints keep both in step.
ALERT_STATUSES = ("open", "acknowledged", "resolved")
SEVERITIES = ("info", "warning", "critical")
SUBJECT_KINDS = ("device", "building", "sector", "station", "area")
NOTICE_KINDS = ("opened", "worsened", "escalated", "resolved")
RESOLUTIONS = ("auto", "manual", "fixed", "false_alarm", "snoozed")
# Resolutions that hold back findings on the same subject and type until they are lifted.
SUPPRESSING = ("false_alarm", "snoozed")

# One open alert per subject and type: a partial unique index, which SQLite and PostgreSQL
# both enforce, over the rows that are not resolved.
NOT_RESOLVED = text("status <> 'resolved'")
# A dismissal still in force: at most one per subject and type (a new alert for the key can
# only open once the previous dismissal is lifted).
SUPPRESSION_LIVE = text("resolution IN ('false_alarm', 'snoozed') AND suppression_ended_at IS NULL")


class EventKind(StrEnum):
    """What happened to an alert, in its history."""

    OPENED = "opened"
    UPDATED = "updated"  # severity went down
    WORSENED = "worsened"  # severity went up
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    COMMENTED = "commented"
    LIFTED = "lifted"  # a false alarm or snooze stopped holding back findings


class Resolution(StrEnum):
    AUTO = "auto"  # the detector said the condition cleared
    MANUAL = "manual"  # closed by hand before resolutions had kinds (rows older than 0005)
    FIXED = "fixed"  # a person closed it: dealt with; a later finding opens a new alert
    FALSE_ALARM = "false_alarm"  # not a real anomaly: held back until the condition clears
    SNOOZED = "snoozed"  # held back until a time, or until the condition clears

    @property
    def suppresses(self) -> bool:
        return self.value in SUPPRESSING


class DeliveryStatus(StrEnum):
    """Fate of one notice to one destination."""

    PENDING = "pending"  # not tried yet, or held by quiet hours
    SENT = "sent"
    FAILED = "failed"  # the last attempt failed; retried until the attempts run out
    SUPPRESSED = "suppressed"  # over the destination's rate limit: recorded, never sent
    CANCELLED = "cancelled"  # overtaken before delivery (alert acknowledged or resolved)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


SUPPRESSION_FIELDS = (
    "(COALESCE(resolution, '') = 'snoozed' AND suppressed_until IS NOT NULL)"
    " OR COALESCE(resolution, '') = 'false_alarm'"
    " OR (suppressed_until IS NULL AND suppression_ended_at IS NULL)"
)


class Alert(Base):
    """One anomaly on one subject, from first finding to resolution."""

    __tablename__ = "alert"
    __table_args__ = (
        Index(
            "uq_alert_open_subject",
            "tenant",
            "subject_kind",
            "subject",
            "type",
            unique=True,
            sqlite_where=NOT_RESOLVED,
            postgresql_where=NOT_RESOLVED,
        ),
        Index(
            "uq_alert_suppressed_subject",
            "tenant",
            "subject_kind",
            "subject",
            "type",
            unique=True,
            sqlite_where=SUPPRESSION_LIVE,
            postgresql_where=SUPPRESSION_LIVE,
        ),
        Index("ix_alert_status_severity", "status", "severity"),
        Index("ix_alert_tenant_type", "tenant", "type"),
        CheckConstraint(_in("status", ALERT_STATUSES), name="status"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint(_in("subject_kind", SUBJECT_KINDS), name="subject_kind"),
        CheckConstraint(
            f"resolution IS NULL OR {_in('resolution', RESOLUTIONS)}", name="resolution"
        ),
        # A snooze has an end; only dismissals carry suppression times.
        CheckConstraint(SUPPRESSION_FIELDS, name="suppression_fields"),
        CheckConstraint(
            "(status = 'resolved' AND resolved_at IS NOT NULL AND resolution IS NOT NULL)"
            " OR (status <> 'resolved' AND resolved_at IS NULL AND resolution IS NULL)",
            name="resolved_fields",
        ),
        CheckConstraint("escalation_level >= 0", name="escalation_level"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))  # tenant code, as in time-series tags
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(200))
    start: Mapped[datetime]  # onset of the condition, as the detector estimates it
    last_seen: Mapped[datetime]  # latest finding
    opened_at: Mapped[datetime]  # when the engine raised it: escalation counts from here
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    resolution: Mapped[str | None] = mapped_column(String(16))
    assignee: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    flow_lph: Mapped[float | None] = mapped_column(Float)
    volume_m3: Mapped[float | None] = mapped_column(Float)
    cost_eur: Mapped[float | None] = mapped_column(Float)
    escalation_level: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None]
    # A dismissal (false alarm, snooze) holds back findings on its key until it is lifted: by a
    # clearance, a worse finding, or this time (snooze). Lifted: when it stopped holding.
    suppressed_until: Mapped[datetime | None]
    suppression_ended_at: Mapped[datetime | None]


class AlertEvent(Base):
    """One step of an alert's history. Steps people must hear about carry a ``notice`` kind;
    the dispatcher turns them into outbox rows, then stamps ``routed_at``."""

    __tablename__ = "alert_event"
    __table_args__ = (
        Index(
            "ix_alert_event_unrouted",
            "id",
            sqlite_where=text("notice IS NOT NULL AND routed_at IS NULL"),
            postgresql_where=text("notice IS NOT NULL AND routed_at IS NULL"),
        ),
        CheckConstraint(_in("kind", tuple(EventKind)), name="kind"),
        CheckConstraint(f"notice IS NULL OR {_in('notice', NOTICE_KINDS)}", name="notice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str | None] = mapped_column(String(200))  # None: the engine itself
    comment: Mapped[str | None] = mapped_column(Text)
    # What the alert looked like at this step (severity, status, estimates, ...): notices
    # built later, or retried, tell what was true then.
    details: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    notice: Mapped[str | None] = mapped_column(String(16))
    routed_at: Mapped[datetime | None]


class Notification(Base):
    """The outbox: one notice to one destination, durable until sent, suppressed or given up."""

    __tablename__ = "notification"
    __table_args__ = (
        UniqueConstraint("event_id", "channel", "destination"),
        Index("ix_notification_status_due", "status", "next_attempt_at"),
        Index("ix_notification_destination_sent", "channel", "destination", "sent_at"),
        CheckConstraint(_in("status", tuple(DeliveryStatus)), name="status"),
        CheckConstraint(_in("kind", NOTICE_KINDS), name="kind"),
        CheckConstraint(_in("severity", SEVERITIES), name="severity"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("alert_event.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))  # decides quiet hours and rate limit
    channel: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
