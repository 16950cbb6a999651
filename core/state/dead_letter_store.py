"""Recording, listing and settling dead letters in the state store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from core.state.dead_letters import DeadLetter, LetterStatus
from core.state.store import StateStore


@dataclass(frozen=True, slots=True)
class Letter:
    """A dead letter to record."""

    key: str
    reason: str
    detail: str
    topic: str
    payload: bytes
    device: str | None
    event_time: datetime | None
    received_at: datetime


class DeadLetterStore:
    """Dead letters in the state store; writes are durable when ``add`` returns."""

    def __init__(self, state: StateStore) -> None:
        self._state = state

    def add(self, letters: Sequence[Letter]) -> None:
        if not letters:
            return
        rows = [
            {
                "key": x.key[:300],
                "reason": x.reason,
                "detail": x.detail,
                "topic": x.topic[:300],
                "payload": x.payload,
                "device": x.device,
                "event_time": x.event_time,
                "received_at": x.received_at,
                "status": LetterStatus.OPEN.value,
                "attempts": 1,
                "updated_at": x.received_at,
            }
            for x in letters
        ]
        dialect = self._state.engine.dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(DeadLetter)
        stmt = stmt.on_conflict_do_update(
            index_elements=[DeadLetter.key],
            set_={
                "reason": stmt.excluded.reason,
                "detail": stmt.excluded.detail,
                "attempts": DeadLetter.attempts + 1,
                "updated_at": stmt.excluded.updated_at,
                "status": LetterStatus.OPEN.value,
            },
        )
        with self._state.session() as session:
            session.execute(stmt, rows)

    def list(
        self,
        *,
        reason: str | None = None,
        status: LetterStatus | None = LetterStatus.OPEN,
        device: str | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        query = select(DeadLetter).order_by(DeadLetter.id).limit(limit)
        if reason is not None:
            query = query.where(DeadLetter.reason == reason)
        if status is not None:
            query = query.where(DeadLetter.status == status.value)
        if device is not None:
            query = query.where(DeadLetter.device == device)
        with self._state.session() as session:
            letters = list(session.scalars(query))
            session.expunge_all()
        return letters

    def counts(self) -> dict[tuple[str, str], int]:
        """Number of letters by (reason, status)."""
        query = select(DeadLetter.reason, DeadLetter.status, func.count()).group_by(
            DeadLetter.reason, DeadLetter.status
        )
        with self._state.session() as session:
            return {(r, s): n for r, s, n in session.execute(query)}

    def mark(self, ids: Sequence[int], status: LetterStatus, when: datetime) -> None:
        if not ids:
            return
        with self._state.session() as session:
            session.execute(
                update(DeadLetter)
                .where(DeadLetter.id.in_(ids))
                .values(status=status.value, updated_at=when)
            )
