"""Hub screens: the GTFS stops a hub shows, its display token's hash, and operator messages.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the vocabulary at this revision: a migration never imports the models.
SEVERITIES = "'info', 'warning', 'critical'"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    with op.batch_alter_table("hub") as batch:
        batch.add_column(sa.Column("stops", _json(), nullable=False, server_default="[]"))
        batch.add_column(sa.Column("display_token_sha256", sa.String(64), nullable=True))
    op.create_table(
        "hub_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.Column("hub_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(280), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(f"severity IN ({SEVERITIES})", name=op.f("ck_hub_message_severity")),
        sa.CheckConstraint(
            "ends_at IS NULL OR ends_at > starts_at", name=op.f("ck_hub_message_period")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenant.id"],
            name=op.f("fk_hub_message_tenant_id_tenant"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hub_id"], ["hub.id"], name=op.f("fk_hub_message_hub_id_hub"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_message")),
    )
    op.create_index(op.f("ix_hub_message_hub_id"), "hub_message", ["hub_id"])
    op.create_index("ix_hub_message_tenant_period", "hub_message", ["tenant_id", "starts_at"])


def downgrade() -> None:
    op.drop_index("ix_hub_message_tenant_period", table_name="hub_message")
    op.drop_index(op.f("ix_hub_message_hub_id"), table_name="hub_message")
    op.drop_table("hub_message")
    with op.batch_alter_table("hub") as batch:
        batch.drop_column("display_token_sha256")
        batch.drop_column("stops")
