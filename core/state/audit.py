"""The audit log: every change made through the API or the CLI: who, what, when, from where."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Index, String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.state.base import Base


class AuditEntry(Base):
    """One state-changing request: the key that made it, the route, the outcome, the client."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_tenant_at", "tenant", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    key_id: Mapped[int | None]  # no foreign key: the log outlives what it names
    actor: Mapped[str] = mapped_column(String(120))
    tenant: Mapped[str | None] = mapped_column(String(64))  # the key's tenant; None: operator
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(500))
    status: Mapped[int]
    client_ip: Mapped[str | None] = mapped_column(String(64))


# An operator's command has no HTTP method, route or status: it is logged as method "CLI", the
# command line as the path, its exit status, and the host it ran on as where it came from.
CLI_METHOD = "CLI"


def record_command(
    session: Session, at: datetime, actor: str, command: str, status: int, host: str
) -> None:
    """Log a change made with ``vigie`` on the server (an operator's: no key, no tenant)."""
    session.add(
        AuditEntry(
            at=at,
            key_id=None,
            actor=actor[:120],
            tenant=None,
            method=CLI_METHOD,
            path=command[:500],
            status=status,
            client_ip=host[:64],
        )
    )


def audit_page(
    session: Session,
    tenants: Collection[str] | None,
    since: datetime | None,
    limit: int,
    offset: int,
) -> tuple[int, list[AuditEntry]]:
    """Entries made by keys of ``tenants`` (None: all), newest first, and their total."""
    query = select(AuditEntry)
    if tenants is not None:
        query = query.where(AuditEntry.tenant.in_(tenants))
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, list(rows)
