"""Alert dismissals and cancelled notices: resolutions fixed / false_alarm / snoozed, until when
a dismissal holds and when it was lifted, the ``lifted`` history step, ``cancelled`` outbox rows.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the vocabularies at this revision: a migration never imports the models.
RESOLUTIONS = "'auto', 'manual', 'fixed', 'false_alarm', 'snoozed'"
OLD_RESOLUTIONS = "'auto', 'manual'"
EVENT_KINDS = (
    "'opened', 'updated', 'worsened', 'acknowledged', 'assigned', 'escalated', 'resolved', "
    "'commented', 'lifted'"
)
OLD_EVENT_KINDS = (
    "'opened', 'updated', 'worsened', 'acknowledged', 'assigned', 'escalated', 'resolved', "
    "'commented'"
)
DELIVERY_STATUSES = "'pending', 'sent', 'failed', 'suppressed', 'cancelled'"
OLD_DELIVERY_STATUSES = "'pending', 'sent', 'failed', 'suppressed'"
SUPPRESSION_FIELDS = (
    "(COALESCE(resolution, '') = 'snoozed' AND suppressed_until IS NOT NULL)"
    " OR COALESCE(resolution, '') = 'false_alarm'"
    " OR (suppressed_until IS NULL AND suppression_ended_at IS NULL)"
)
SUPPRESSION_LIVE = "resolution IN ('false_alarm', 'snoozed') AND suppression_ended_at IS NULL"


def _recheck(batch: object, table: str, name: str, condition: str) -> None:
    batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")  # type: ignore[attr-defined]
    batch.create_check_constraint(op.f(f"ck_{table}_{name}"), condition)  # type: ignore[attr-defined]


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.alter_column(
            "resolution", existing_type=sa.String(8), type_=sa.String(16), existing_nullable=True
        )
        batch.add_column(sa.Column("suppressed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("suppression_ended_at", sa.DateTime(timezone=True), nullable=True)
        )
        _recheck(
            batch, "alert", "resolution", f"resolution IS NULL OR resolution IN ({RESOLUTIONS})"
        )
        batch.create_check_constraint(op.f("ck_alert_suppression_fields"), SUPPRESSION_FIELDS)
    op.create_index(
        "uq_alert_suppressed_subject",
        "alert",
        ["tenant", "subject_kind", "subject", "type"],
        unique=True,
        sqlite_where=sa.text(SUPPRESSION_LIVE),
        postgresql_where=sa.text(SUPPRESSION_LIVE),
    )
    with op.batch_alter_table("alert_event") as batch:
        _recheck(batch, "alert_event", "kind", f"kind IN ({EVENT_KINDS})")
    with op.batch_alter_table("notification") as batch:
        _recheck(batch, "notification", "status", f"status IN ({DELIVERY_STATUSES})")


def downgrade() -> None:
    # The older vocabularies cannot say these: closest older words.
    op.execute(
        "UPDATE alert SET resolution = 'manual', suppressed_until = NULL, "
        "suppression_ended_at = NULL WHERE resolution IN ('fixed', 'false_alarm', 'snoozed')"
    )
    op.execute("UPDATE alert_event SET kind = 'commented' WHERE kind = 'lifted'")
    op.execute("UPDATE notification SET status = 'suppressed' WHERE status = 'cancelled'")
    with op.batch_alter_table("notification") as batch:
        _recheck(batch, "notification", "status", f"status IN ({OLD_DELIVERY_STATUSES})")
    with op.batch_alter_table("alert_event") as batch:
        _recheck(batch, "alert_event", "kind", f"kind IN ({OLD_EVENT_KINDS})")
    op.drop_index("uq_alert_suppressed_subject", table_name="alert")
    with op.batch_alter_table("alert") as batch:
        batch.drop_constraint(op.f("ck_alert_suppression_fields"), type_="check")
        _recheck(
            batch, "alert", "resolution", f"resolution IS NULL OR resolution IN ({OLD_RESOLUTIONS})"
        )
        batch.drop_column("suppression_ended_at")
        batch.drop_column("suppressed_until")
        batch.alter_column(
            "resolution", existing_type=sa.String(16), type_=sa.String(8), existing_nullable=True
        )
