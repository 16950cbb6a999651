"""The detectors' watch on real stores: household and building leaks found, then cleared once
repaired; a pool that never stops is not a leak; parameters, failures and state per detector."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa

from analytics.alerts.engine import AlertEngine
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, list_alerts
from analytics.detectors.base import Detection, Pass, Spec, Subject, Window, WindowKind
from analytics.findings import AlertType, Finding, Severity, SubjectKind
from analytics.runner import AnalyticsRunner
from analytics.watch.detectors import DetectorWatch
from core.clock import ManualClock
from core.config import AlertsSettings
from core.health import Fatal
from core.reading import Reading
from core.state.checkpoints import Checkpoints
from core.state.models import Building, Device, WaterSector
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore
from core.timeseries import StoreUnavailable, TimeSeriesStore
from simulator.territory_file import load_territory, write_registry

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)
Q = timedelta(minutes=15)
PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[StateStore, SqliteStore, list[str]]]:
    state = StateStore(f"sqlite:///{tmp_path / 'state.sqlite'}")
    state.migrate()
    land = load_territory()
    import_registry(state, write_registry(land, tmp_path / "registry.yaml"))
    store = SqliteStore(tmp_path / "ts.sqlite")
    homes = [d.dev_eui for d in land.devices() if d.role == "water_meter" and not d.building]
    yield state, store, homes[:20]
    store.close()
    state.dispose()


def _household(eui: str, hours: int, leak_lph: np.ndarray, seed: int) -> list[Reading]:
    """Hourly register readings: a few draws a day with quiet nights, plus the leak's flow."""
    rng = np.random.default_rng(seed)
    use = np.where(rng.random(hours) < 0.35, rng.gamma(1.5, 15.0, hours), 0.0)
    local = (np.arange(hours) + 1) % 24  # Paris is UTC+1 in March before the change
    use[(local >= 0) & (local < 6)] = 0.0
    index_l = 120_000.0 + np.cumsum(use + leak_lph)
    return [
        Reading(T0 + (i + 1) * H, eui, "volume_m3", round(float(v) / 1000, 3))
        for i, v in enumerate(index_l)
    ]


def _runner(
    state: StateStore,
    store: SqliteStore,
    clock: ManualClock,
    lookback: timedelta = timedelta(days=35),  # the default window
) -> AnalyticsRunner:
    return AnalyticsRunner(
        [DetectorWatch(store, state, lookback=lookback)],
        AlertEngine(state, clock, AlertsSettings()),
        None,
        Checkpoints(state),
        clock,
    )


def test_a_household_leak_is_raised_then_cleared_after_repair(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, homes = stores
    days = 20
    hours = days * 24
    leak = np.zeros(hours)
    leak[6 * 24 : 12 * 24] = 15.0  # 15 L/h for six days, then repaired
    for k, eui in enumerate(homes):
        store.write(_household(eui, hours, leak if k == 3 else np.zeros(hours), k))
    clock = ManualClock(T0 + 10 * 24 * H)
    runner = _runner(state, store, clock, lookback=timedelta(days=14))
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["household_leak"]))
    assert [(a.subject, a.status) for a in alerts] == [(homes[3], AlertStatus.OPEN)]
    assert alerts[0].start >= T0 + 6 * 24 * H - H
    clock.set(T0 + 16 * 24 * H)  # four days after the repair
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["household_leak"]))
    assert [(a.subject, a.status, a.resolution) for a in alerts] == [
        (homes[3], AlertStatus.RESOLVED, "auto")
    ]


def test_a_leak_stays_open_while_the_meters_daily_frame_is_not_due(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    """A meter that sends its hourly history in one daily frame is up to a day behind: the
    hours not in yet neither end its leak nor clear the alert, and a silent meter clears
    nothing either."""
    state, store, homes = stores
    hours = 10 * 24
    leak = np.zeros(hours)
    leak[6 * 24 :] = 15.0
    store.write(_household(homes[3], hours, leak, 3))
    clock = ManualClock(T0 + hours * H + H)
    runner = _runner(state, store, clock, lookback=timedelta(days=14))
    for later in (timedelta(0), 20 * H, 3 * 24 * H):
        clock.set(T0 + hours * H + H + later)
        runner.tick()
        _, alerts = list_alerts(state, AlertFilter(types=["household_leak"]))
        assert [(a.subject, a.status) for a in alerts] == [(homes[3], AlertStatus.OPEN)], later


SCHOOL, POOL = "caudry-ecole-jaures", "le-cateau-piscine"


def _water_meter(state: StateStore, building: str) -> str:
    with state.session() as s:
        return s.scalars(
            sa.select(Device.dev_eui)
            .join(Building, Device.building_id == Building.id)
            .where(Building.code == building, Device.role == "water_meter")
        ).one()


def _building(eui: str, hours: int, lph: np.ndarray, seed: int) -> list[Reading]:
    """Hourly register readings of a building using ``lph`` litres an hour, give or take 20 %."""
    rng = np.random.default_rng(seed)
    index_l = 3_000_000.0 + np.cumsum(lph * rng.uniform(0.8, 1.2, hours))
    return [
        Reading(T0 + (i + 1) * H, eui, "volume_m3", round(float(v) / 1000, 3))
        for i, v in enumerate(index_l)
    ]


def _local_hours(hours: int) -> np.ndarray:
    paris = ZoneInfo("Europe/Paris")
    return np.array([(T0 + i * H).astimezone(paris).hour for i in range(hours)])


def _building_leaks(state: StateStore) -> list[tuple[str, AlertStatus]]:
    _, alerts = list_alerts(state, AlertFilter(types=["building_leak"]))
    return [(a.subject, a.status) for a in alerts]


def test_a_school_leak_is_raised_kept_and_cleared_and_the_pool_is_never_a_leak(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, _ = stores
    days = 60
    hours = days * 24
    local = _local_hours(hours)
    school = np.where((local >= 8) & (local < 17), 150.0, 0.0)  # nothing used at night
    school[12 * 24 + 9 : 52 * 24] += 40.0  # a 40 L/h leak from day 12, repaired on day 52
    pool = np.full(hours, 900.0)  # water renewed and evaporation made up around the clock
    store.write(_building(_water_meter(state, SCHOOL), hours, school, 1))
    store.write(_building(_water_meter(state, POOL), hours, pool, 2))
    clock = ManualClock(T0 + 20 * 24 * H)
    runner = _runner(state, store, clock)

    runner.tick()
    assert _building_leaks(state) == [(SCHOOL, AlertStatus.OPEN)]
    # Day 50: the leak has run since before the window; the rule cannot judge it again, and
    # that is no evidence that it stopped: the alert stays open.
    clock.set(T0 + 50 * 24 * H)
    runner.tick()
    assert _building_leaks(state) == [(SCHOOL, AlertStatus.OPEN)]
    clock.set(T0 + 56 * 24 * H)  # four days after the repair
    runner.tick()
    assert _building_leaks(state) == [(SCHOOL, AlertStatus.RESOLVED)]


def test_a_meter_declared_always_on_is_not_judged_by_the_continuous_flow_rule(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, _ = stores
    hours = 20 * 24
    local = _local_hours(hours)
    school = np.where((local >= 8) & (local < 17), 150.0, 0.0)
    school[12 * 24 + 9 :] += 40.0
    eui = _water_meter(state, SCHOOL)
    store.write(_building(eui, hours, school, 1))
    with state.session() as s:
        device = s.scalars(sa.select(Device).where(Device.dev_eui == eui)).one()
        device.parameters = {**device.parameters, "continuous_use": True}
    _runner(state, store, ManualClock(T0 + 20 * 24 * H)).tick()
    assert _building_leaks(state) == []
    _, nights = list_alerts(state, AlertFilter(types=["building_night_flow"]))
    assert [a.subject for a in nights] == [SCHOOL]  # the night-flow rule still watches it


def _sector_inflow_meter(state: StateStore, sector: str) -> str:
    with state.session() as s:
        return s.scalars(
            sa.select(Device.dev_eui)
            .join(WaterSector, Device.sector_id == WaterSector.id)
            .where(WaterSector.code == sector, Device.role == "sector_inflow")
        ).one()


def _inflow(eui: str, days: int, leak_m3h: np.ndarray, seed: int) -> list[Reading]:
    """Register readings every 15 minutes of a sector's inflow: a 1.2 m³/h night floor, daytime
    use, noise, plus the leaks' flow (m³/h per quarter hour)."""
    rng = np.random.default_rng(seed)
    n = days * 96
    local = np.array([(T0 + i * Q).astimezone(PARIS) for i in range(n)])
    hour = np.array([t.hour + t.minute / 60 for t in local])
    flow = 1.2 + 3.0 * np.clip(np.sin((hour - 5) / 19 * np.pi), 0, None)
    flow += rng.normal(0, 0.06, n) + leak_m3h
    index_m3 = 98_000.0 + np.cumsum(flow / 4)
    return [
        Reading(T0 + (i + 1) * Q, eui, "volume_m3", round(float(v), 2))
        for i, v in enumerate(index_m3)
    ]


def test_two_leaks_in_a_sector_are_one_alert_adding_their_flows_cleared_by_the_repair(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, _ = stores
    days = 50
    leak = np.zeros(days * 96)
    leak[int(18.4 * 96) :] += 0.5
    leak[int(26.6 * 96) :] += 0.8
    leak[int(40.5 * 96) :] -= 1.3  # both repaired in one intervention
    store.write(_inflow(_sector_inflow_meter(state, "caudry-centre"), days, leak, seed=3))
    clock = ManualClock(T0 + timedelta(days=33))
    runner = _runner(state, store, clock)
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["sector_leak"]))
    [alert] = alerts
    assert (alert.subject, alert.status) == ("caudry-centre", AlertStatus.OPEN)
    assert T0 + timedelta(days=17.4) <= alert.start <= T0 + timedelta(days=18.4)  # its day
    assert alert.estimates.flow_lph == pytest.approx(1300, rel=0.15)
    steps = alert.evidence["steps"]
    assert len(steps) == 2
    assert [s["flow_m3h"] for s in steps] == pytest.approx([0.5, 0.8], abs=0.1)
    clock.set(T0 + timedelta(days=days))  # nine nights after the repair
    runner.tick()
    _, alerts = list_alerts(state, AlertFilter(types=["sector_leak"]))
    assert [(a.subject, a.status, a.resolution) for a in alerts] == [
        ("caudry-centre", AlertStatus.RESOLVED, "auto")
    ]


# -- the watch itself: parameters, isolation, shared reads, clearances -------------------------


def test_a_parameter_override_changes_what_a_detector_finds(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    """The 15 L/h leak of the first test, with the night-flow floor raised above it."""
    state, store, homes = stores
    hours = 20 * 24
    leak = np.zeros(hours)
    leak[6 * 24 :] = 15.0
    store.write(_household(homes[0], hours, leak, 0))
    now = T0 + 12 * 24 * H
    found = DetectorWatch(store, state).run(now, None, {})
    raised = DetectorWatch(
        store, state, parameters={"household_leak": {"min_night_flow_lph": 50}}
    ).run(now, None, {})
    assert [f.subject for f in found.findings if f.type == "household_leak"] == [homes[0]]
    assert [f for f in raised.findings if f.type == "household_leak"] == []
    off = DetectorWatch(store, state, disabled=["household_leak"]).run(now, None, {})
    assert "household_leak" not in off.document and off.findings == []


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"parameters": {"househld_leak": {"min_nights": 3}}}, "no detector named househld_leak"),
        ({"disabled": ["bursts"]}, "no detector named bursts"),
        ({"parameters": {"burst": {"factr": 2.0}}}, "detector 'burst' has no parameter 'factr'"),
    ],
)
def test_a_wrong_detector_setting_stops_the_start_with_its_name(
    stores: tuple[StateStore, SqliteStore, list[str]], options: dict[str, Any], message: str
) -> None:
    state, store, _ = stores
    with pytest.raises(Fatal, match=message):
        DetectorWatch(store, state, **options)


@dataclass(frozen=True)
class _Subjects:
    name: str
    subjects: tuple[Subject, ...]

    def load(self, state: StateStore, tenant: str | None = None) -> list[Subject]:
        return [x for x in self.subjects if tenant in (None, x.tenant)]


@dataclass(frozen=True)
class _CountingFeed:
    name: str
    loads: list[tuple[datetime, datetime]]

    def load(
        self,
        store: TimeSeriesStore,
        subjects: Sequence[Subject],
        start: datetime,
        end: datetime,
        zone: str = "Europe/Paris",
    ) -> int:
        self.loads.append((start, end))
        return len(subjects)


class _Fake:
    """A detector made for these tests of the watch's own logic (the real detectors are tested
    above and in their modules): it judges every subject, finds on ``finds``, counts passes."""

    def __init__(
        self, name: str, subjects: _Subjects, feed: _CountingFeed, finds: set[str], fail: bool
    ) -> None:
        # Alert types the engine knows (its catalogue is the registered detectors').
        self.type = TYPE_OF[name]
        self.spec = Spec(
            name=name,
            description="test",
            alert_types=(AlertType(self.type, "Essai", Severity.WARNING),),
            params=_NoParams(),
            units={},
            subjects=subjects,
            reads=feed,
            window=Window(WindowKind.SINCE_LAST),
            evidence=(),
        )
        self._finds, self._fail = finds, fail

    def detect(self, run: Pass) -> Detection:
        if self._fail:
            raise StoreUnavailable("InfluxDB /query: ConnectError")
        out = Detection(state={"passes": int(run.state.get("passes", 0)) + 1})
        for s in run.subjects:
            out.judged.add((self.type, s.code))
            if s.code in self._finds:
                out.findings.append(
                    Finding(self.type, s.tenant, s.kind, s.code, run.start, run.end)
                )
        return out


@dataclass(frozen=True)
class _NoParams:
    pass


TYPE_OF = {"first": "household_leak", "second": "building_night_flow", "down": "burst"}


def test_shared_reads_once_isolated_failures_and_clearances_of_judged_subjects(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, _ = stores
    clock = ManualClock(T0)
    engine = AlertEngine(state, clock, AlertsSettings())
    a, b = (Subject("caudry", SubjectKind.DEVICE, code, (code,)) for code in ("m-a", "m-b"))
    subjects, loads = _Subjects("two-meters", (a, b)), []
    feed = _CountingFeed("shared", loads)
    detectors: dict[str, Any] = {
        "first": _Fake("first", subjects, feed, {"m-a", "m-b"}, fail=False),
        "second": _Fake("second", subjects, feed, set(), fail=False),
        "down": _Fake("down", subjects, feed, set(), fail=True),
    }
    watch = DetectorWatch(store, state, detectors=detectors)
    result = watch.run(T0, None, {"down": {"watermark": T0.isoformat(), "state": {"kept": 1}}})
    assert len(loads) == 2, "first and second share one read; down reads from its watermark"
    assert result.failed == {"down": "InfluxDB /query: ConnectError"}
    assert result.document["down"] == {"watermark": T0.isoformat(), "state": {"kept": 1}}
    assert result.document["first"]["state"] == {"passes": 1}
    list(engine.apply(result.findings, result.clearances))
    # Next pass: m-b judged without a finding clears; m-a (not judged any more) stays open.
    detectors["first"] = _Fake("first", _Subjects("one-meter", (b,)), feed, set(), fail=False)
    later = T0 + 2 * H
    again = DetectorWatch(store, state, detectors=detectors).run(later, None, result.document)
    assert [(c.type, c.subject) for c in again.clearances] == [("household_leak", "m-b")]
    assert again.document["first"]["state"] == {"passes": 2}


def test_a_detector_with_its_own_lookback_reads_that_far_back(
    stores: tuple[StateStore, SqliteStore, list[str]],
) -> None:
    state, store, _ = stores
    a = Subject("caudry", SubjectKind.DEVICE, "m-a", ("m-a",))
    loads: list[tuple[datetime, datetime]] = []
    fake = _Fake("first", _Subjects("one", (a,)), _CountingFeed("f", loads), set(), fail=False)
    fake.spec = dataclasses.replace(
        fake.spec, window=Window(WindowKind.LOOKBACK, lookback=timedelta(days=400))
    )
    DetectorWatch(store, state, detectors={"first": fake}).run(T0 + 5 * H / 60, None, {})
    hour = T0.replace(minute=0, second=0, microsecond=0)
    assert loads == [(hour - timedelta(days=400), hour)]
