"""Runners that share the tenants: two runners on one PostgreSQL state store judge every tenant
exactly once a round, a stopped runner's tenants move after the lease runs out, a runner that
comes back gets its share again; on SQLite a single runner holds them all."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from analytics.alerts.engine import AlertEngine
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, alert_events, list_alerts
from analytics.detectors.registry import DETECTORS
from analytics.runner import AnalyticsRunner, TickReport
from analytics.watch.base import Watch, WatchResult
from analytics.watch.detectors import DetectorWatch
from core.clock import ManualClock
from core.config import AlertsSettings, AnalyticsSettings, QuietHoursSettings
from core.reading import Reading
from core.state.checkpoints import Checkpoints
from core.state.leases import TenantLeases
from core.state.models import Device, Tenant
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from simulator.territory_file import load_territory, write_registry
from tests.state_fixtures import StoreFactory

T0 = datetime(2026, 2, 2, 0, 0, tzinfo=UTC)
STEP = timedelta(minutes=15)
ROUND = timedelta(hours=1)  # the runners' pass interval
TTL = timedelta(hours=3)  # a runner silent three passes loses its tenants
TENANTS = ("ambre", "bruyere", "cerisier", "digitale", "eglantier")
STATIONS = 2  # per tenant
YELLOW_M = 1.6
LEVELS = {"river_levels": DETECTORS["river_levels"]}


def _eui(t: int, s: int) -> str:
    return f"a8404137{t:04x}{s:04x}"


def _station(t: int, s: int) -> str:
    return f"{TENANTS[t]}-station-{s}"


def _register(state: StateStore) -> None:
    """Five communes with two river stations each, thresholds as the territory's."""
    with state.session() as s:
        for t, code in enumerate(TENANTS):
            tenant = Tenant(code=code, name=code.title(), kind="commune")
            s.add(tenant)
            for k in range(STATIONS):
                s.add(
                    Device(
                        dev_eui=_eui(t, k),
                        tenant=tenant,
                        codec_id="dragino/ldds75",
                        role="level",
                        parameters={
                            "reference_height_m": 3.2,
                            "vigilance_m": {"yellow": YELLOW_M, "orange": 2.1, "red": 2.6},
                            "station": _station(t, k),
                        },
                    )
                )


def _flood(store: SqliteStore, start: datetime, end: datetime) -> None:
    """Every station above yellow over [start, end), with a river's few millimetres of ripple."""
    steps = int((end - start) / STEP)
    store.write(
        [
            Reading(start + i * STEP, _eui(t, k), "water_level_m", 1.75 + 0.003 * math.sin(i + k))
            for t in range(len(TENANTS))
            for k in range(STATIONS)
            for i in range(steps)
        ]
    )


@pytest.fixture
def backend() -> str:
    return "postgresql"  # the shared store of several runners


@pytest.fixture
def series(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "ts.sqlite")
    yield store
    store.close()


class Runners:
    """Runners on their own engines to one database, as separate processes would be."""

    def __init__(self, state: StateStore, store: SqliteStore, clock: ManualClock) -> None:
        self.state, self.store, self.clock = state, store, clock
        self.url = state.url.render_as_string(hide_password=False)
        self.opened: list[StateStore] = []

    def runner(
        self, name: str | None, wrap: Callable[[Watch], Watch] = lambda w: w
    ) -> AnalyticsRunner:
        state = StateStore(self.url)
        self.opened.append(state)
        # No escalation: each round's alert changes are then the judgements alone.
        settings = AlertsSettings(quiet_hours=QuietHoursSettings(enabled=False), escalate_after_h=0)
        return AnalyticsRunner(
            [wrap(DetectorWatch(self.store, state, detectors=LEVELS))],
            AlertEngine(state, self.clock, settings),
            None,
            Checkpoints(state),
            self.clock,
            every_s=ROUND.total_seconds(),
            leases=None if name is None else TenantLeases(state, name, TTL),
        )

    def round(self, *ticking: AnalyticsRunner) -> list[TickReport]:
        """An hour of flood, then each runner's pass in turn."""
        now = self.clock.now()
        _flood(self.store, now, now + ROUND)
        self.clock.advance(ROUND)
        return [r.tick() for r in ticking]

    def close(self) -> None:
        for state in self.opened:
            state.dispose()


@pytest.fixture
def runners(make_state_store: StoreFactory, series: SqliteStore) -> Iterator[Runners]:
    state = make_state_store()
    _register(state)
    made = Runners(state, series, ManualClock(T0))
    yield made
    made.close()


def _held(reports: list[TickReport]) -> Counter[str]:
    """How many runners judged each tenant."""
    return Counter(t for r in reports for t in r.tenants or ())


def _changes(reports: list[TickReport]) -> Counter[str]:
    return sum((r.changes for r in reports), Counter())


# What the engine does each round when every station is judged once, as one runner alone does:
# on the first, each station's alert opens and a later reading of the same hour refreshes it;
# then one refresh a round. A station judged by two runners would be refreshed twice.
FIRST_ROUND = Counter(opened=len(TENANTS) * STATIONS, updated=len(TENANTS) * STATIONS)
LATER_ROUND = Counter(updated=len(TENANTS) * STATIONS)
EVERY_TENANT_ONCE = Counter(TENANTS)


def _readings(report: TickReport, tenant: str) -> int:
    return report.counts[f"detectors@{tenant}"]["river_levels.readings"]


def test_two_runners_judge_every_tenant_once_a_round(runners: Runners) -> None:
    a, b = runners.runner("runner-a"), runners.runner("runner-b")
    for n in range(4):
        reports = runners.round(a, b)
        assert _held(reports) == EVERY_TENANT_ONCE
        assert _changes(reports) == (FIRST_ROUND if n == 0 else LATER_ROUND)
    assert [len(r.tenants or ()) for r in reports] == [3, 2]  # the odd one to the first by name
    _, alerts = list_alerts(runners.state, AlertFilter(types=["river_vigilance"]))
    assert sorted(a.subject for a in alerts) == sorted(
        _station(t, k) for t in range(len(TENANTS)) for k in range(STATIONS)
    )
    assert {a.status for a in alerts} == {AlertStatus.OPEN}
    # One opening each: nobody opened a second alert or resolved one the other held open.
    assert {tuple(e.kind for e in alert_events(runners.state, a.id)) for a in alerts} == {
        ("opened",)
    }


def test_a_dead_runners_tenants_are_taken_over_once_its_leases_expire(runners: Runners) -> None:
    a, b = runners.runner("runner-a"), runners.runner("runner-b")
    runners.round(a, b)
    a_held, b_held = runners.round(a, b)
    mine, theirs = a_held.tenants or (), b_held.tenants or ()
    assert len(theirs) == 2
    # b dies (no clean stop): its tenants wait while its leases run, then a takes them all.
    silent = int(TTL / ROUND)
    for _ in range(silent - 1):
        (alone,) = runners.round(a)
        assert alone.tenants == mine
        assert alone.changes == Counter(updated=len(mine) * STATIONS)
    (alone,) = runners.round(a)
    assert alone.tenants == TENANTS
    assert alone.changes == LATER_ROUND
    # Each taken tenant resumes from where b left it: the hours since, plus the overlap hour.
    for tenant in theirs:
        assert _readings(alone, tenant) == (silent + 1) * 4 * STATIONS
    for tenant in mine:
        assert _readings(alone, tenant) == 2 * 4 * STATIONS


def test_a_runner_that_rejoins_gets_its_share_back(runners: Runners) -> None:
    a, b = runners.runner("runner-a"), runners.runner("runner-b")
    runners.round(a, b)
    runners.round(a, b)
    stop = threading.Event()
    stop.set()
    b.run(stop)  # a clean stop: b gives its leases back at once
    (alone,) = runners.round(a)
    assert alone.tenants == TENANTS  # no wait for the leases to run out
    back = runners.runner("runner-b")
    reports = runners.round(a, back)
    assert _held(reports) == EVERY_TENANT_ONCE
    assert [len(r.tenants or ()) for r in reports] == [5, 0]  # a did not know b was back
    for _ in range(2):
        reports = runners.round(a, back)
        assert _held(reports) == EVERY_TENANT_ONCE
        assert _changes(reports) == LATER_ROUND
        assert [len(r.tenants or ()) for r in reports] == [3, 2]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_three_runners_split_the_tenants_and_agree(make_state_store: StoreFactory) -> None:
    state = make_state_store()
    _register(state)
    now = T0
    leases = [TenantLeases(state, f"runner-{n}", TTL) for n in "abc"]
    for lease in leases:
        lease.claim(now)  # each learns of the others
    now += ROUND
    claims = [lease.claim(now) for lease in leases]
    now += ROUND
    claims = [lease.claim(now) for lease in leases]
    assert [len(c.tenants) for c in claims] == [2, 2, 1]
    assert sorted(t for c in claims for t in c.tenants) == sorted(TENANTS)
    assert {c.runners for c in claims} == {3}
    assert leases[0].hold(claims[0].tenants[0], now)
    assert not leases[0].hold(claims[1].tenants[0], now)  # not its own


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_runner_that_overran_its_leases_keeps_what_nobody_took(
    make_state_store: StoreFactory,
) -> None:
    state = make_state_store()
    _register(state)
    late, gone = TenantLeases(state, "runner-a", TTL), TenantLeases(state, "runner-b", TTL)
    for at in (T0, T0 + ROUND):
        late.claim(at)
        gone.claim(at)
    assert len(late.claim(T0 + ROUND).tenants) == 3
    # b died; a's pass ran far past the leases: its own three are still its own, b's two are
    # free, and a takes each of the five once.
    again = late.claim(T0 + 3 * TTL)
    assert again.tenants == TENANTS and len(again.taken) == 2
    assert all(late.hold(t, T0 + 3 * TTL) for t in TENANTS)
    # Once another runner took one, the late one no longer holds it.
    other = TenantLeases(state, "runner-c", TTL)
    assert other.claim(T0 + 5 * TTL).tenants == TENANTS
    assert not late.hold(TENANTS[0], T0 + 5 * TTL)


class Overrun:
    """A watch whose pass over ``slow`` lasts past the lease: meanwhile ``meanwhile`` runs."""

    def __init__(self, inner: Watch, slow: str, meanwhile: Callable[[], object]) -> None:
        self.inner, self.slow, self.meanwhile = inner, slow, meanwhile

    @property
    def name(self) -> str:
        return self.inner.name

    def run(
        self, now: datetime, since: datetime | None, document: dict[str, Any], tenant: str | None
    ) -> WatchResult:
        result = self.inner.run(now, since, document, tenant)
        if tenant == self.slow:
            self.meanwhile()
        return result


def test_a_pass_that_outlived_its_lease_applies_nothing(runners: Runners) -> None:
    b = runners.runner("runner-b")
    slow: list[bool] = []

    def taken_over() -> None:  # a's pass lasted past its leases; b, alone alive, takes them all
        if slow:
            runners.clock.advance(TTL + ROUND)
            assert b.tick().tenants == TENANTS

    a = runners.runner("runner-a", lambda w: Overrun(w, TENANTS[0], taken_over))
    (first,) = runners.round(a)
    assert first.failed == {} and first.tenants == TENANTS  # a alone, a quick pass
    slow.append(True)
    before = Checkpoints(runners.state).load(f"detectors@{TENANTS[0]}")
    assert before is not None
    (late,) = runners.round(a)
    assert late.failed == {
        f"detectors@{TENANTS[0]}": "lease lost during the pass: its findings were dropped",
        **{f"detectors@{t}": "lease lost to another runner" for t in TENANTS[1:]},
    }
    assert late.changes == Counter()  # b judged the same hours: a's findings would be twice
    after = Checkpoints(runners.state).load(f"detectors@{TENANTS[0]}")
    assert after is not None and after.watermark > before.watermark  # b's, not a's
    assert after.watermark == runners.clock.now()


def test_runners_claiming_at_the_same_instant_never_both_take_a_tenant(
    runners: Runners,
) -> None:
    names = [f"runner-{n}" for n in range(4)]
    stores = [StateStore(runners.url) for _ in names]
    runners.opened.extend(stores)
    leases = [TenantLeases(s, n, TTL) for s, n in zip(stores, names, strict=True)]
    start = threading.Barrier(len(leases))
    taken: dict[str, list[tuple[str, ...]]] = {n: [] for n in names}

    def claim(lease: TenantLeases) -> None:
        for k in range(6):
            start.wait()  # every claim of a round at once
            taken[lease.name].append(lease.claim(T0 + k * ROUND).tenants)

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in leases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for k in range(6):
        held = [t for n in names for t in taken[n][k]]
        assert len(held) == len(set(held)), f"round {k}: a tenant claimed twice: {held}"
    assert sorted(len(taken[n][-1]) for n in names) == [1, 1, 1, 2]


def test_a_single_runner_on_sqlite_holds_every_tenant_and_resumes_the_unshared_checkpoint(
    tmp_path: Path, series: SqliteStore
) -> None:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    _register(state)
    runners = Runners(state, series, ManualClock(T0))
    try:
        (unshared,) = runners.round(runners.runner(None))  # the default: no leases
        assert unshared.tenants is None and unshared.changes == FIRST_ROUND
        single = runners.runner("only")
        for _ in range(2):
            (report,) = runners.round(single)
            assert report.tenants == TENANTS
            assert report.changes == LATER_ROUND
            for tenant in TENANTS:  # from the unshared watermark: one new hour plus the overlap
                assert _readings(report, tenant) == 2 * 4 * STATIONS
    finally:
        runners.close()
        state.dispose()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"partition": True, "every_s": 600, "lease_ttl_s": 600}, "longer than every_s"),
        ({"runner_id": ""}, "at least 1 character"),
    ],
)
def test_settings_refuse_a_lease_within_a_pass_and_a_nameless_runner(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        AnalyticsSettings.model_validate(options)


def test_runners_do_not_share_by_default() -> None:
    assert AnalyticsSettings().partition is False


def test_every_detectors_subjects_split_by_tenant_add_up_to_all(tmp_path: Path) -> None:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    import_registry(state, write_registry(load_territory(), tmp_path / "registry.yaml"))
    with state.session() as s:
        tenants = sorted(s.scalars(select(Tenant.code)))
    assert len(tenants) > 1
    try:
        for source in {d.spec.subjects.name: d.spec.subjects for d in DETECTORS.values()}.values():
            every = source.load(state)
            split = {t: source.load(state, t) for t in tenants}
            assert every, source.name
            assert all(s.tenant == t for t, subjects in split.items() for s in subjects)
            assert sorted(s.code for ss in split.values() for s in ss) == sorted(
                s.code for s in every
            ), source.name
    finally:
        state.dispose()
