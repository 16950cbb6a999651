"""The housekeeping part of `vigie run`: once a local day at `purge_at`, DST days included, it
refreshes the rollups and purges what is past its retention; time is a manual clock."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import cast
from zoneinfo import ZoneInfo

import pytest

from api.services import Services
from core.clock import ManualClock
from core.config import Settings, StoreSettings
from core.health import PartState
from core.reading import Reading
from core.retention import Granularity
from core.series import NS
from core.stores.sqlite import SqliteStore
from core.timeseries import Selection, StoreUnavailable
from vigie.housekeeping import RETRY, Housekeeping, RunReport, describe, next_run
from vigie.wiring import build_housekeeping

PARIS = ZoneInfo("Europe/Paris")
METER = "70b3d50000000042"
STEP = timedelta(minutes=10)
HOUR = timedelta(hours=1)
KEEP_RAW_DAYS = 3


@pytest.mark.parametrize(
    ("after", "at", "want_local"),
    [
        # An ordinary day, before and after the time.
        (datetime(2026, 5, 4, 1, 0, tzinfo=UTC), time(3, 30), "2026-05-04 03:30 CEST"),
        (datetime(2026, 5, 4, 1, 30, tzinfo=UTC), time(3, 30), "2026-05-05 03:30 CEST"),
        # 02:30 does not exist on 29 March 2026: it runs when the clocks have jumped.
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), time(2, 30), "2026-03-29 03:30 CEST"),
        # 02:30 happens twice on 25 October 2026: the first one.
        (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), time(2, 30), "2026-10-25 02:30 CEST"),
        # Once it ran, the second 02:30 of that night is not another run.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), time(2, 30), "2026-10-26 02:30 CET"),
    ],
)
def test_the_next_run_is_the_next_local_time(after: datetime, at: time, want_local: str) -> None:
    when = next_run(after, at, "Europe/Paris")
    assert when.tzinfo is UTC and when > after
    assert f"{when.astimezone(PARIS):%Y-%m-%d %H:%M %Z}" == want_local


def hour_of(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def hourly(start: datetime, end: datetime) -> list[Reading]:
    out, t, k = [], start, 0
    while t < end:
        out.append(Reading(t, METER, "volume_m3", 100 + k / 10))
        t, k = t + HOUR, k + 1
    return out


@pytest.mark.parametrize(
    ("first_day", "dst_hours"),
    [("2026-03-26", 23), ("2026-10-22", 25)],
    ids=["spring", "autumn"],
)
def test_it_purges_once_a_local_day_across_a_dst_change(
    tmp_path: Path, first_day: str, dst_hours: int
) -> None:
    """Ingest writes a reading an hour while the clock moves in 10-minute steps over a week;
    the purge at 02:30 (skipped in spring, doubled in autumn) runs once each local day."""
    start = datetime.fromisoformat(f"{first_day}T12:05:00+00:00")
    settings = StoreSettings.model_validate(
        {
            "retention": {
                "purposes": {
                    "leak_detection": {
                        "quantities": ["volume_m3", "flow_m3h", "leak"],
                        "raw_days": KEEP_RAW_DAYS,
                        "hourly_days": 5,
                    }
                }
            }
        }
    )
    store = SqliteStore(tmp_path / "series.sqlite")
    history = hourly(start - timedelta(days=10), start)
    store.write(history)
    clock = ManualClock(start)
    part = Housekeeping(
        store, settings.retention_plan(), clock, at=time(2, 30), zone="Europe/Paris"
    )
    assert part.status(clock.now()).state is PartState.RUNNING  # waiting is its normal state
    written, runs = list(history), list[RunReport]()
    while clock.now() < start + timedelta(days=7):
        clock.advance(STEP)
        if clock.now().minute == 5:  # a meter's hourly frame
            written.append(Reading(clock.now(), METER, "volume_m3", 100 + len(written) / 10))
            store.write(written[-1:])
        if (report := part.tick()) is not None:
            runs.append(report)
            raw = store.read(Selection.of("volume_m3"), start - timedelta(days=30), clock.now())
            cutoff = clock.now() - timedelta(days=KEEP_RAW_DAYS)
            oldest = datetime.fromtimestamp(int(raw.times.min()) / NS, UTC)
            assert cutoff - HOUR < oldest <= cutoff  # older gone, newer kept, hour by hour
            assert len(raw.times) == sum(r.time >= oldest for r in written)

    days = Counter(r.at.astimezone(PARIS).date() for r in runs)
    assert len(days) == 7 and set(days.values()) == {1}  # once per local day, every day
    gaps = {(b.at - a.at) / HOUR for a, b in itertools.pairwise(runs)}
    assert dst_hours in gaps and gaps <= {24, dst_hours, 48 - dst_hours}
    # Each run removed the raw hours that aged past the retention since the run before.
    for a, b in itertools.pairwise(runs):
        lo, hi = (hour_of(run.at - timedelta(days=KEEP_RAW_DAYS)) for run in (a, b))
        assert b.purged["volume_m3"][Granularity.RAW] == sum(lo <= r.time < hi for r in written)
    assert runs[0].purged["volume_m3"][Granularity.HOURLY] > 0  # and the hourly rollups too
    store.close()


def test_a_failed_run_is_retried_until_it_works_then_waits_for_the_next_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2026, 5, 4, 1, 0, tzinfo=UTC)
    store = SqliteStore(tmp_path / "series.sqlite")
    store.write(hourly(start - timedelta(days=5), start))
    clock = ManualClock(start)
    plan = Settings(store={"rollups": {"default_raw_retention_days": 2}}).store.retention_plan()
    part = Housekeeping(store, plan, clock, at=time(3, 30), zone="Europe/Paris")
    failures = iter([StoreUnavailable("database is locked")])
    real = store.purge

    def flaky(*args: object) -> object:
        for error in failures:
            raise error
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "purge", flaky)
    clock.set(part.due_at)
    assert part.tick() is None
    status = part.status(clock.now())
    assert status.state is PartState.RETRYING and "database is locked" in status.detail
    assert part.due_at == clock.now() + RETRY
    clock.advance(RETRY)
    report = part.tick()
    assert report is not None and report.purged["volume_m3"][Granularity.RAW] > 0
    assert part.status(clock.now()).state is PartState.RUNNING
    assert part.due_at.astimezone(PARIS).date() == clock.now().astimezone(PARIS).date() + (
        timedelta(days=1)
    )
    clock.advance(timedelta(hours=12))
    assert part.tick() is None
    assert "volume_m3 raw=" in describe(report.purged)
    store.close()


def test_it_stops_when_asked(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "series.sqlite")
    clock = ManualClock(datetime(2026, 5, 4, 1, 0, tzinfo=UTC))
    part = Housekeeping(store, {}, clock)
    stop = threading.Event()
    stop.set()
    part.run(stop)
    assert part.status(clock.now()).state is PartState.STOPPED
    store.close()


@pytest.mark.parametrize(
    ("store", "starts"),
    [
        ({}, True),
        ({"retention": {"housekeeping": False}}, False),
        ({"rollups": {"enabled": False}}, False),
    ],
)
def test_vigie_run_starts_it_unless_disabled(
    tmp_path: Path, store: dict[str, object], starts: bool
) -> None:
    settings = Settings(store={"sqlite_path": tmp_path / "series.sqlite", **store}, zone="UTC")
    series = SqliteStore(tmp_path / "series.sqlite")
    clock = ManualClock(datetime(2026, 5, 4, 1, 0, tzinfo=UTC))
    services = SimpleNamespace(store=series, clock=clock, wall=clock)
    part = build_housekeeping(settings, cast(Services, services))
    assert (part is not None) is starts
    if part is not None:
        assert part.due_at == datetime(2026, 5, 4, 3, 30, tzinfo=UTC)  # purge_at in `zone`
    series.close()
