"""The dispatcher on real state stores: routing per tenant, type and severity, quiet hours (across
midnight and DST changes), per-destination rate limits, escalation, and retries of failed sends."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from analytics.alerts.dispatcher import Dispatcher, DispatchReport
from analytics.alerts.engine import AlertEngine
from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.notifiers.webhook import WebhookNotifier
from analytics.findings import Clearance, Estimates, Finding, Severity, SubjectKind
from core.clock import ManualClock
from core.config import AlertRoute, AlertsSettings, QuietHoursSettings, load_settings
from core.state.alerts import Notification
from core.state.store import StateStore
from tests.analytics.alerts.conftest import T0, Receiver, RecordingNotifier

EAU = "eau@caudry.fr"
ASTREINTE = "astreinte@caudry.fr"
HOOK = "https://sig.caudry.fr/hooks/vigie"
NO_QUIET = QuietHoursSettings(enabled=False)


def settings(**overrides: Any) -> AlertsSettings:
    values: dict[str, Any] = {
        "routes": [AlertRoute(channel="email", to=[EAU], escalate_to=[ASTREINTE])],
        "quiet_hours": NO_QUIET,
        "rate_limit": 0,
        "base_url": "https://vigie.caudry.fr/",
        "retry_after_s": 60,
    }
    values.update(overrides)
    return AlertsSettings(**values)


def finding(
    subject: str = "a840414b61866d2c",
    *,
    type_: str = "household_leak",
    tenant: str = "caudry",
    severity: Severity | None = None,
    at: datetime = T0,
) -> Finding:
    return Finding(
        type=type_,
        tenant=tenant,
        subject_kind=SubjectKind.DEVICE,
        subject=subject,
        start=at - timedelta(days=2),
        observed_at=at,
        severity=severity,
        evidence={"night_min_lph": [11.0, 12.5]},
        estimates=Estimates(flow_lph=12.5, volume_m3=0.6),
    )


class Rig:
    """An engine and a dispatcher on one store, with e-mail, webhook and MQTT recorders."""

    def __init__(self, state: StateStore, clock: ManualClock, config: AlertsSettings) -> None:
        self.state = state
        self.clock = clock
        self.engine = AlertEngine(state, clock, config)
        self.email = RecordingNotifier("email")
        self.webhook = RecordingNotifier("webhook")
        self.mqtt = RecordingNotifier("mqtt")
        self.dispatcher = Dispatcher(
            state,
            clock,
            config,
            {n.channel: n for n in (self.email, self.webhook, self.mqtt)},
        )

    def open(self, *findings: Finding) -> DispatchReport:
        self.engine.apply(findings)
        return self.dispatcher.dispatch()

    def outbox(self) -> list[tuple[str, str, str, int]]:
        with self.state.session() as session:
            rows = session.execute(
                sa.select(
                    Notification.destination,
                    Notification.kind,
                    Notification.status,
                    Notification.attempts,
                ).order_by(Notification.id)
            )
            return [(d, k, s, a) for d, k, s, a in rows]


def rig(state: StateStore, clock: ManualClock, **overrides: Any) -> Rig:
    return Rig(state, clock, settings(**overrides))


def test_a_new_alert_is_sent_once_with_what_a_person_needs(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock)
    report = r.open(finding())

    assert (report.queued, report.sent) == (1, 1)
    [(notice, destination)] = r.email.sent
    assert destination == EAU
    assert notice.kind == NoticeKind.OPENED
    assert notice.title_fr == "Fuite probable chez un abonné"
    assert (notice.severity, notice.status) == (Severity.WARNING, AlertStatus.OPEN)
    assert notice.estimates == Estimates(flow_lph=12.5, volume_m3=0.6, cost_eur=2.4)
    assert notice.url == f"https://vigie.caudry.fr/api/v1/alerts/{notice.alert_id}"
    assert r.outbox() == [(EAU, "opened", "sent", 1)]
    assert r.dispatcher.dispatch() == DispatchReport()  # nothing twice


def test_routes_choose_by_tenant_type_and_severity(
    state_store: StateStore, clock: ManualClock
) -> None:
    routes = [
        AlertRoute(tenants=["caudry"], channel="email", to=[EAU]),
        AlertRoute(types=["burst"], min_severity="critical", channel="webhook", to=[HOOK]),
        AlertRoute(
            tenants=["beauvois"], min_severity="info", channel="mqtt", to=["beauvois/alertes"]
        ),
        AlertRoute(tenants=["caudry"], channel="email", to=[EAU]),  # a duplicate: one e-mail
    ]
    r = rig(state_store, clock, routes=routes)
    report = r.open(
        finding("leak-caudry"),
        finding("burst-caudry", type_="burst"),
        finding(
            "burst-beauvois-warning", type_="burst", tenant="beauvois", severity=Severity.WARNING
        ),
        finding("sensor-beauvois", type_="level_sensor_fault", tenant="beauvois"),
        finding("sensor-caudry", type_="level_sensor_fault"),  # info: below caudry's route
    )

    assert sorted(n.subject for n, _ in r.email.sent) == ["burst-caudry", "leak-caudry"]
    assert [n.subject for n, _ in r.webhook.sent] == ["burst-caudry"]
    assert sorted(n.subject for n, _ in r.mqtt.sent) == [
        "burst-beauvois-warning",
        "sensor-beauvois",
    ]
    assert (report.queued, report.sent, report.unrouted) == (5, 5, 1)


def test_worsening_and_resolution_are_notified_too(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock)
    r.open(finding())
    r.open(finding(severity=Severity.CRITICAL, at=T0 + timedelta(hours=1)))
    r.engine.apply([finding(at=T0 + timedelta(hours=2))])  # a plain refresh: no notice
    r.engine.apply(
        [],
        [
            Clearance(
                "household_leak",
                "caudry",
                SubjectKind.DEVICE,
                "a840414b61866d2c",
                T0 + timedelta(hours=3),
            )
        ],
    )
    r.dispatcher.dispatch()

    assert [(n.kind, n.severity, n.status) for n, _ in r.email.sent] == [
        (NoticeKind.OPENED, Severity.WARNING, AlertStatus.OPEN),
        (NoticeKind.WORSENED, Severity.CRITICAL, AlertStatus.OPEN),
        (NoticeKind.RESOLVED, Severity.WARNING, AlertStatus.RESOLVED),
    ]


# Quiet hours 20:00-07:30 in Paris. Each case: when the alert opens, when the window ends in UTC.
QUIET_NIGHTS = {
    "winter night": (
        datetime(2026, 11, 2, 21, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ),
    "after midnight": (
        datetime(2026, 11, 3, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 3, 6, 30, tzinfo=UTC),
    ),
    # 29 March 2026: clocks go from 02:00 to 03:00; the window ends at 07:30 summer time.
    "spring DST night": (
        datetime(2026, 3, 28, 20, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 5, 30, tzinfo=UTC),
    ),
    # 25 October 2026: clocks go from 03:00 back to 02:00; the window ends at 07:30 winter time.
    "autumn DST night": (
        datetime(2026, 10, 24, 19, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 6, 30, tzinfo=UTC),
    ),
}


@pytest.mark.parametrize("night", QUIET_NIGHTS, ids=list(QUIET_NIGHTS))
def test_quiet_hours_hold_non_critical_notices_until_they_end(
    state_store: StateStore, night: str
) -> None:
    opened_at, window_end = QUIET_NIGHTS[night]
    clock = ManualClock(opened_at)
    r = rig(state_store, clock, quiet_hours=QuietHoursSettings())
    report = r.open(finding("leak"), finding("burst", type_="burst"))

    assert [n.subject for n, _ in r.email.sent] == ["burst"]  # critical goes through
    assert (report.sent, report.held, report.held_until) == (1, 1, window_end)

    clock.set(window_end - timedelta(minutes=1))
    assert r.dispatcher.dispatch().held == 1
    clock.set(window_end)
    assert r.dispatcher.dispatch().sent == 1
    assert [n.subject for n, _ in r.email.sent] == ["burst", "leak"]


def test_outside_quiet_hours_nothing_waits(state_store: StateStore) -> None:
    clock = ManualClock(datetime(2026, 11, 2, 18, 59, tzinfo=UTC))  # 19:59 in Paris
    r = rig(state_store, clock, quiet_hours=QuietHoursSettings())

    report = r.open(finding())
    assert (report.sent, report.held, report.held_until) == (1, 0, None)


def test_a_day_window_that_does_not_cross_midnight(state_store: StateStore) -> None:
    lunch = QuietHoursSettings(start=time(12, 0), end=time(14, 0))
    clock = ManualClock(datetime(2026, 7, 1, 10, 30, tzinfo=UTC))  # 12:30 summer time
    r = rig(state_store, clock, quiet_hours=lunch)

    assert r.open(finding()).held_until == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)


def test_the_rate_limit_suppresses_the_excess_and_records_it(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock, rate_limit=2)
    report = r.open(*(finding(f"meter-{i}") for i in range(4)))

    assert (report.sent, report.suppressed) == (2, 2)
    assert [s for _, _, s, _ in r.outbox()] == ["sent", "sent", "suppressed", "suppressed"]
    with state_store.session() as session:
        reasons = session.scalars(
            sa.select(Notification.last_error).where(Notification.status == "suppressed")
        ).all()
    assert all(reason and "rate limit" in reason for reason in reasons)

    clock.advance(timedelta(minutes=59))
    assert r.open(finding("meter-4")).suppressed == 1  # still two in the past hour
    clock.advance(timedelta(minutes=1, seconds=1))
    assert r.open(finding("meter-5")).sent == 1  # the first two left the rolling hour
    assert len(r.email.sent) == 3


def test_critical_notices_pass_the_rate_limit_and_count_against_it(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock, rate_limit=1)
    report = r.open(finding("burst-1", type_="burst"), finding("burst-2", type_="burst"))
    assert (report.sent, report.suppressed) == (2, 0)

    assert r.open(finding("leak")).suppressed == 1


def test_the_limit_is_per_destination(state_store: StateStore, clock: ManualClock) -> None:
    routes = [
        AlertRoute(tenants=["caudry"], channel="email", to=[EAU]),
        AlertRoute(tenants=["beauvois"], channel="email", to=["eau@beauvois.fr"]),
    ]
    r = rig(state_store, clock, routes=routes, rate_limit=1)
    report = r.open(finding("a"), finding("b"), finding("c", tenant="beauvois"))

    assert (report.sent, report.suppressed) == (2, 1)
    assert sorted(d for _, d in r.email.sent) == ["eau@beauvois.fr", EAU]


def test_an_unacknowledged_alert_escalates_once_to_the_escalation_destinations(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock, escalate_after_h=3)
    r.open(finding("a"), finding("b"))
    [b_id] = [n.alert_id for n, _ in r.email.sent if n.subject == "b"]
    r.engine.acknowledge(b_id, "m.dupont")

    clock.advance(timedelta(hours=2, minutes=59))
    r.engine.escalate_due()
    r.dispatcher.dispatch()
    assert r.email.to(ASTREINTE) == []

    clock.advance(timedelta(minutes=1))
    r.engine.escalate_due()
    r.dispatcher.dispatch()
    clock.advance(timedelta(hours=10))
    r.engine.escalate_due()
    r.dispatcher.dispatch()

    [escalated] = r.email.to(ASTREINTE)
    assert (escalated.kind, escalated.subject) == (NoticeKind.ESCALATED, "a")
    assert [n.kind for n in r.email.to(EAU)] == [NoticeKind.OPENED, NoticeKind.OPENED]


def test_escalation_without_escalation_destinations_is_recorded_as_unrouted(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock, routes=[AlertRoute(channel="email", to=[EAU])])
    r.open(finding())
    clock.advance(timedelta(hours=4))
    r.engine.escalate_due()

    report = r.dispatcher.dispatch()
    assert (report.queued, report.unrouted, report.sent) == (0, 1, 0)


def test_a_failed_send_is_retried_with_backoff_until_delivered(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock)
    r.email.failures = 2

    assert r.open(finding()).failed == 1
    assert r.outbox() == [(EAU, "opened", "failed", 1)]
    with state_store.session() as session:
        error = session.scalar(sa.select(Notification.last_error))
    assert error == f"{EAU}: 451 try again later"

    clock.advance(timedelta(seconds=59))
    assert r.dispatcher.dispatch() == DispatchReport()  # first retry after 60 s
    clock.advance(timedelta(seconds=1))
    assert r.dispatcher.dispatch().failed == 1
    clock.advance(timedelta(seconds=119))
    assert r.dispatcher.dispatch() == DispatchReport()  # then after 120 s
    clock.advance(timedelta(seconds=1))
    assert r.dispatcher.dispatch().sent == 1

    assert r.outbox() == [(EAU, "opened", "sent", 3)]
    assert len(r.email.sent) == 1


def test_a_send_that_keeps_failing_is_given_up_and_stays_failed(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock, max_attempts=2)
    r.email.failures = 99

    reports = [r.open(finding())]
    for _ in range(5):
        clock.advance(timedelta(hours=1))
        reports.append(r.dispatcher.dispatch())

    assert [(x.failed, x.given_up) for x in reports] == [(1, 0), (0, 1)] + [(0, 0)] * 4
    assert r.outbox() == [(EAU, "opened", "failed", 2)]


def test_a_channel_without_a_notifier_fails_visibly(
    state_store: StateStore, clock: ManualClock
) -> None:
    config = settings()
    engine = AlertEngine(state_store, clock, config)
    engine.apply([finding()])

    report = Dispatcher(state_store, clock, config, {}).dispatch()
    assert report.failed == 1
    with state_store.session() as session:
        error = session.scalar(sa.select(Notification.last_error))
    assert error == "no notifier for channel 'email'"


def test_queued_notices_survive_a_restart(state_store: StateStore, clock: ManualClock) -> None:
    config = settings()
    AlertEngine(state_store, clock, config).apply([finding()])
    down = RecordingNotifier("email", failures=1)
    Dispatcher(state_store, clock, config, {"email": down}).dispatch()

    reopened = StateStore(state_store.url.render_as_string(hide_password=False))
    try:
        clock.advance(timedelta(minutes=5))
        back = RecordingNotifier("email")
        report = Dispatcher(reopened, clock, config, {"email": back}).dispatch()
    finally:
        reopened.dispose()

    assert report.sent == 1
    assert [n.kind for n, _ in back.sent] == [NoticeKind.OPENED]


def test_critical_notices_go_first_when_a_round_is_bounded(
    state_store: StateStore, clock: ManualClock
) -> None:
    config = settings()
    AlertEngine(state_store, clock, config).apply(
        [*(finding(f"leak-{i}") for i in range(3)), finding("burst", type_="burst")]
    )
    email = RecordingNotifier("email")
    dispatcher = Dispatcher(state_store, clock, config, {"email": email}, batch=2)

    dispatcher.dispatch()
    assert [n.subject for n, _ in email.sent] == ["burst", "leak-0"]


def test_routes_and_quiet_hours_come_from_vigie_toml(tmp_path: Path) -> None:
    config = tmp_path / "vigie.toml"
    config.write_text(
        """
[alerts]
price_eur_m3 = 3.1
rate_limit = 5

[alerts.quiet_hours]
start = "21:30"
end = 07:00:00

[[alerts.routes]]
tenants = ["caudry"]
types = ["burst", "sector_leak"]
min_severity = "critical"
channel = "webhook"
to = ["https://sig.caudry.fr/hooks/vigie"]

[[alerts.routes]]
channel = "email"
to = ["eau@agglo.fr"]
escalate_to = ["astreinte@agglo.fr"]
""",
        encoding="utf-8",
    )
    alerts = load_settings(config).alerts

    assert (alerts.price_eur_m3, alerts.rate_limit) == (3.1, 5)
    assert (alerts.quiet_hours.start, alerts.quiet_hours.end) == (time(21, 30), time(7, 0))
    webhook, email = alerts.routes
    assert (webhook.channel, webhook.types, webhook.min_severity) == (
        "webhook",
        ["burst", "sector_leak"],
        "critical",
    )
    assert (email.tenants, email.min_severity, email.escalate_to) == (
        [],
        "warning",
        ["astreinte@agglo.fr"],
    )


def _reasons(state: StateStore) -> list[tuple[str, str, str, str | None]]:
    with state.session() as session:
        rows = session.execute(
            sa.select(
                Notification.destination,
                Notification.kind,
                Notification.status,
                Notification.last_error,
            ).order_by(Notification.id)
        )
        return [(d, k, s, e) for d, k, s, e in rows]


@pytest.mark.parametrize("action", ["acknowledge", "resolve"])
def test_notices_held_at_night_are_cancelled_when_the_alert_was_handled_meanwhile(
    state_store: StateStore, action: str
) -> None:
    """Quiet hours 20:00-07:30 in Paris hold a leak's opening and its escalation; someone on
    call handles the alert at night: in the morning neither notice goes out, and the outbox
    says why."""
    evening = datetime(2026, 11, 2, 20, 0, tzinfo=UTC)  # 21:00 in Paris
    clock = ManualClock(evening)
    r = rig(state_store, clock, quiet_hours=QuietHoursSettings(), escalate_after_h=1)
    r.open(finding("leak", at=evening))
    clock.advance(timedelta(hours=1))
    assert len(r.engine.escalate_due()) == 1
    assert r.dispatcher.dispatch().held == 2

    clock.advance(timedelta(hours=1))
    [alert_id] = {n.alert_id for n in _alerts_notified(state_store)}
    if action == "acknowledge":
        r.engine.acknowledge(alert_id, "m.dupont", "astreinte sur place")
    else:
        r.engine.resolve(alert_id, "m.dupont", "vanne refermée")
    clock.set(datetime(2026, 11, 3, 6, 30, tzinfo=UTC))  # 07:30 in Paris
    report = r.dispatcher.dispatch()

    assert r.email.sent == [] and report.sent == 0
    outbox = _reasons(state_store)
    assert [(d, k, s) for d, k, s, _ in outbox][:2] == [
        (EAU, "opened", "cancelled"),
        (ASTREINTE, "escalated", "cancelled"),
    ]
    handled = "acknowledged by m.dupont" if action == "acknowledge" else "resolved (fixed) by"
    assert all(handled in (why or "") for _, _, _, why in outbox[:2])
    if action == "resolve":  # the end of something never announced is not announced either
        assert outbox[2][:3] == (EAU, "resolved", "cancelled")
        assert outbox[2][3] == "nothing about this alert was sent to this destination"
    assert report.cancelled == len(outbox)
    assert r.dispatcher.dispatch() == DispatchReport()


def test_a_worsening_after_the_acknowledgement_is_still_news(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock)
    r.open(finding())
    [(opened, _)] = r.email.sent
    clock.advance(timedelta(minutes=10))
    r.engine.acknowledge(opened.alert_id, "m.dupont")
    clock.advance(timedelta(minutes=10))

    report = r.open(finding(severity=Severity.CRITICAL, at=clock.now()))
    assert (report.sent, report.cancelled) == (1, 0)
    assert [n.kind for n, _ in r.email.sent] == [NoticeKind.OPENED, NoticeKind.WORSENED]


def test_a_notice_overtaken_between_two_retries_is_cancelled(
    state_store: StateStore, clock: ManualClock
) -> None:
    r = rig(state_store, clock)
    r.email.failures = 1
    assert r.open(finding()).failed == 1
    [alert_id] = {n.alert_id for n in _alerts_notified(state_store)}
    r.engine.acknowledge(alert_id, "m.dupont")

    clock.advance(timedelta(minutes=5))
    assert r.dispatcher.dispatch().cancelled == 1
    assert r.email.sent == []


def _alerts_notified(state: StateStore) -> list[Notification]:
    with state.session() as session:
        return list(session.scalars(sa.select(Notification).order_by(Notification.id)))


WEBHOOK_SECRET = "secret-partagé"


def test_two_dispatchers_racing_on_one_store_send_each_notice_once(
    state_store: StateStore, clock: ManualClock, receiver: Receiver
) -> None:
    """Two analytics runners' dispatchers, each with its own connection pool and webhook client,
    deliver the same outbox at once to a real (slow) HTTP receiver: every notice arrives once."""
    config = settings(routes=[AlertRoute(channel="webhook", to=[receiver.url])])
    alerts = 40
    AlertEngine(state_store, clock, config).apply([finding(f"meter-{i}") for i in range(alerts)])
    receiver.delay_s = 0.01
    url = state_store.url.render_as_string(hide_password=False)
    stores = [StateStore(url) for _ in range(2)]
    start = threading.Barrier(len(stores))
    reports: list[DispatchReport] = []
    errors: list[BaseException] = []

    def run(store: StateStore) -> None:
        try:
            with WebhookNotifier(WEBHOOK_SECRET, clock=clock, timeout_s=10) as webhook:
                dispatcher = Dispatcher(store, clock, config, {"webhook": webhook}, batch=25)
                start.wait()
                for _ in range(3):
                    reports.append(dispatcher.dispatch())
        except BaseException as exc:  # reported below, with the thread's error
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    for s in stores:
        s.dispose()

    assert errors == []
    ids = [json.loads(request.body)["id"] for request in receiver.requests]
    assert len(ids) == alerts and len(set(ids)) == alerts
    assert sum(report.sent for report in reports) == alerts
    with state_store.session() as session:
        outcomes = session.execute(
            sa.select(Notification.status, Notification.attempts, sa.func.count()).group_by(
                Notification.status, Notification.attempts
            )
        ).all()
    assert [tuple(row) for row in outcomes] == [("sent", 1, alerts)]
