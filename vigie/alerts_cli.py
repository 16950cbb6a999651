"""``vigie alerts``: list alerts, acknowledge, resolve (fixed or false alarm, with a comment),
snooze, lift a dismissal, and assign them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from analytics.alerts.desk import AlertDesk
from analytics.alerts.errors import AlertConflict, AlertNotFound
from analytics.alerts.model import AlertStatus
from analytics.alerts.queries import AlertFilter, AlertView, list_alerts
from analytics.findings import Severity
from core.clock import SystemClock
from core.config import load_settings
from core.state.alerts import Resolution
from core.state.store import StateStore
from vigie import logs, operator
from vigie.wiring import build_state

alerts_app = typer.Typer(
    help="Alerts: list them, acknowledge, resolve (with a comment), snooze, lift, assign."
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"),
]
ByOption = Annotated[str | None, typer.Option("--by", help="Who acts; default: your login")]

ACTIVE = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


def _state(config: Path | None) -> StateStore:
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    return build_state(settings)


def _row(a: AlertView) -> dict[str, Any]:
    e = a.estimates
    return {
        "id": a.id,
        "type": a.type,
        "title": a.title_fr,
        "severity": a.severity.value,
        "status": a.status.value,
        "tenant": a.tenant,
        "subject_kind": a.subject_kind.value,
        "subject": a.subject,
        "start": a.start.isoformat(),
        "last_seen": a.last_seen.isoformat(),
        "opened_at": a.opened_at.isoformat(),
        "assignee": a.assignee,
        "resolution": a.resolution,
        "suppressed_until": _iso(a.suppressed_until),
        "suppression_ended_at": _iso(a.suppression_ended_at),
        "escalation_level": a.escalation_level,
        "flow_lph": e.flow_lph,
        "volume_m3": e.volume_m3,
        "cost_eur": e.cost_eur,
    }


def _iso(when: datetime | None) -> str | None:
    return None if when is None else when.isoformat()


def _line(a: AlertView) -> str:
    cost = f"{a.estimates.cost_eur:.2f} €" if a.estimates.cost_eur is not None else "-"
    since = a.start.strftime("%Y-%m-%d %H:%M")
    return (
        f"#{a.id:<6} {a.status.value:<12} {a.severity.value:<8} {a.tenant:<12} "
        f"{a.type:<20} {a.subject_kind.value}:{a.subject}  depuis {since} UTC  {cost}"
        + (f"  → {a.assignee}" if a.assignee else "")
        + _held(a)
    )


def _held(a: AlertView) -> str:
    if a.resolution not in (Resolution.FALSE_ALARM, Resolution.SNOOZED):
        return ""
    if a.suppression_ended_at is not None:
        return f"  ({a.resolution}, lifted {a.suppression_ended_at:%Y-%m-%d %H:%M} UTC)"
    if a.suppressed_until is not None:
        return f"  (snoozed until {a.suppressed_until:%Y-%m-%d %H:%M} UTC)"
    return "  (false alarm: held until the condition clears)"


@alerts_app.command("list")
def alerts_list(
    tenant: Annotated[str | None, typer.Option(help="Tenant code")] = None,
    type_: Annotated[str | None, typer.Option("--type", help="Alert type, e.g. burst")] = None,
    severity: Annotated[Severity | None, typer.Option(help="info, warning or critical")] = None,
    status: Annotated[
        AlertStatus | None,
        typer.Option(help="open, acknowledged or resolved; default: open and acknowledged"),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every status, resolved included")] = False,
    since: Annotated[
        datetime | None,
        typer.Option(help="Seen at or after this UTC time, e.g. 2026-11-02T06:00:00"),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON document")] = False,
    config: ConfigOption = None,
) -> None:
    """Alerts, most recently opened first."""
    statuses = None if all_ else [status] if status else list(ACTIVE)
    where = AlertFilter(
        tenants=[tenant] if tenant else None,
        types=[type_] if type_ else None,
        severities=[severity] if severity else None,
        statuses=statuses,
        since=_utc(since),
    )
    total, page = list_alerts(_state(config), where, limit=limit)
    if as_json:
        document = {"total": total, "items": [_row(a) for a in page]}
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    for a in page:
        typer.echo(_line(a))
    typer.echo(f"{len(page)} of {total} alert(s)")


def _utc(when: datetime | None) -> datetime | None:
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)


def _act(
    config: Path | None,
    command: str,
    by: str | None,
    action: Callable[[AlertDesk, str], AlertView],
) -> None:
    """Act as ``by`` (default: the login) and log ``vigie alerts <command>`` in the audit log."""
    state = _state(config)
    desk = AlertDesk(state, SystemClock())
    try:
        alert = action(desk, operator.login(by))
    except (AlertNotFound, AlertConflict, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    operator.audit(state, f"alerts {command}", by=by)
    typer.echo(_line(alert))


@alerts_app.command("ack")
def alerts_ack(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str | None, typer.Option(help="Note for the history")] = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Acknowledge: someone is on it, escalation stops."""
    _act(config, f"ack {alert_id}", by, lambda desk, who: desk.acknowledge(alert_id, who, comment))


class HandResolution(StrEnum):
    FIXED = "fixed"
    FALSE_ALARM = "false_alarm"


@alerts_app.command("resolve")
def alerts_resolve(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="Why it is closed (required)")],
    resolution: Annotated[
        HandResolution,
        typer.Option(
            help="fixed: a later finding opens a new alert; false_alarm: none opens until the "
            "condition has cleared once"
        ),
    ] = HandResolution.FIXED,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Resolve by hand, saying why: fixed (repaired, dealt with) or false_alarm."""
    how = Resolution(resolution.value)
    _act(
        config,
        f"resolve {alert_id} --resolution {how}",
        by,
        lambda desk, who: desk.resolve(alert_id, who, comment, how),
    )


_DURATION = re.compile(r"(\d+)\s*(h|d|w)")
_UNIT = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def _duration(text: str) -> timedelta:
    m = _DURATION.fullmatch(text.strip())
    if not m:
        raise typer.BadParameter(f"{text!r}: expected hours, days or weeks, e.g. 12h, 3d, 2w")
    return int(m.group(1)) * _UNIT[m.group(2)]


@alerts_app.command("snooze")
def alerts_snooze(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str, typer.Option(help="Why (required), e.g. works planned on Thursday")],
    until: Annotated[
        datetime | None,
        typer.Option(help="Until this UTC time, e.g. 2026-11-10T07:00:00 (or with an offset)"),
    ] = None,
    for_: Annotated[
        str | None, typer.Option("--for", help="Or for this long from now: 12h, 3d, 2w")
    ] = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Close until a time: no alert opens on the same subject and type until then, or until the
    condition clears or gets worse."""
    if (until is None) == (for_ is None):
        raise typer.BadParameter("give either --until or --for")
    end = _utc(until) if until is not None else None
    if for_ is not None:
        end = SystemClock().now() + _duration(for_)
    assert end is not None
    _act(
        config,
        f"snooze {alert_id} --until {end:%Y-%m-%dT%H:%MZ}",
        by,
        lambda desk, who: desk.snooze(alert_id, who, end, comment),
    )


@alerts_app.command("lift")
def alerts_lift(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    comment: Annotated[str | None, typer.Option(help="Note for the history")] = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """End a false alarm or snooze now: the next finding opens a new alert."""
    _act(config, f"lift {alert_id}", by, lambda desk, who: desk.lift(alert_id, who, comment))


@alerts_app.command("assign")
def alerts_assign(
    alert_id: Annotated[int, typer.Argument(help="Alert id")],
    to: Annotated[str, typer.Option("--to", help="Who handles it")],
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Give the alert to someone."""
    _act(
        config, f"assign {alert_id} --to {to}", by, lambda desk, who: desk.assign(alert_id, to, who)
    )
