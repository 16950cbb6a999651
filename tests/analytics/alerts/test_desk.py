"""Operator dismissals on real state stores (SQLite and PostgreSQL): a false alarm or a snooze
holds back later findings (no alert, no notice) until the condition clears, a finding is worse,
the snooze ends, or someone lifts it; each step stays in the dismissed alert's history."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from analytics.alerts.desk import MAX_SNOOZE
from analytics.alerts.dispatcher import Dispatcher
from analytics.alerts.engine import AlertEngine, Change
from analytics.alerts.errors import AlertConflict
from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.queries import AlertFilter, alert_events, get_alert, list_alerts
from analytics.findings import Clearance, Finding, Severity, SubjectKind
from core.clock import ManualClock
from core.config import AlertRoute, AlertsSettings, QuietHoursSettings
from core.state.alerts import Alert, EventKind, Resolution
from core.state.store import StateStore
from tests.analytics.alerts.conftest import T0, RecordingNotifier

METER = "a840414b61866d2c"
EAU = "eau@caudry.fr"
SETTINGS = AlertsSettings(
    routes=[AlertRoute(channel="email", to=[EAU])],
    quiet_hours=QuietHoursSettings(enabled=False),
    rate_limit=0,
    escalate_after_h=0,
)


def finding(hours: float, severity: Severity | None = None) -> Finding:
    return Finding(
        type="household_leak",
        tenant="caudry",
        subject_kind=SubjectKind.DEVICE,
        subject=METER,
        start=T0 - timedelta(days=3),
        observed_at=T0 + timedelta(hours=hours),
        severity=severity,
        evidence={"night_min_lph": [12.0, 14.0]},
    )


def clearance(hours: float) -> Clearance:
    return Clearance(
        "household_leak", "caudry", SubjectKind.DEVICE, METER, T0 + timedelta(hours=hours)
    )


class Pass:
    """What the analytics runner does each pass: apply what detectors said, then dispatch."""

    def __init__(self, state: StateStore, clock: ManualClock) -> None:
        self.state = state
        self.clock = clock
        self.engine = AlertEngine(state, clock, SETTINGS)
        self.email = RecordingNotifier("email")
        self.dispatcher = Dispatcher(state, clock, SETTINGS, {"email": self.email})

    def run(self, hours: float, *statements: Finding | Clearance) -> list[Change]:
        self.clock.set(T0 + timedelta(hours=hours))
        findings = [s for s in statements if isinstance(s, Finding)]
        clearances = [s for s in statements if isinstance(s, Clearance)]
        changes = self.engine.apply(findings, clearances)
        self.dispatcher.dispatch()
        return changes

    def alerts(self) -> list[tuple[int, str, str | None]]:
        with self.state.session() as session:
            rows = session.execute(
                sa.select(Alert.id, Alert.status, Alert.resolution).order_by(Alert.id)
            )
            return [(i, s, r) for i, s, r in rows]

    def sent(self) -> list[tuple[int, NoticeKind]]:
        return [(n.alert_id, n.kind) for n, _ in self.email.sent]


@pytest.fixture
def rig(state_store: StateStore, clock: ManualClock) -> Pass:
    return Pass(state_store, clock)


def test_a_false_alarm_holds_through_later_passes(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    rig.engine.resolve(
        opened.alert_id, "m.dupont", "Remplissage de la piscine", Resolution.FALSE_ALARM
    )

    for hours in (1, 2, 24, 24 * 30):
        assert rig.run(hours, finding(hours)) == []

    assert rig.alerts() == [(opened.alert_id, "resolved", "false_alarm")]
    assert rig.sent() == [
        (opened.alert_id, NoticeKind.OPENED),
        (opened.alert_id, NoticeKind.RESOLVED),
    ]
    [_, resolved] = alert_events(rig.state, opened.alert_id)
    assert (resolved.kind, resolved.actor, resolved.comment) == (
        "resolved",
        "m.dupont",
        "Remplissage de la piscine",
    )
    assert resolved.details["resolution"] == "false_alarm"
    [(notice, _)] = [(n, d) for n, d in rig.email.sent if n.kind == NoticeKind.RESOLVED]
    assert notice.resolution == "false_alarm"


def test_after_a_clearance_a_recurrence_opens_a_new_alert(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    rig.engine.resolve(opened.alert_id, "m.dupont", "Fausse alerte", Resolution.FALSE_ALARM)
    assert rig.run(1, finding(1)) == []
    assert rig.run(2, clearance(0.5)) == []  # older than the last sighting: stale, holds on

    assert rig.run(3, clearance(3)) == [Change(opened.alert_id, EventKind.LIFTED)]
    [again] = rig.run(50, finding(50))

    assert again.event == EventKind.OPENED and again.alert_id != opened.alert_id
    assert [s for _, s, _ in rig.alerts()] == ["resolved", "open"]
    assert rig.sent()[-1] == (again.alert_id, NoticeKind.OPENED)
    lifted = alert_events(rig.state, opened.alert_id)[-1]
    assert (lifted.kind, lifted.at, lifted.details["why"]) == (
        "lifted",
        T0 + timedelta(hours=3),
        "cleared",
    )
    assert get_alert(rig.state, opened.alert_id).suppression_ended_at == T0 + timedelta(hours=3)


def test_a_snooze_holds_until_its_end_then_a_finding_opens_a_new_alert(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    until = T0 + timedelta(days=3)
    alert = rig.engine.snooze(opened.alert_id, "m.dupont", until, "Travaux jeudi")
    assert (alert.status, alert.resolution, alert.suppressed_until) == (
        AlertStatus.RESOLVED,
        "snoozed",
        until,
    )

    assert rig.run(71, finding(71)) == []  # an hour before the end
    [again] = rig.run(72, finding(72))

    assert again.event == EventKind.OPENED and again.alert_id != opened.alert_id
    lifted = alert_events(rig.state, opened.alert_id)[-1]
    assert (lifted.kind, lifted.at, lifted.details["why"]) == ("lifted", until, "expired")
    assert alert_events(rig.state, again.alert_id)[0].details["follows"] == opened.alert_id
    assert [k for _, k in rig.sent()] == [NoticeKind.OPENED, NoticeKind.RESOLVED, NoticeKind.OPENED]
    [snoozed] = [n for n, _ in rig.email.sent if n.kind == NoticeKind.RESOLVED]
    assert (snoozed.resolution, snoozed.suppressed_until) == ("snoozed", until)


def test_a_snooze_also_ends_when_the_condition_clears(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    rig.engine.snooze(opened.alert_id, "m.dupont", T0 + timedelta(days=7), "Travaux")

    assert rig.run(5, clearance(5)) == [Change(opened.alert_id, EventKind.LIFTED)]
    [again] = rig.run(6, finding(6))
    assert again.event == EventKind.OPENED


def test_a_worse_finding_is_not_held_back(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    rig.engine.resolve(opened.alert_id, "m.dupont", "Fausse alerte", Resolution.FALSE_ALARM)

    assert rig.run(1, finding(1, Severity.WARNING)) == []
    [again] = rig.run(2, finding(2, Severity.CRITICAL))

    assert again.event == EventKind.OPENED
    assert get_alert(rig.state, again.alert_id).severity == Severity.CRITICAL
    assert alert_events(rig.state, opened.alert_id)[-1].details["why"] == "worsened"


def test_a_dismissal_can_be_lifted_by_hand(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    rig.engine.resolve(opened.alert_id, "m.dupont", "Fausse alerte", Resolution.FALSE_ALARM)

    rig.engine._desk.lift(opened.alert_id, "j.martin", "En fait si, fuite confirmée")
    [again] = rig.run(1, finding(1))

    assert again.event == EventKind.OPENED
    lifted = alert_events(rig.state, opened.alert_id)[-1]
    assert (lifted.kind, lifted.actor, lifted.details["why"]) == ("lifted", "j.martin", "by_hand")
    with pytest.raises(AlertConflict):
        rig.engine._desk.lift(opened.alert_id, "j.martin")  # nothing left to lift


def test_a_fixed_alert_holds_nothing_back(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    alert = rig.engine.resolve(opened.alert_id, "m.dupont", "Joint remplacé")
    assert alert.resolution == "fixed"

    [again] = rig.run(24, finding(24))
    assert again.event == EventKind.OPENED


@pytest.mark.parametrize(
    ("until_h", "comment", "error"),
    [
        (-1, "Travaux", "future"),
        (0, "Travaux", "future"),
        (MAX_SNOOZE / timedelta(hours=1) + 1, "Travaux", "at most"),
        (24, "  ", "comment"),
    ],
    ids=["past", "now", "too long", "no comment"],
)
def test_a_snooze_needs_a_reasonable_end_and_a_reason(
    rig: Pass, until_h: float, comment: str, error: str
) -> None:
    [opened] = rig.run(0, finding(0))
    with pytest.raises(ValueError, match=error):
        rig.engine.snooze(opened.alert_id, "m.dupont", T0 + timedelta(hours=until_h), comment)
    assert get_alert(rig.state, opened.alert_id).status == AlertStatus.OPEN


def test_a_dismissal_is_listed_with_its_resolution_and_end(rig: Pass) -> None:
    [opened] = rig.run(0, finding(0))
    until = T0 + timedelta(days=2)
    rig.engine.snooze(opened.alert_id, "m.dupont", until, "Travaux")

    _, [listed] = list_alerts(rig.state, AlertFilter(statuses=[AlertStatus.RESOLVED]))
    assert (listed.resolution, listed.suppressed_until, listed.suppression_ended_at) == (
        "snoozed",
        until,
        None,
    )
