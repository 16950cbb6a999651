"""Which failures an ingest worker retries, and which stop it.

Nothing of a batch is acknowledged until it is durable, so retrying is always safe; the question
is only whether waiting can help. A store that is down, a full spool, a state store that does not
answer: wait, with exponential backoff and jitter, and show it in ``/health``. A store that
refuses our credentials or has no such database, a state schema that was never migrated, a spool
file that is not a database: waiting cannot help, so the process stops with one clear line and a
non-zero exit. Anything else is a bug: it is retried a few times (it may have met a passing
condition), then treated as permanent rather than looping unseen.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import exc as sa

from core.health import Fatal
from core.timeseries import StoreError, StoreUnavailable
from ingest.spool import SpoolFull, SpoolLocked


class Kind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNEXPECTED = "unexpected"


_TRANSIENT: tuple[type[BaseException], ...] = (
    SpoolFull,
    StoreUnavailable,
    sa.OperationalError,  # connection lost or refused, "database is locked"
    sa.InterfaceError,
    sa.DisconnectionError,
    sa.TimeoutError,  # the connection pool is exhausted
    sqlite3.OperationalError,  # the spool: locked, disk full, I/O error
    OSError,
)
_PERMANENT: tuple[type[BaseException], ...] = (
    Fatal,
    StoreError,  # 401, 403, database not found
    SpoolLocked,
    sa.ProgrammingError,  # e.g. a table that does not exist: migrations not applied
    sqlite3.DatabaseError,  # after OperationalError, its subclass: a file that is not a database
)


def kind_of(exc: BaseException) -> Kind:
    if isinstance(exc, _TRANSIENT):
        return Kind.TRANSIENT
    if isinstance(exc, _PERMANENT):
        return Kind.PERMANENT
    return Kind.UNEXPECTED


def describe(exc: BaseException) -> str:
    """One line: the exception's type and message, first line only (SQL echoes are long)."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


@dataclass
class RetryPolicy:
    """Exponential backoff with jitter, from ``first_s`` up to ``max_s``; an unexpected error
    may repeat ``max_unexpected`` times in a row before it counts as permanent."""

    first_s: float = 5.0
    max_s: float = 60.0
    max_unexpected: int = 5
    jitter: float = 0.2

    def delay(self, attempt: int) -> float:
        """Pause before retry ``attempt`` (1 for the first retry)."""
        base = min(self.max_s, self.first_s * 2.0 ** max(0, attempt - 1))
        return base * random.uniform(1 - self.jitter, 1 + self.jitter)

    def gives_up(self, kind: Kind, attempt: int) -> bool:
        """Whether failure number ``attempt`` in a row, of this kind, stops the worker."""
        return kind is Kind.PERMANENT or (kind is Kind.UNEXPECTED and attempt > self.max_unexpected)
