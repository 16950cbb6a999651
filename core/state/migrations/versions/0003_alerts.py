"""Alerts: one open alert per subject and type, its history, and the notice outbox.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the vocabularies at this revision: a migration never imports the models.
STATUSES = "'open', 'acknowledged', 'resolved'"
SEVERITIES = "'info', 'warning', 'critical'"
SUBJECT_KINDS = "'device', 'building', 'sector', 'station', 'area'"
NOTICE_KINDS = "'opened', 'worsened', 'escalated', 'resolved'"
EVENT_KINDS = (
    "'opened', 'updated', 'worsened', 'acknowledged', 'assigned', 'escalated', 'resolved', "
    "'commented'"
)
DELIVERY_STATUSES = "'pending', 'sent', 'failed', 'suppressed'"
NOT_RESOLVED = "status <> 'resolved'"
UNROUTED = "notice IS NOT NULL AND routed_at IS NULL"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _when(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _check(table: str, name: str, condition: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(condition, name=op.f(f"ck_{table}_{name}"))


def _partial(where: str) -> dict[str, Any]:
    return {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        _when("start"),
        _when("last_seen"),
        _when("opened_at"),
        _when("updated_at"),
        _when("acknowledged_at", nullable=True),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        _when("resolved_at", nullable=True),
        sa.Column("resolved_by", sa.String(200), nullable=True),
        sa.Column("resolution", sa.String(8), nullable=True),
        sa.Column("assignee", sa.String(200), nullable=True),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("flow_lph", sa.Float(), nullable=True),
        sa.Column("volume_m3", sa.Float(), nullable=True),
        sa.Column("cost_eur", sa.Float(), nullable=True),
        sa.Column("escalation_level", sa.Integer(), nullable=False),
        _when("escalated_at", nullable=True),
        _check("alert", "status", f"status IN ({STATUSES})"),
        _check("alert", "severity", f"severity IN ({SEVERITIES})"),
        _check("alert", "subject_kind", f"subject_kind IN ({SUBJECT_KINDS})"),
        _check("alert", "resolution", "resolution IS NULL OR resolution IN ('auto', 'manual')"),
        _check(
            "alert",
            "resolved_fields",
            "(status = 'resolved' AND resolved_at IS NOT NULL AND resolution IS NOT NULL)"
            " OR (status <> 'resolved' AND resolved_at IS NULL AND resolution IS NULL)",
        ),
        _check("alert", "escalation_level", "escalation_level >= 0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert")),
    )
    op.create_index(
        "uq_alert_open_subject",
        "alert",
        ["tenant", "subject_kind", "subject", "type"],
        unique=True,
        **_partial(NOT_RESOLVED),
    )
    op.create_index("ix_alert_status_severity", "alert", ["status", "severity"])
    op.create_index("ix_alert_tenant_type", "alert", ["tenant", "type"])

    op.create_table(
        "alert_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        _when("at"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("details", _json(), nullable=False),
        sa.Column("notice", sa.String(16), nullable=True),
        _when("routed_at", nullable=True),
        _check("alert_event", "kind", f"kind IN ({EVENT_KINDS})"),
        _check("alert_event", "notice", f"notice IS NULL OR notice IN ({NOTICE_KINDS})"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_alert_event_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_event")),
    )
    op.create_index("ix_alert_event_alert_id", "alert_event", ["alert_id"])
    op.create_index("ix_alert_event_unrouted", "alert_event", ["id"], **_partial(UNROUTED))

    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        _when("created_at"),
        _when("next_attempt_at"),
        _when("sent_at", nullable=True),
        _when("updated_at"),
        _check("notification", "status", f"status IN ({DELIVERY_STATUSES})"),
        _check("notification", "kind", f"kind IN ({NOTICE_KINDS})"),
        _check("notification", "severity", f"severity IN ({SEVERITIES})"),
        _check("notification", "attempts", "attempts >= 0"),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert.id"],
            name=op.f("fk_notification_alert_id_alert"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["alert_event.id"],
            name=op.f("fk_notification_event_id_alert_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint(
            "event_id",
            "channel",
            "destination",
            name=op.f("uq_notification_event_id_channel_destination"),
        ),
    )
    op.create_index("ix_notification_alert_id", "notification", ["alert_id"])
    op.create_index("ix_notification_status_due", "notification", ["status", "next_attempt_at"])
    op.create_index(
        "ix_notification_destination_sent", "notification", ["channel", "destination", "sent_at"]
    )


def downgrade() -> None:
    op.drop_table("notification")
    op.drop_table("alert_event")
    op.drop_table("alert")
