"""API keys: a role and a tenant scope each; only the key's SHA-256 is stored, shown once.

A key is 32 random bytes (``secrets``), so a plain SHA-256 is enough to make the stored digest
useless to whoever reads the database: there is no password to brute-force, unlike a human
secret that would need a slow hash. A key scoped to an agglomeration sees its member communes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.state.base import Base
from core.state.models import Tenant

KEY_PREFIX = "vigie_"
NAME_LENGTH = 120


class Role(StrEnum):
    """What a key may do, within its tenants."""

    ADMIN = "admin"  # everything, including keys' audit trail
    TECHNICIAN = "technician"  # buildings and energy: devices, readings, KPIs, alerts
    WATER = "water"  # the water network and household meters
    VIEWER = "viewer"  # reads, never changes; household meters pseudonymised
    DISPLAY = "display"  # hub screens and feeds only


class ApiKey(Base):
    """One key: who it is for, its role and tenant; revoked keys stay for the audit trail."""

    __tablename__ = "api_key"
    __table_args__ = (
        CheckConstraint("role IN (" + ", ".join(f"'{r.value}'" for r in Role) + ")", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    role: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenant.id", ondelete="RESTRICT"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, to recognise it in a list without storing it.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    tenant: Mapped[Tenant] = relationship()


@dataclass(frozen=True)
class KeyInfo:
    """A key as callers and listings see it (never the key itself)."""

    id: int
    name: str
    role: Role
    tenant: str
    scope: frozenset[str]  # the tenant and, for an agglomeration, its member communes
    hint: str
    created_at: datetime
    revoked_at: datetime | None


class UnknownTenant(LookupError):
    """No tenant has this code."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _info(session: Session, key: ApiKey) -> KeyInfo:
    tenant = key.tenant
    members = session.scalars(select(Tenant.code).where(Tenant.parent_id == tenant.id)).all()
    return KeyInfo(
        id=key.id,
        name=key.name,
        role=Role(key.role),
        tenant=tenant.code,
        scope=frozenset([tenant.code, *members]),
        hint=key.hint,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def create_key(
    session: Session, name: str, role: Role, tenant: str, now: datetime
) -> tuple[KeyInfo, str]:
    """A new key and its secret, which is shown once and never stored."""
    found = session.scalar(select(Tenant).where(Tenant.code == tenant))
    if found is None:
        raise UnknownTenant(tenant)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=name,
        role=role.value,
        tenant=found,
        sha256=digest(secret),
        hint=secret[: len(KEY_PREFIX) + 4],
        created_at=now,
    )
    session.add(key)
    session.flush()
    return _info(session, key), secret


def list_keys(session: Session) -> list[KeyInfo]:
    return [_info(session, k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def revoke_key(session: Session, key_id: int, now: datetime) -> KeyInfo | None:
    """Revoke a key (again: no change); None when there is no such key."""
    key = session.get(ApiKey, key_id)
    if key is None:
        return None
    if key.revoked_at is None:
        key.revoked_at = now
        session.flush()
    return _info(session, key)


def find_key(session: Session, secret: str) -> KeyInfo | None:
    """The live key with this secret, or None (unknown or revoked)."""
    key = session.scalar(
        select(ApiKey).where(ApiKey.sha256 == digest(secret), ApiKey.revoked_at.is_(None))
    )
    return None if key is None else _info(session, key)
