"""Units of work that change alerts: on SQLite they take the write lock before reading."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.state.store import StateStore

# SQLite's deferred BEGIN reads from a snapshot; if another writer commits meanwhile, the later
# upgrade to writing fails at once with "database is locked" (busy_timeout does not apply to a
# stale snapshot). A first write that changes nothing takes the lock before any read, and waits
# for it like any writer. PostgreSQL needs nothing: rows are locked with SELECT ... FOR UPDATE.
_TAKE_WRITE_LOCK = text("UPDATE alert SET id = id WHERE 0 = 1")


@contextmanager
def writing(state: StateStore) -> Iterator[Session]:
    with state.session() as session:
        if state.is_sqlite:
            session.execute(_TAKE_WRITE_LOCK)
        yield session
