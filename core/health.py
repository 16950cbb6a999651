"""How each long-running part of a process is doing, for ``/health`` and ``/metrics``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol

Fact = float | int | str | bool | None


class PartState(StrEnum):
    """Where a part is in its life. Only ``running`` and ``retrying`` (briefly) are healthy."""

    STARTING = "starting"  # not yet working (connecting, first pass pending)
    RUNNING = "running"
    RETRYING = "retrying"  # a transient failure; the same work is tried again after a pause
    DOWN = "down"  # cut off from what it needs for longer than its grace period
    STUCK = "stuck"  # has work and has made none of it durable for too long
    FAILED = "failed"  # stopped for good: the process exits
    STOPPED = "stopped"  # stopped on request


@dataclass(frozen=True, slots=True)
class PartStatus:
    """One part's state: ``ok`` decides the process's health; ``facts`` are its numbers
    (ages in seconds, depths, flags), also exported as metrics."""

    name: str
    state: PartState
    ok: bool
    detail: str = ""
    facts: Mapping[str, Fact] = field(default_factory=dict)


class Part(Protocol):
    """A long-running part of a process (the ingest worker, the analytics runner)."""

    @property
    def name(self) -> str: ...

    def status(self, now: datetime) -> PartStatus:
        """Its state now; cheap and thread-safe (called by every health check and scrape)."""
        ...


class Fatal(Exception):
    """A failure that retrying will not fix (bad credentials, a missing database): the process
    must stop, say why in one line, and exit non-zero so that a service manager restarts it."""


def age_s(now: datetime, then: datetime | None) -> float | None:
    """Seconds since ``then`` (None when it never happened)."""
    return None if then is None else max(0.0, (now - then).total_seconds())
