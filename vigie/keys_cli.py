"""``vigie keys``: create, list and revoke the API's keys (a key is shown once, at creation)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from core.config import load_settings
from core.state.api_keys import KeyInfo, Role, UnknownTenant, create_key, list_keys, revoke_key
from vigie import operator
from vigie.wiring import build_state

keys_app = typer.Typer(help="API keys: a role and a tenant each; only their hash is kept.")

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"),
]


def _line(k: KeyInfo) -> str:
    status = f"revoked {k.revoked_at:%Y-%m-%dT%H:%MZ}" if k.revoked_at else "active"
    return (
        f"{k.id}\t{k.name}\t{k.role.value}\t{k.tenant}\t{k.hint}…\t"
        f"{k.created_at:%Y-%m-%dT%H:%MZ}\t{status}"
    )


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Who or what uses it, e.g. 'services techniques'")],
    role: Annotated[Role, typer.Option(help="admin, technician, water, viewer or display")],
    tenant: Annotated[
        str, typer.Option(help="A commune's code, or the agglomeration's (sees its communes)")
    ],
    config: ConfigOption = None,
) -> None:
    """Create a key and print it once: only its SHA-256 is stored, it cannot be shown again."""
    state = build_state(load_settings(config))
    try:
        with state.session() as session:
            info, secret = create_key(session, name, role, tenant, datetime.now(UTC))
        operator.audit(state, f"keys create {name!r} --role {role.value} --tenant {tenant}")
    except UnknownTenant:
        typer.echo(f"no tenant {tenant!r} in the registry", err=True)
        raise typer.Exit(2) from None
    finally:
        state.dispose()
    typer.echo(f"key {info.id} ({info.role.value}, {info.tenant}): {secret}")
    typer.echo("Keep it now: it is not stored and cannot be shown again.", err=True)


@keys_app.command("list")
def list_(config: ConfigOption = None) -> None:
    """Every key: id, name, role, tenant, first characters, creation, status."""
    state = build_state(load_settings(config))
    try:
        with state.session() as session:
            keys = list_keys(session)
    finally:
        state.dispose()
    typer.echo("id\tname\trole\ttenant\tkey\tcreated\tstatus")
    for k in keys:
        typer.echo(_line(k))


@keys_app.command("revoke")
def revoke(
    key_id: Annotated[int, typer.Argument(help="The key's id (vigie keys list)")],
    config: ConfigOption = None,
) -> None:
    """Revoke a key: the API refuses it within 30 seconds (its cache of keys)."""
    state = build_state(load_settings(config))
    try:
        with state.session() as session:
            info = revoke_key(session, key_id, datetime.now(UTC))
        if info is not None:
            operator.audit(state, f"keys revoke {key_id}")
    finally:
        state.dispose()
    if info is None:
        typer.echo(f"no key {key_id}", err=True)
        raise typer.Exit(2)
    typer.echo(_line(info))
