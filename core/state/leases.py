"""Tenant leases: several analytics runners share the tenants, each judging only those it holds.

Each runner beats in ``analytics_runner`` (its name and until when it counts as alive); each
tenant of the registry has one row in ``tenant_lease`` (who holds it, until when). On every pass
a runner, in one transaction, renews its heartbeat, gives back what it holds beyond its fair
share, claims free or expired leases up to that share and renews the rest. The share is the
tenants divided by the live runners, the remainder going to the first runners by name, so every
runner computes the same split. A runner that stops cleanly releases its leases at once; one
that dies keeps them until they expire, then the others take them.

Claims are serialised: on PostgreSQL by locking ``tenant_lease`` (SHARE ROW EXCLUSIVE: plain
reads go on, a second claim waits the few milliseconds the first takes), on SQLite by the write
lock every unit of work holds from its BEGIN (core/state/store.py). Row-level SKIP LOCKED, as
the alert dispatcher uses, does not fit: a fair share needs every runner's view of all leases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, String, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.state.base import Base
from core.state.models import CODE_LENGTH, Tenant
from core.state.store import StateStore

RUNNER_LENGTH = 100


class RunnerBeat(Base):
    """One analytics runner, alive while ``expires_at`` is ahead."""

    __tablename__ = "analytics_runner"

    name: Mapped[str] = mapped_column(String(RUNNER_LENGTH), primary_key=True)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class TenantLease(Base):
    """Which runner judges a tenant, until when; free when ``holder`` is None or it expired."""

    __tablename__ = "tenant_lease"

    # The tenant's code, as alerts and subjects carry it; no foreign key: a tenant removed
    # from the registry loses its lease at the next claim.
    tenant: Mapped[str] = mapped_column(String(CODE_LENGTH), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(RUNNER_LENGTH))
    expires_at: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]


_LOCK = text(f"LOCK TABLE {TenantLease.__tablename__} IN SHARE ROW EXCLUSIVE MODE")


@dataclass(frozen=True, slots=True)
class Claim:
    """What one claim left this runner with, and the picture it was computed from."""

    tenants: tuple[str, ...]  # held now, sorted
    runners: int  # live runners, this one included
    share: int  # this runner's fair share
    taken: tuple[str, ...] = ()  # newly claimed on this pass
    released: tuple[str, ...] = ()  # given back as beyond the share


class TenantLeases:
    """The lease table as seen by the runner ``name``; leases last ``ttl`` from each renewal."""

    def __init__(self, state: StateStore, name: str, ttl: timedelta) -> None:
        if not 0 < len(name) <= RUNNER_LENGTH:
            raise ValueError(f"a runner name has 1 to {RUNNER_LENGTH} characters: {name!r}")
        if ttl <= timedelta(0):
            raise ValueError("a lease needs a positive time to live")
        self._state = state
        self.name = name
        self.ttl = ttl

    def claim(self, now: datetime) -> Claim:
        """Beat, then hold this runner's fair share of the registry's tenants (see module doc)."""
        until = now + self.ttl
        with self._state.session() as s:
            if not self._state.is_sqlite:
                s.execute(_LOCK)
            self._beat(s, now, until)
            s.execute(delete(RunnerBeat).where(RunnerBeat.expires_at <= now))
            runners = sorted(s.scalars(select(RunnerBeat.name)))
            tenants = sorted(s.scalars(select(Tenant.code)))
            leases = {lease.tenant: lease for lease in s.scalars(select(TenantLease))}
            for gone in sorted(leases.keys() - set(tenants)):
                s.delete(leases.pop(gone))
            share = _share(len(tenants), runners, self.name)
            mine = sorted(t for t, lease in leases.items() if lease.holder == self.name)
            released = mine[share:]
            for tenant in released:
                leases[tenant].holder = leases[tenant].expires_at = None
            kept = mine[:share]
            free = [
                t for t in tenants if t not in leases or (_free(leases[t], now) and t not in mine)
            ]
            taken = free[: max(0, share - len(kept))]
            for tenant in taken:
                lease = leases.get(tenant)
                if lease is None:
                    lease = leases[tenant] = TenantLease(tenant=tenant)
                    s.add(lease)
                lease.holder, lease.claimed_at = self.name, now
            for tenant in (*kept, *taken):
                leases[tenant].expires_at = until
            held = tuple(sorted((*kept, *taken)))
            return Claim(held, len(runners), share, tuple(taken), tuple(released))

    def hold(self, tenant: str, now: datetime) -> bool:
        """Renew one lease if this runner still holds it: called before judging the tenant, so a
        runner that overran its lease and lost the tenant to another leaves it alone. A lease
        that expired without anyone claiming it is still this runner's (claims are serialised
        with this update: a claim in progress makes it wait, then it sees the new holder)."""
        with self._state.session() as s:
            result = s.execute(
                update(TenantLease)
                .where(TenantLease.tenant == tenant, TenantLease.holder == self.name)
                .values(expires_at=now + self.ttl)
            )
            assert isinstance(result, CursorResult)
            return result.rowcount > 0

    def release(self) -> None:
        """Give back every lease and leave the live runners: a clean stop hands the tenants
        over at the others' next pass instead of after the time to live."""
        with self._state.session() as s:
            s.execute(
                update(TenantLease)
                .where(TenantLease.holder == self.name)
                .values(holder=None, expires_at=None)
            )
            s.execute(delete(RunnerBeat).where(RunnerBeat.name == self.name))

    def _beat(self, s: Session, now: datetime, until: datetime) -> None:
        insert = postgresql.insert if not self._state.is_sqlite else sqlite.insert
        statement = insert(RunnerBeat).values(
            name=self.name, started_at=now, seen_at=now, expires_at=until
        )
        s.execute(
            statement.on_conflict_do_update(
                index_elements=[RunnerBeat.name],
                set_={"seen_at": now, "expires_at": until},
            )
        )


def _free(lease: TenantLease, now: datetime) -> bool:
    return lease.holder is None or lease.expires_at is None or lease.expires_at <= now


def _share(tenants: int, runners: list[str], name: str) -> int:
    """This runner's part of ``tenants``: an equal split, the remainder to the first by name."""
    if name not in runners:
        return 0
    base, extra = divmod(tenants, len(runners))
    return base + (1 if runners.index(name) < extra else 0)
