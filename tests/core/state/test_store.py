"""The state store on SQLite: units of work take the write lock first, so writers queue."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from core.state.checkpoints import Checkpoint, Checkpoints
from core.state.store import StateStore

T0 = datetime(2026, 1, 5, tzinfo=UTC)
ROUNDS = 100


@pytest.fixture
def path(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "state.sqlite"
    store = StateStore(f"sqlite:///{path}")
    store.migrate()
    Checkpoints(store).save("counter", None, {"n": 0}, T0)
    store.dispose()
    yield path


def test_two_stores_writing_one_file_at_once_both_succeed(path: Path) -> None:
    # Each unit of work reads the counter, then writes it back. With deferred transactions both
    # read from a snapshot, and the second to write fails with "database is locked" (a stale
    # snapshot cannot wait for the lock); with the lock taken first, the second one waits.
    stores = [StateStore(f"sqlite:///{path}") for _ in range(2)]
    start = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def count(store: StateStore) -> None:
        try:
            start.wait()
            for _ in range(ROUNDS):
                with store.session() as s:
                    row = s.get(Checkpoint, "counter")
                    assert row is not None
                    row.document = {"n": row.document["n"] + 1}
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=count, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    checkpoint = Checkpoints(stores[0]).load("counter")
    assert checkpoint is not None and checkpoint.document == {"n": len(stores) * ROUNDS}
    for s in stores:
        s.dispose()


def test_a_unit_of_work_holds_the_write_lock_from_its_first_read(path: Path) -> None:
    store = StateStore(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0)  # fails at once instead of waiting
    try:
        with store.session() as s:
            s.execute(sa.select(Checkpoint.name)).all()
            with pytest.raises(sqlite3.OperationalError, match="database is locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")  # released at the end of the unit of work
        other.rollback()
    finally:
        other.close()
        store.dispose()
