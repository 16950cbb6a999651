"""Routing: which channels and destinations hear about a notice, from the configured routes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.alerts.model import NoticeKind
from analytics.findings import Severity
from core.config import AlertRoute


@dataclass(frozen=True, slots=True, order=True)
class Destination:
    channel: str  # email, webhook or mqtt
    address: str  # e-mail address, URL or MQTT topic


def matches(route: AlertRoute, tenant: str, type_: str, severity: Severity) -> bool:
    """Empty tenant or type lists match every tenant or type."""
    return (
        (not route.tenants or tenant in route.tenants)
        and (not route.types or type_ in route.types)
        and severity.rank >= Severity(route.min_severity).rank
    )


def destinations(
    routes: Sequence[AlertRoute], tenant: str, type_: str, severity: Severity, kind: NoticeKind
) -> list[Destination]:
    """Every destination of every matching route, once each; escalations go to the routes'
    ``escalate_to``, other notices to their ``to``."""
    found: set[Destination] = set()
    for route in routes:
        if matches(route, tenant, type_, severity):
            targets = route.escalate_to if kind == NoticeKind.ESCALATED else route.to
            found.update(Destination(route.channel, t) for t in targets)
    return sorted(found)
