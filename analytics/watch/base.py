"""What every watch gives the runner: findings, clearances, and the state to keep for next time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from analytics.findings import Clearance, Finding


@dataclass(frozen=True, slots=True)
class WatchResult:
    findings: list[Finding] = field(default_factory=list)
    clearances: list[Clearance] = field(default_factory=list)
    document: dict[str, Any] = field(default_factory=dict)  # state carried to the next run
    counts: dict[str, int] = field(default_factory=dict)  # what was scanned, for logs/metrics
    failed: dict[str, str] = field(default_factory=dict)  # parts skipped this pass, and why


class Watch(Protocol):
    """One family of detectors. ``run`` sees the data up to ``now``; ``since`` is where the
    previous run stopped (None on the first run) and ``document`` what it left behind. With
    ``tenant`` it watches that tenant's subjects only (runners that share the tenants run it
    once per tenant they hold, with the same ``now``), else every subject."""

    @property
    def name(self) -> str: ...

    def run(
        self,
        now: datetime,
        since: datetime | None,
        document: dict[str, Any],
        tenant: str | None = None,
    ) -> WatchResult: ...
