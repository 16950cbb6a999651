"""The operator at the server's console: a login name, and the audit entries of their commands."""

from __future__ import annotations

import getpass
import socket

from core.clock import Clock, SystemClock
from core.state.audit import record_command
from core.state.store import StateStore


def login(by: str | None = None) -> str:
    """Who acts: ``by`` when given, else the login name of the process."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name (e.g. a container with an unnamed uid)
        return "cli"


def audit(
    state: StateStore,
    command: str,
    *,
    by: str | None = None,
    status: int = 0,
    clock: Clock | None = None,
) -> None:
    """Add ``vigie <command>`` to the audit log, beside the changes made with API keys."""
    with state.session() as session:
        record_command(
            session,
            (clock or SystemClock()).now(),
            login(by),
            f"vigie {command}",
            status,
            socket.gethostname(),
        )
