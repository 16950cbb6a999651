"""Alembic environment of the state store: runs on the caller's connection, else on a URL."""

from __future__ import annotations

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context

import core.state.alerts  # registers the alert tables on Base.metadata
import core.state.api_keys  # registers the API key table
import core.state.audit  # registers the audit log
import core.state.checkpoints  # registers the checkpoint table
import core.state.leases  # registers the tenant leases and runner heartbeats
import core.state.models  # noqa: F401  (registers the registry tables on Base.metadata)
from core.state.base import Base, UTCDateTime
from core.state.store import DEFAULT_URL, StateStore

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must not import application types: UTC handling is Python-side only.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(**kwargs: Any) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by rebuilding them
        transactional_ddl=True,  # SQLite too: the store emits BEGIN itself (see store.py)
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def _url() -> str:
    """``-x url=...``, else $VIGIE_STATE__URL, else the ini's sqlalchemy.url, else the default."""
    return (
        context.get_x_argument(as_dictionary=True).get("url")
        or os.environ.get("VIGIE_STATE__URL")
        or config.get_main_option("sqlalchemy.url")
        or DEFAULT_URL
    )


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        # StateStore.migrate() owns the connection and its transaction.
        _configure(connection=connection)
        context.run_migrations()
        return
    store = StateStore(_url())
    try:
        with store.engine.connect() as own_connection:
            _configure(connection=own_connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        store.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
