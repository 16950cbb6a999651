"""Housekeeping of `vigie run`: once a local day, refresh the rollups and purge past retention."""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from analytics.pass_health import PassHealth
from core.clock import Clock
from core.health import PartState, PartStatus
from core.retention import PurgeCounts, Retention, counted
from core.timeseries import RollupStore

log = logging.getLogger(__name__)

DAY_S = 86_400.0
# A failed run (store unreachable) is tried again after this long, until it works that day.
RETRY = timedelta(minutes=15)
# Longest wait between two looks at the clock: a clock set forward is noticed within it.
POLL_S = 60.0


def next_run(after: datetime, at: time, zone: str) -> datetime:
    """The first local ``at`` of ``zone`` strictly after ``after`` (UTC). A local time that a
    DST change skips runs as late as the change makes it (02:30 → 03:30); one that happens twice
    runs the first time: one run per local day, 23 h or 25 h apart around the changes."""
    tz = ZoneInfo(zone)
    day = after.astimezone(tz).date()
    for offset in range(3):
        when = _instant(day + timedelta(days=offset), at, tz)
        if when > after:
            return when
    raise AssertionError("a local day has a time after any instant of the day before")


def _instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    local = datetime.combine(day, at, tzinfo=tz)  # fold=0: the first of two, or shifted
    return local.astimezone(UTC)


def describe(counts: PurgeCounts) -> str:
    """``quantity granularity=rows`` for what a purge deleted, or that nothing went."""
    parts = [f"{q} {counted(by)}" for q, by in sorted(counts.items()) if any(by.values())]
    return "; ".join(parts) or "nothing past its retention"


@dataclass(frozen=True, slots=True)
class RunReport:
    """One housekeeping run: when, hours of rollups recomputed, rows purged."""

    at: datetime
    refreshed_hours: int
    purged: PurgeCounts


class Housekeeping:
    """A part of `vigie run`: at ``at`` every local day of ``zone``, it refreshes the rollups,
    then purges what is past ``retention``. Time comes from ``clock``; ``tick`` does the work
    due at a given instant, so tests move a manual clock rather than wait."""

    name = "housekeeping"

    def __init__(
        self,
        store: RollupStore,
        retention: Retention,
        clock: Clock,
        *,
        at: time = time(3, 30),
        zone: str = "Europe/Paris",
        wall_clock: Clock | None = None,
    ) -> None:
        self._store = store
        self._retention = retention
        self._clock = clock
        self._at = at
        self._zone = zone
        self._wall = wall_clock or clock
        self._next = next_run(clock.now(), at, zone)
        # Late after two missed days; three failures in a row (45 min of retries) is stuck.
        self.health = PassHealth(self.name, self._wall.now(), DAY_S * 2 / 3)
        self.last: RunReport | None = None

    @property
    def due_at(self) -> datetime:
        return self._next

    def tick(self) -> RunReport | None:
        """Run if the day's run is due; a failure is logged, in the health, and retried."""
        now = self._clock.now()
        if now < self._next:
            return None
        self.health.started(self._wall.now())
        try:
            report = self.run_once(now)
        except Exception as exc:  # the part outlives one bad run; the store may come back
            log.exception("housekeeping failed; tried again in %s", RETRY)
            self.health.finished(self._wall.now(), f"{type(exc).__name__}: {exc}")
            self._next = min(now + RETRY, next_run(now, self._at, self._zone))
            return None
        self.health.finished(self._wall.now(), None)
        self._next = next_run(now, self._at, self._zone)
        return report

    def run_once(self, now: datetime) -> RunReport:
        """Refresh the rollups, then purge what ``retention`` no longer keeps at ``now``."""
        hours = self._store.refresh_rollups()
        purged = self._store.purge(self._retention, now) if self._retention else {}
        self.last = RunReport(now, hours, purged)
        log.info(
            "housekeeping: %d hour(s) of rollups recomputed; purged: %s", hours, describe(purged)
        )
        return self.last

    def run(self, stop: threading.Event) -> None:
        """Tick until ``stop`` is set, looking at the clock at least every ``POLL_S`` s."""
        try:
            while not stop.is_set():
                self.tick()
                wait = (self._next - self._clock.now()).total_seconds()
                stop.wait(min(max(wait, 1.0), POLL_S))
        finally:
            self.health.ended()

    def status(self, now: datetime) -> PartStatus:
        status = self.health.status(now)
        facts = {**status.facts, "next_run_in_s": (self._next - self._clock.now()).total_seconds()}
        status = dataclasses.replace(status, facts=facts)
        if status.state is PartState.STARTING and facts["pass_running_s"] is None:
            # Waiting for the first run is its normal state, not a start-up.
            local = self._next.astimezone(ZoneInfo(self._zone))
            detail = f"first run at {local:%Y-%m-%d %H:%M %Z}"
            return dataclasses.replace(status, state=PartState.RUNNING, detail=detail)
        return status
