"""The alert tables: migration 0003 on SQLite and PostgreSQL, and the rules the database keeps
even when code forgets them (one open alert per subject and type, coherent resolution)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.exc import IntegrityError

from core.state.alerts import Alert, AlertEvent, Notification
from core.state.store import StateStore, alembic_config

T0 = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)
ALERT_TABLES = {"alert", "alert_event", "notification"}


def _alert(**overrides: Any) -> Alert:
    values: dict[str, Any] = {
        "type": "household_leak",
        "severity": "warning",
        "status": "open",
        "tenant": "caudry",
        "subject_kind": "device",
        "subject": "a840414b61866d2c",
        "start": T0 - timedelta(days=2),
        "last_seen": T0,
        "opened_at": T0,
        "updated_at": T0,
        "evidence": {"night_min_lph": [12.5, 13.0], "series": {"device": "a840414b61866d2c"}},
        "escalation_level": 0,
    }
    values.update(overrides)
    return Alert(**values)


def _resolved(**overrides: Any) -> Alert:
    return _alert(status="resolved", resolved_at=T0, resolution="auto", **overrides)


def _tables(store: StateStore) -> set[str]:
    return set(sa.inspect(store.engine).get_table_names())


def _add(store: StateStore, *rows: object) -> None:
    with store.session() as session:
        session.add_all(rows)


def test_the_migration_creates_the_three_tables_and_downgrades_cleanly(
    empty_state_store: StateStore,
) -> None:
    empty_state_store.migrate("0002")
    assert not ALERT_TABLES & _tables(empty_state_store)

    empty_state_store.migrate()
    assert _tables(empty_state_store) >= ALERT_TABLES
    indexes = {i["name"]: i for i in sa.inspect(empty_state_store.engine).get_indexes("alert")}
    assert indexes["uq_alert_open_subject"]["unique"]

    with empty_state_store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0002")
    assert not ALERT_TABLES & _tables(empty_state_store)
    assert "dead_letter" in _tables(empty_state_store)


def test_a_second_open_alert_for_the_same_subject_and_type_is_refused(
    state_store: StateStore,
) -> None:
    _add(state_store, _alert())

    with pytest.raises(IntegrityError):
        _add(state_store, _alert(status="acknowledged", acknowledged_at=T0))

    with state_store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 1


@pytest.mark.parametrize(
    "other",
    [
        {"type": "burst"},
        {"subject": "a840414b61866d2d"},
        {"subject_kind": "building"},
        {"tenant": "beauvois"},
    ],
    ids=["other type", "other subject", "other kind", "other tenant"],
)
def test_open_alerts_on_different_keys_coexist(
    state_store: StateStore, other: dict[str, str]
) -> None:
    _add(state_store, _alert(), _alert(**other))

    with state_store.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Alert)) == 2


def test_resolved_alerts_do_not_block_a_new_open_one(state_store: StateStore) -> None:
    _add(state_store, _resolved(), _resolved(start=T0), _alert())

    with state_store.session() as session:
        statuses = sorted(session.scalars(sa.select(Alert.status)))
    assert statuses == ["open", "resolved", "resolved"]


@pytest.mark.parametrize(
    "bad",
    [
        {"status": "closed"},
        {"severity": "major"},
        {"subject_kind": "street"},
        {"status": "resolved"},  # without resolved_at and resolution
        {"resolved_at": T0, "resolution": "auto"},  # resolved fields on an open alert
        {"status": "resolved", "resolved_at": T0, "resolution": "lost"},
        {"escalation_level": -1},
    ],
)
def test_incoherent_alert_rows_are_refused(state_store: StateStore, bad: dict[str, Any]) -> None:
    with pytest.raises(IntegrityError):
        _add(state_store, _alert(**bad))


def test_history_and_outbox_follow_their_alert(state_store: StateStore) -> None:
    alert = _alert()
    _add(state_store, alert)
    event = AlertEvent(
        alert_id=alert.id, at=T0, kind="opened", details={"severity": "warning"}, notice="opened"
    )
    _add(state_store, event)
    _add(state_store, _notification(alert.id, event.id))
    with pytest.raises(IntegrityError):  # one row per event, channel and destination
        _add(state_store, _notification(alert.id, event.id))

    with state_store.session() as session:
        session.delete(session.get(Alert, alert.id))
    with state_store.session() as session:
        counts = [
            session.scalar(sa.select(sa.func.count()).select_from(t))
            for t in (AlertEvent, Notification)
        ]
    assert counts == [0, 0]


def test_evidence_and_times_round_trip(state_store: StateStore) -> None:
    paris = T0.astimezone(ZoneInfo("Europe/Paris"))
    alert = _alert(last_seen=paris, flow_lph=12.5, volume_m3=0.6, cost_eur=2.4)
    _add(state_store, alert)

    with state_store.session() as session:
        back = session.get(Alert, alert.id)
        assert back is not None
        assert back.last_seen == T0 and back.last_seen.tzinfo == UTC
        assert back.evidence == alert.evidence
        assert (back.flow_lph, back.volume_m3, back.cost_eur) == (12.5, 0.6, 2.4)


@pytest.mark.parametrize(
    "bad", [{"status": "lost"}, {"kind": "paged"}, {"severity": "high"}, {"attempts": -1}]
)
def test_incoherent_outbox_rows_are_refused(state_store: StateStore, bad: dict[str, Any]) -> None:
    alert = _alert()
    _add(state_store, alert)
    event = AlertEvent(alert_id=alert.id, at=T0, kind="opened", details={}, notice="opened")
    _add(state_store, event)

    with pytest.raises(IntegrityError):
        _add(state_store, _notification(alert.id, event.id, **bad))


def _notification(alert_id: int, event_id: int, **overrides: Any) -> Notification:
    values: dict[str, Any] = {
        "alert_id": alert_id,
        "event_id": event_id,
        "kind": "opened",
        "severity": "warning",
        "channel": "email",
        "destination": "eau@caudry.fr",
        "status": "pending",
        "attempts": 0,
        "created_at": T0,
        "next_attempt_at": T0,
        "updated_at": T0,
    }
    values.update(overrides)
    return Notification(**values)
