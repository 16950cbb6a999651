"""`vigie alerts list|ack|resolve|assign` on real state stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from typer.testing import CliRunner

from analytics.alerts.engine import AlertEngine
from analytics.alerts.queries import alert_events, get_alert
from analytics.findings import Clearance, Estimates, Finding, SubjectKind
from core.clock import ManualClock
from core.config import AlertsSettings
from core.state.audit import audit_page
from core.state.store import StateStore
from vigie.cli import app

runner = CliRunner()
T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


@pytest.fixture
def alerts(state_store: StateStore, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Three alerts in the store the CLI is pointed at: two open, one resolved."""
    monkeypatch.setenv("VIGIE_STATE__URL", state_store.url.render_as_string(hide_password=False))
    engine = AlertEngine(state_store, ManualClock(T0), AlertsSettings(price_eur_m3=4.0))

    def finding(subject: str, type_: str = "household_leak", tenant: str = "caudry") -> Finding:
        return Finding(
            type=type_,
            tenant=tenant,
            subject_kind=SubjectKind.DEVICE,
            subject=subject,
            start=T0 - timedelta(days=2),
            observed_at=T0,
            estimates=Estimates(flow_lph=9.0, volume_m3=1.5),
        )

    changes = engine.apply(
        [finding("leak"), finding("burst", "burst"), finding("old", tenant="beauvois")]
    )
    engine.apply([], [Clearance("household_leak", "beauvois", SubjectKind.DEVICE, "old", T0)])
    return dict(zip(["leak", "burst", "old"], [c.alert_id for c in changes], strict=True))


def invoke(*args: str) -> Any:
    result = runner.invoke(app, ["alerts", *args])
    return result


def listed(*args: str) -> list[str]:
    result = invoke("list", "--json", *args)
    assert result.exit_code == 0, result.output
    return sorted(item["subject"] for item in json.loads(result.stdout)["items"])


def test_list_shows_active_alerts_by_default_and_filters(alerts: dict[str, int]) -> None:
    assert listed() == ["burst", "leak"]
    assert listed("--all") == ["burst", "leak", "old"]
    assert listed("--status", "resolved") == ["old"]
    assert listed("--type", "burst") == ["burst"]
    assert listed("--severity", "warning") == ["leak"]
    assert listed("--tenant", "beauvois", "--all") == ["old"]
    assert listed("--since", "2026-11-02T03:00:01") == []


def test_list_as_json_carries_estimates(alerts: dict[str, int]) -> None:
    result = invoke("list", "--json", "--type", "household_leak")
    [item] = json.loads(result.stdout)["items"]
    assert item["id"] == alerts["leak"]
    assert (item["volume_m3"], item["cost_eur"]) == (1.5, 6.0)
    assert item["title"] == "Fuite probable chez un abonné"


def test_list_as_a_table(alerts: dict[str, int]) -> None:
    result = invoke("list")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3
    assert f"#{alerts['leak']}" in result.stdout and "6.00 €" in result.stdout
    assert lines[-1] == "2 of 2 alert(s)"


def test_ack_resolve_and_assign_change_the_store(
    alerts: dict[str, int], state_store: StateStore
) -> None:
    leak = alerts["leak"]

    assert (
        invoke("ack", str(leak), "--comment", "équipe en route", "--by", "m.dupont").exit_code == 0
    )
    assert invoke("assign", str(leak), "--to", "j.martin", "--by", "m.dupont").exit_code == 0
    result = invoke("resolve", str(leak), "--comment", "compteur remplacé", "--by", "j.martin")
    assert result.exit_code == 0, result.output

    alert = get_alert(state_store, leak)
    assert (alert.status, alert.acknowledged_by, alert.assignee, alert.resolved_by) == (
        "resolved",
        "m.dupont",
        "j.martin",
        "j.martin",
    )
    assert [(e.kind, e.comment) for e in alert_events(state_store, leak)] == [
        ("opened", None),
        ("acknowledged", "équipe en route"),
        ("assigned", None),
        ("resolved", "compteur remplacé"),
    ]
    with state_store.session() as session:
        _, entries = audit_page(session, None, None, 10, 0)
    assert [(e.actor, e.method, e.path) for e in reversed(entries)] == [
        ("m.dupont", "CLI", f"vigie alerts ack {leak}"),
        ("m.dupont", "CLI", f"vigie alerts assign {leak} --to j.martin"),
        ("j.martin", "CLI", f"vigie alerts resolve {leak} --resolution fixed"),
    ]


def test_the_actor_defaults_to_the_login(
    alerts: dict[str, int], state_store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "agent.eau")
    monkeypatch.setenv("LOGNAME", "agent.eau")
    assert invoke("ack", str(alerts["burst"])).exit_code == 0
    assert get_alert(state_store, alerts["burst"]).acknowledged_by == "agent.eau"


def test_resolve_needs_a_comment(alerts: dict[str, int], state_store: StateStore) -> None:
    assert invoke("resolve", str(alerts["leak"])).exit_code == 2  # missing option
    blank = invoke("resolve", str(alerts["leak"]), "--comment", "  ")
    assert blank.exit_code == 1 and "comment" in blank.stderr
    assert get_alert(state_store, alerts["leak"]).status == "open"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ack", "999"], "no alert #999"),
        (["ack", "{old}"], "it is resolved"),
        (["resolve", "{old}", "--comment", "x"], "it is resolved"),
        (["assign", "{old}", "--to", "x"], "it is resolved"),
    ],
)
def test_errors_are_reported_with_exit_status_1(
    alerts: dict[str, int], args: list[str], message: str
) -> None:
    result = invoke(*(a.format(**alerts) for a in args))
    assert result.exit_code == 1
    assert message in result.stderr


def test_resolve_as_a_false_alarm_holds_back_the_next_finding(
    alerts: dict[str, int], state_store: StateStore
) -> None:
    leak = alerts["leak"]
    result = invoke(
        "resolve", str(leak), "--resolution", "false_alarm", "--comment", "arrosage", "--by", "m.d"
    )
    assert result.exit_code == 0, result.output
    assert "false alarm" in result.stdout

    engine = AlertEngine(state_store, ManualClock(T0 + timedelta(hours=1)), AlertsSettings())
    later = Finding(
        type="household_leak",
        tenant="caudry",
        subject_kind=SubjectKind.DEVICE,
        subject="leak",
        start=T0 - timedelta(days=2),
        observed_at=T0 + timedelta(hours=1),
    )
    assert engine.apply([later]) == []
    assert listed() == ["burst"]
    assert get_alert(state_store, leak).resolution == "false_alarm"


@pytest.mark.parametrize("written", ["utc", "offset"])
def test_snooze_until_a_time(alerts: dict[str, int], state_store: StateStore, written: str) -> None:
    # The CLI runs on the system clock: a time a month ahead, on the hour.
    until = (datetime.now(UTC) + timedelta(days=30)).replace(minute=0, second=0, microsecond=0)
    text = (
        until.strftime("%Y-%m-%dT%H:%M:%S")  # naive: UTC, like --since
        if written == "utc"
        else until.astimezone(timezone(timedelta(hours=1))).isoformat()
    )
    burst = alerts["burst"]
    result = invoke("snooze", str(burst), "--until", text, "--comment", "travaux prévus")
    assert result.exit_code == 0, result.output
    assert f"snoozed until {until:%Y-%m-%d %H:%M} UTC" in result.stdout

    alert = get_alert(state_store, burst)
    assert (alert.resolution, alert.suppressed_until) == ("snoozed", until)
    assert alert_events(state_store, burst)[-1].comment == "travaux prévus"


def test_snooze_for_a_while_then_lift(alerts: dict[str, int], state_store: StateStore) -> None:
    leak = alerts["leak"]
    before = datetime.now(UTC)
    assert invoke("snooze", str(leak), "--for", "3d", "--comment", "congés").exit_code == 0
    until = get_alert(state_store, leak).suppressed_until
    assert until is not None
    assert timedelta(days=3) <= until - before < timedelta(days=3, minutes=1)

    result = invoke("lift", str(leak), "--comment", "finalement non", "--by", "j.martin")
    assert result.exit_code == 0, result.output
    assert get_alert(state_store, leak).suppression_ended_at is not None
    assert [(e.kind, e.actor) for e in alert_events(state_store, leak)][-1] == (
        "lifted",
        "j.martin",
    )


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["snooze", "{leak}", "--comment", "x"], 2, "--until or --for"),
        (["snooze", "{leak}", "--for", "3 mois", "--comment", "x"], 2, "12h, 3d, 2w"),
        (["snooze", "{leak}", "--until", "2020-01-01T00:00:00", "--comment", "x"], 1, "future"),
        (["lift", "{leak}"], 1, "nothing to lift"),
        (["resolve", "{leak}", "--resolution", "auto", "--comment", "x"], 2, "auto"),
    ],
)
def test_snooze_and_lift_errors(
    alerts: dict[str, int], args: list[str], code: int, message: str
) -> None:
    result = invoke(*(a.format(**alerts) for a in args))
    assert result.exit_code == code, result.output
    assert message in result.output + result.stderr
