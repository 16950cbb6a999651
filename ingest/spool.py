"""The outage spool: reading batches kept on disk while the store is unreachable, replayed in order.

A batch is durable in the spool (SQLite, WAL, synchronous=FULL) before its MQTT messages are
acknowledged, so a store outage loses nothing and a crash during one loses nothing either. The
spool is bounded: when full, ``put`` raises ``SpoolFull`` and the consumer stops acknowledging,
which makes the broker hold the messages (back-pressure instead of loss).

A spool belongs to one process: its depth is counted in memory, from the file when it opens, so
a second opener would count wrong and could replay another worker's batches out of order. The
first opener holds an exclusive lock on ``<file>.lock`` until it closes (or dies: the kernel
releases it); a second one gets ``SpoolLocked`` at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from core.reading import Reading
from core.series import from_ns, to_ns
from core.timeseries import Tags

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: ids never reused, order is arrival
    n INTEGER NOT NULL,
    body BLOB NOT NULL
)
"""


class SpoolFull(Exception):
    """The spool holds its maximum number of readings."""


class SpoolLocked(Exception):
    """Another process (or another spool in this one) has the spool file open."""


@dataclass(frozen=True, slots=True)
class SpooledBatch:
    id: int
    readings: list[Reading]
    tags: dict[str, dict[str, str]]


class Spool:
    """A durable FIFO of (readings, tags) batches in one SQLite file."""

    def __init__(self, path: str | Path, max_readings: int) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock(Path(f"{path}.lock"))
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)
        self._max = max_readings
        row = self._db.execute("SELECT count(*), coalesce(sum(n), 0) FROM batches").fetchone()
        self._batches, self._depth = int(row[0]), int(row[1])

    @property
    def depth(self) -> int:
        """Readings waiting."""
        return self._depth

    @property
    def batches(self) -> int:
        return self._batches

    def put(self, readings: Sequence[Reading], tags: Mapping[str, Tags]) -> None:
        if self._depth + len(readings) > self._max:
            raise SpoolFull(f"spool holds {self._depth} readings, bound {self._max}")
        body = encode_batch(readings, tags)
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("INSERT INTO batches (n, body) VALUES (?, ?)", (len(readings), body))
        self._batches += 1
        self._depth += len(readings)

    def head(self) -> SpooledBatch | None:
        row = self._db.execute("SELECT id, body FROM batches ORDER BY id LIMIT 1").fetchone()
        if row is None:
            return None
        readings, tags = decode_batch(row[1])
        return SpooledBatch(int(row[0]), readings, tags)

    def pop(self, batch: SpooledBatch) -> None:
        """Forget a batch once the store has it."""
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM batches WHERE id = ?", (batch.id,))
        self._batches -= 1
        self._depth -= len(batch.readings)

    def close(self) -> None:
        self._db.close()
        self._lock.close()  # releases the lock


def encode_batch(readings: Sequence[Reading], tags: Mapping[str, Tags]) -> bytes:
    """Readings and their devices' tags as compact bytes (zlib-compressed JSON)."""
    devices = {r.device for r in readings}
    doc = {
        "r": [[to_ns(r.time), r.device, r.quantity, r.value, r.channel] for r in readings],
        "t": {d: dict(tags[d]) for d in devices if d in tags},
    }
    return zlib.compress(json.dumps(doc, separators=(",", ":")).encode(), 1)


def decode_batch(body: bytes) -> tuple[list[Reading], dict[str, dict[str, str]]]:
    """The inverse of ``encode_batch``."""
    doc = json.loads(zlib.decompress(body))
    return [Reading(from_ns(t), d, q, v, c) for t, d, q, v, c in doc["r"]], doc["t"]


def _lock(path: Path) -> IO[str]:
    """Hold an exclusive lock on ``path`` (a file of its own: closing any other descriptor of the
    SQLite file would drop SQLite's own POSIX locks)."""
    handle = path.open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "another process"
        handle.close()
        raise SpoolLocked(
            f"spool {path.with_suffix('')} is in use by {holder}: give each ingest worker its own "
            "[ingest] spool_path"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle
