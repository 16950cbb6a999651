"""`vigie keys create|list|revoke` on real state stores (SQLite and PostgreSQL)."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from core.state.api_keys import find_key
from core.state.audit import audit_page
from core.state.registry_io import import_registry
from core.state.store import StateStore
from vigie.cli import app

runner = CliRunner()
SAMPLE = Path(__file__).parents[2] / "vigie" / "data" / "sample_registry.yaml"


@pytest.fixture
def state(state_store: StateStore, monkeypatch: pytest.MonkeyPatch) -> StateStore:
    monkeypatch.setenv("VIGIE_STATE__URL", state_store.url.render_as_string(hide_password=False))
    import_registry(state_store, SAMPLE)
    return state_store


def test_a_key_is_shown_once_listed_by_its_hint_and_revoked(state: StateStore) -> None:
    created = runner.invoke(
        app, ["keys", "create", "services techniques", "--role", "technician", "--tenant", "caudry"]
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().rsplit(" ", 1)[-1]
    assert secret.startswith("vigie_") and len(secret) > 40
    with state.session() as session:
        info = find_key(session, secret)
    assert info is not None and info.scope == {"caudry"} and info.role == "technician"

    listed = runner.invoke(app, ["keys", "list"])
    assert listed.exit_code == 0
    assert secret not in listed.stdout and secret[:10] in listed.stdout
    assert "services techniques\ttechnician\tcaudry" in listed.stdout

    revoked = runner.invoke(app, ["keys", "revoke", str(info.id)])
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    with state.session() as session:
        assert find_key(session, secret) is None


def test_an_agglomeration_key_sees_its_communes(state: StateStore) -> None:
    created = runner.invoke(
        app, ["keys", "create", "dsi", "--role", "admin", "--tenant", "ca-caudresis"]
    )
    secret = created.stdout.strip().rsplit(" ", 1)[-1]
    with state.session() as session:
        info = find_key(session, secret)
    assert info is not None
    assert info.scope == {
        "ca-caudresis",
        "caudry",
        "le-cateau-cambresis",
        "bethencourt",
        "saint-souplet",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "admin", "--tenant", "nowhere"], "no tenant 'nowhere'"),
        (["--role", "root", "--tenant", "caudry"], "root"),
    ],
)
def test_bad_tenants_and_roles_are_refused(
    state: StateStore, args: list[str], message: str
) -> None:
    result = runner.invoke(app, ["keys", "create", "x", *args])
    assert result.exit_code == 2 and message in result.output
    assert runner.invoke(app, ["keys", "revoke", "999"]).exit_code == 2


def test_key_changes_made_at_the_console_are_in_the_audit_log(state: StateStore) -> None:
    created = runner.invoke(
        app, ["keys", "create", "écran gare", "--role", "display", "--tenant", "caudry"]
    )
    key_id = created.stdout.split()[1]
    assert runner.invoke(app, ["keys", "revoke", key_id]).exit_code == 0
    assert runner.invoke(app, ["keys", "revoke", "9999"]).exit_code == 2  # changed nothing
    runner.invoke(app, ["keys", "list"])  # reads are not logged

    with state.session() as session:
        _, entries = audit_page(session, None, None, 10, 0)
    assert [(e.method, e.path, e.status) for e in reversed(entries)] == [
        ("CLI", "vigie keys create 'écran gare' --role display --tenant caudry", 0),
        ("CLI", f"vigie keys revoke {key_id}", 0),
    ]
    assert {(e.actor, e.client_ip, e.key_id, e.tenant) for e in entries} == {
        (getpass.getuser(), socket.gethostname(), None, None)
    }
