"""Messages an operator publishes on the hub screens: French text, severity, start and end."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, case, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.state.base import Base

MESSAGE_SEVERITIES = ("info", "warning", "critical")
MESSAGE_LENGTH = 280  # what a screen shows at 3 m without scrolling


class HubMessage(Base):
    """One message for one hub's screens, or for every hub of the tenant when ``hub_id`` is null."""

    __tablename__ = "hub_message"
    __table_args__ = (
        CheckConstraint(
            "severity IN (" + ", ".join(f"'{s}'" for s in MESSAGE_SEVERITIES) + ")",
            name="severity",
        ),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="period"),
        Index("ix_hub_message_tenant_period", "tenant_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="CASCADE"))
    hub_id: Mapped[int | None] = mapped_column(ForeignKey("hub.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(MESSAGE_LENGTH))
    severity: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(120))
    # Withdrawn messages stay for the record (who said what, when) but are no longer shown.
    withdrawn_at: Mapped[datetime | None]


def live_messages(session: Session, tenant_id: int, hub_id: int, now: datetime) -> list[HubMessage]:
    """The messages a hub's screens show at ``now``: its own and its tenant's, most severe first."""
    rank = case(
        {s: i for i, s in enumerate(reversed(MESSAGE_SEVERITIES))}, value=HubMessage.severity
    )
    query = (
        select(HubMessage)
        .where(
            HubMessage.tenant_id == tenant_id,
            or_(HubMessage.hub_id.is_(None), HubMessage.hub_id == hub_id),
            HubMessage.withdrawn_at.is_(None),
            HubMessage.starts_at <= now,
            or_(HubMessage.ends_at.is_(None), HubMessage.ends_at > now),
        )
        .order_by(rank, HubMessage.starts_at.desc(), HubMessage.id.desc())
    )
    return list(session.scalars(query))
