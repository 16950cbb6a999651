"""The alert engine on real state stores (SQLite and PostgreSQL): one open alert per subject and
type, updates instead of duplicates, automatic and manual resolution, escalation, restarts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa

from analytics.alerts.engine import AlertEngine, Change
from analytics.alerts.errors import AlertConflict, AlertNotFound
from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.queries import AlertFilter, alert_events, get_alert, list_alerts
from analytics.findings import Clearance, Estimates, Finding, Severity, SubjectKind
from core.clock import ManualClock
from core.config import AlertsSettings
from core.state.alerts import Alert, AlertEvent, EventKind
from core.state.store import StateStore
from tests.analytics.alerts.conftest import T0

METER = "a840414b61866d2c"
SETTINGS = AlertsSettings(price_eur_m3=4.25, escalate_after_h=2, escalation_levels=2)


def finding(
    observed_h: float = 0,
    *,
    severity: Severity | None = None,
    volume_m3: float | None = 1.2,
    subject: str = METER,
    type_: str = "household_leak",
    night_min_lph: float = 14.0,
) -> Finding:
    return Finding(
        type=type_,
        tenant="caudry",
        subject_kind=SubjectKind.DEVICE,
        subject=subject,
        start=T0 - timedelta(days=3),
        observed_at=T0 + timedelta(hours=observed_h),
        severity=severity,
        evidence={"night_min_lph": [12.0, night_min_lph], "nights": 3},
        estimates=Estimates(flow_lph=night_min_lph, volume_m3=volume_m3),
    )


def clearance(at_h: float, subject: str = METER, type_: str = "household_leak") -> Clearance:
    return Clearance(type_, "caudry", SubjectKind.DEVICE, subject, T0 + timedelta(hours=at_h))


@pytest.fixture
def engine(state_store: StateStore, clock: ManualClock) -> AlertEngine:
    return AlertEngine(state_store, clock, SETTINGS)


def _alerts(state: StateStore) -> list[Alert]:
    with state.session() as session:
        return list(session.scalars(sa.select(Alert).order_by(Alert.id)))


def _kinds(state: StateStore, alert_id: int) -> list[tuple[str, str | None]]:
    with state.session() as session:
        rows = session.execute(
            sa.select(AlertEvent.kind, AlertEvent.notice)
            .where(AlertEvent.alert_id == alert_id)
            .order_by(AlertEvent.id)
        )
        return [(k, n) for k, n in rows]


def test_a_new_finding_opens_an_alert_with_its_cost(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [change] = engine.apply([finding()])

    assert change.event == EventKind.OPENED and change.notice == NoticeKind.OPENED
    alert = get_alert(state_store, change.alert_id)
    assert (alert.status, alert.severity, alert.type) == (
        AlertStatus.OPEN,
        Severity.WARNING,
        "household_leak",
    )
    assert alert.title_fr == "Fuite probable chez un abonné"
    assert (alert.start, alert.last_seen, alert.opened_at) == (T0 - timedelta(days=3), T0, T0)
    assert alert.estimates == Estimates(flow_lph=14.0, volume_m3=1.2, cost_eur=5.1)
    assert alert.evidence == {"night_min_lph": [12.0, 14.0], "nights": 3}
    assert _kinds(state_store, alert.id) == [("opened", "opened")]


def test_new_evidence_updates_the_open_alert_and_never_duplicates_it(
    engine: AlertEngine, state_store: StateStore, clock: ManualClock
) -> None:
    [opened] = engine.apply([finding()])
    clock.advance(timedelta(hours=24))
    [again] = engine.apply([finding(24, volume_m3=1.6, night_min_lph=16.0)])

    assert again == Change(opened.alert_id, EventKind.UPDATED, None)
    [alert] = _alerts(state_store)
    assert alert.last_seen == T0 + timedelta(hours=24)
    assert alert.opened_at == T0  # opening time does not move
    assert (alert.flow_lph, alert.volume_m3, alert.cost_eur) == (16.0, 1.6, 6.8)
    assert alert.evidence["night_min_lph"] == [12.0, 16.0]
    assert _kinds(state_store, alert.id) == [("opened", "opened")]  # a refresh is no news


def test_two_findings_for_one_subject_in_one_batch_make_one_alert(
    engine: AlertEngine, state_store: StateStore
) -> None:
    changes = engine.apply([finding(1), finding(0)])

    assert [c.event for c in changes] == [EventKind.OPENED, EventKind.UPDATED]
    [alert] = _alerts(state_store)
    assert alert.last_seen == T0 + timedelta(hours=1)  # time order, not list order


def test_a_higher_severity_worsens_the_alert_and_a_lower_one_is_history_only(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [opened] = engine.apply([finding(0)])
    [worse] = engine.apply([finding(1, severity=Severity.CRITICAL)])
    [eased] = engine.apply([finding(2, severity=Severity.WARNING)])

    assert worse == Change(opened.alert_id, EventKind.WORSENED, NoticeKind.WORSENED)
    assert eased == Change(opened.alert_id, EventKind.UPDATED, None)
    assert _kinds(state_store, opened.alert_id) == [
        ("opened", "opened"),
        ("worsened", "worsened"),
        ("updated", None),
    ]
    events = alert_events(state_store, opened.alert_id)
    assert events[1].details["previous"] == "warning"
    assert events[1].details["severity"] == "critical"
    assert get_alert(state_store, opened.alert_id).severity == Severity.WARNING


def test_a_clearance_resolves_the_alert_automatically(
    engine: AlertEngine, state_store: StateStore, clock: ManualClock
) -> None:
    [opened] = engine.apply([finding()])
    clock.advance(timedelta(hours=30))
    [resolved] = engine.apply([], [clearance(30)])

    assert resolved == Change(opened.alert_id, EventKind.RESOLVED, NoticeKind.RESOLVED)
    alert = get_alert(state_store, opened.alert_id)
    assert (alert.status, alert.resolution, alert.resolved_by) == (
        AlertStatus.RESOLVED,
        "auto",
        None,
    )
    assert alert.resolved_at == T0 + timedelta(hours=30)
    assert engine.apply([], [clearance(31)]) == []  # nothing left to clear


def test_an_acknowledged_alert_still_updates_and_resolves_automatically(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [opened] = engine.apply([finding()])
    engine.acknowledge(opened.alert_id, "m.dupont")
    engine.apply([finding(5, volume_m3=2.0)])
    assert get_alert(state_store, opened.alert_id).status == AlertStatus.ACKNOWLEDGED

    engine.apply([], [clearance(6)])
    assert get_alert(state_store, opened.alert_id).status == AlertStatus.RESOLVED


def test_a_finding_after_resolution_opens_a_new_alert(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [first] = engine.apply([finding(0)])
    engine.apply([], [clearance(1)])
    [second] = engine.apply([finding(48)])

    assert second.event == EventKind.OPENED and second.alert_id != first.alert_id
    assert [(a.id, a.status) for a in _alerts(state_store)] == [
        (first.alert_id, "resolved"),
        (second.alert_id, "open"),
    ]


def test_statements_in_one_batch_apply_in_time_order(
    engine: AlertEngine, state_store: StateStore
) -> None:
    changes = engine.apply([finding(0), finding(2)], [clearance(1)])

    assert [c.event for c in changes] == [
        EventKind.OPENED,
        EventKind.RESOLVED,
        EventKind.OPENED,
    ]
    assert [a.status for a in _alerts(state_store)] == ["resolved", "open"]


@pytest.mark.parametrize(
    "late",
    [
        lambda: ([finding(-1, volume_m3=9.9)], []),
        lambda: ([], [clearance(-1)]),
    ],
    ids=["finding", "clearance"],
)
def test_stale_statements_change_nothing(
    engine: AlertEngine,
    state_store: StateStore,
    late: Callable[[], tuple[list[Finding], list[Clearance]]],
) -> None:
    engine.apply([finding(0)])
    findings, clearances = late()

    assert engine.apply(findings, clearances) == []
    [alert] = _alerts(state_store)
    assert (alert.status, alert.volume_m3, alert.last_seen) == ("open", 1.2, T0)


def test_without_a_volume_there_is_no_computed_cost(
    engine: AlertEngine, state_store: StateStore
) -> None:
    engine.apply([finding(volume_m3=None)])

    [alert] = _alerts(state_store)
    assert (alert.flow_lph, alert.volume_m3, alert.cost_eur) == (14.0, None, None)


def test_an_unknown_alert_type_is_refused_before_anything_is_written(
    engine: AlertEngine, state_store: StateStore
) -> None:
    with pytest.raises(ValueError, match="gremlins"):
        engine.apply([finding(), finding(type_="gremlins")])

    assert _alerts(state_store) == []


def test_acknowledging_stops_the_clock_and_is_recorded_once(
    engine: AlertEngine, state_store: StateStore, clock: ManualClock
) -> None:
    [opened] = engine.apply([finding()])
    clock.advance(timedelta(minutes=20))
    alert = engine.acknowledge(opened.alert_id, "m.dupont", "équipe envoyée")
    engine.acknowledge(opened.alert_id, "j.martin")

    assert (alert.status, alert.acknowledged_by) == (AlertStatus.ACKNOWLEDGED, "m.dupont")
    assert alert.acknowledged_at == T0 + timedelta(minutes=20)
    events = alert_events(state_store, opened.alert_id)
    assert [(e.kind, e.actor, e.comment) for e in events] == [
        ("opened", None, None),
        ("acknowledged", "m.dupont", "équipe envoyée"),
    ]


def test_a_manual_resolution_needs_a_comment_and_notifies(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [opened] = engine.apply([finding()])
    with pytest.raises(ValueError, match="comment"):
        engine.resolve(opened.alert_id, "m.dupont", "   ")

    alert = engine.resolve(opened.alert_id, "m.dupont", "Joint de compteur remplacé")
    assert (alert.status, alert.resolution, alert.resolved_by) == (
        AlertStatus.RESOLVED,
        "fixed",
        "m.dupont",
    )
    assert _kinds(state_store, opened.alert_id)[-1] == ("resolved", "resolved")
    assert alert_events(state_store, opened.alert_id)[-1].comment == "Joint de compteur remplacé"


@pytest.mark.parametrize("action", ["acknowledge", "resolve", "assign"])
def test_a_resolved_alert_cannot_be_acted_on(engine: AlertEngine, action: str) -> None:
    [opened] = engine.apply([finding()])
    engine.apply([], [clearance(1)])
    calls: dict[str, Callable[[], object]] = {
        "acknowledge": lambda: engine.acknowledge(opened.alert_id, "m.dupont"),
        "resolve": lambda: engine.resolve(opened.alert_id, "m.dupont", "déjà fait"),
        "assign": lambda: engine.assign(opened.alert_id, "j.martin", "m.dupont"),
    }

    with pytest.raises(AlertConflict):
        calls[action]()
    with pytest.raises(AlertNotFound):
        engine.acknowledge(opened.alert_id + 1000, "m.dupont")


def test_assignment_is_recorded_with_who_had_it_before(
    engine: AlertEngine, state_store: StateStore
) -> None:
    [opened] = engine.apply([finding()])
    engine.assign(opened.alert_id, "j.martin", "m.dupont")
    alert = engine.assign(opened.alert_id, "a.leroy", "m.dupont")

    assert alert.assignee == "a.leroy"
    [first, second] = [
        e for e in alert_events(state_store, opened.alert_id) if e.kind == EventKind.ASSIGNED
    ]
    assert (first.details["previous"], first.details["to"]) == (None, "j.martin")
    assert (second.details["previous"], second.details["to"]) == ("j.martin", "a.leroy")


def test_escalation_comes_once_per_level_and_only_while_unacknowledged(
    engine: AlertEngine, state_store: StateStore, clock: ManualClock
) -> None:
    [a] = engine.apply([finding(subject="a")])
    [b] = engine.apply([finding(subject="b")])
    engine.acknowledge(b.alert_id, "m.dupont")

    clock.advance(timedelta(hours=2) - timedelta(seconds=1))
    assert engine.escalate_due() == []
    clock.advance(timedelta(seconds=1))
    assert engine.escalate_due() == [Change(a.alert_id, EventKind.ESCALATED, NoticeKind.ESCALATED)]
    assert engine.escalate_due() == []
    clock.advance(timedelta(hours=2))
    assert [c.alert_id for c in engine.escalate_due()] == [a.alert_id]
    clock.advance(timedelta(hours=20))
    assert engine.escalate_due() == []  # two levels configured, both reached

    levels = [
        e.details["level"] for e in alert_events(state_store, a.alert_id) if e.kind == "escalated"
    ]
    assert levels == [1, 2]
    assert get_alert(state_store, b.alert_id).escalation_level == 0


def test_a_long_overdue_alert_jumps_to_its_level_with_one_notice(
    engine: AlertEngine, state_store: StateStore, clock: ManualClock
) -> None:
    [a] = engine.apply([finding()])
    clock.advance(timedelta(hours=9))

    assert len(engine.escalate_due()) == 1
    assert get_alert(state_store, a.alert_id).escalation_level == 2


def test_escalation_can_be_switched_off(state_store: StateStore, clock: ManualClock) -> None:
    engine = AlertEngine(state_store, clock, AlertsSettings(escalate_after_h=0))
    engine.apply([finding()])
    clock.advance(timedelta(days=30))

    assert engine.escalate_due() == []


def test_the_engine_carries_on_after_a_restart(state_store: StateStore, clock: ManualClock) -> None:
    [opened] = AlertEngine(state_store, clock, SETTINGS).apply([finding()])
    reopened = StateStore(state_store.url.render_as_string(hide_password=False))
    try:
        engine = AlertEngine(reopened, clock, SETTINGS)
        [again] = engine.apply([finding(3)])
        clock.advance(timedelta(hours=2))
        [escalated] = engine.escalate_due()
    finally:
        reopened.dispose()

    assert again == Change(opened.alert_id, EventKind.UPDATED, None)
    assert escalated.alert_id == opened.alert_id
    assert len(_alerts(state_store)) == 1


def test_lists_filter_by_tenant_type_severity_status_and_time(
    engine: AlertEngine, state_store: StateStore
) -> None:
    engine.apply([finding(0, subject="a"), finding(0, subject="b", type_="burst")])
    engine.apply([], [clearance(1, subject="a")])

    def ids(where: AlertFilter) -> list[str]:
        total, page = list_alerts(state_store, where)
        assert total == len(page)
        return sorted(a.subject for a in page)

    assert ids(AlertFilter()) == ["a", "b"]
    assert ids(AlertFilter(types=["burst"])) == ["b"]
    assert ids(AlertFilter(severities=[Severity.CRITICAL])) == ["b"]
    assert ids(AlertFilter(statuses=[AlertStatus.RESOLVED])) == ["a"]
    assert ids(AlertFilter(tenants=["beauvois"])) == []
    assert ids(AlertFilter(since=T0 + timedelta(minutes=1))) == []
    assert ids(AlertFilter(until=T0 - timedelta(days=3))) == []
    assert ids(AlertFilter(since=T0, until=T0 - timedelta(days=2))) == ["a", "b"]


def test_engines_racing_on_one_subject_open_one_alert(
    state_store: StateStore, clock: ManualClock
) -> None:
    url = state_store.url.render_as_string(hide_password=False)
    stores = [StateStore(url) for _ in range(6)]
    start = threading.Barrier(len(stores))
    results: list[list[Change]] = []
    errors: list[BaseException] = []

    def run(store: StateStore) -> None:
        try:
            start.wait()
            results.append(AlertEngine(store, clock, SETTINGS).apply([finding()]))
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for s in stores:
        s.dispose()

    assert errors == []
    events = sorted(c.event for [c] in results)
    assert events == [EventKind.OPENED] + [EventKind.UPDATED] * (len(stores) - 1)
    assert len(_alerts(state_store)) == 1
