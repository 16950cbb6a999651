"""A notice in French, as a person reads it: subject line, plain-text body, HTML alternative."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from analytics.alerts.model import AlertStatus, Notice, NoticeKind
from analytics.findings import Severity, SubjectKind
from core.config import DEFAULT_ZONE

# Thousands are grouped with a no-break space (French typography), so a number is never split
# across two lines by a mail client; the decimal separator is a comma.
NBSP = "\u00a0"

SEVERITY_FR = {
    Severity.INFO: "information",
    Severity.WARNING: "avertissement",
    Severity.CRITICAL: "critique",
}

STATUS_FR = {
    AlertStatus.OPEN: "ouverte",
    AlertStatus.ACKNOWLEDGED: "acquittée",
    AlertStatus.RESOLVED: "résolue",
}

SUBJECT_KIND_FR = {
    SubjectKind.DEVICE: "capteur",
    SubjectKind.BUILDING: "bâtiment",
    SubjectKind.SECTOR: "secteur",
    SubjectKind.STATION: "station",
    SubjectKind.AREA: "zone",
}

# The lifecycle step: a short label for the subject line, a sentence to open the body.
STEP_FR = {
    NoticeKind.OPENED: "Nouvelle alerte",
    NoticeKind.WORSENED: "Aggravation",
    NoticeKind.ESCALATED: "Relance (non acquittée)",
    NoticeKind.RESOLVED: "Alerte résolue",
}


# How an alert was closed: by the detector, or by hand (see core.state.alerts.Resolution).
RESOLVED_FR = {
    "auto": "Alerte résolue : la condition n'est plus observée.",
    "fixed": "Alerte clôturée à la main : le problème a été traité.",
    "manual": "Alerte clôturée à la main.",
    "false_alarm": "Alerte classée fausse alerte : elle ne sera plus signalée tant que la "
    "condition n'aura pas cessé.",
    "snoozed": "Alerte mise en sourdine jusqu'au {until} (heure locale), ou jusqu'à ce que "
    "la condition cesse.",
}


@dataclass(frozen=True, slots=True)
class RenderedNotice:
    """What an e-mail carries: a one-line subject, a plain-text body, the same body in HTML."""

    subject: str
    text: str
    html: str


def format_number(value: float, decimals: int) -> str:
    """``1234.5`` → ``"1 234,5"`` (no-break space between thousands, decimal comma)."""
    if round(value, decimals) == 0:
        value = 0.0  # no "-0,0"
    return f"{value:,.{decimals}f}".replace(",", NBSP).replace(".", ",")


def format_flow(lph: float) -> str:
    """A flow in L/h below 1 m³/h (a household leak), in m³/h above (a sector or a burst)."""
    if abs(lph) < 1000:
        return f"{format_number(lph, 0 if abs(lph) >= 10 else 1)}{NBSP}L/h"
    m3h = lph / 1000
    return f"{format_number(m3h, 1 if abs(m3h) >= 10 else 2)}{NBSP}m³/h"


def format_volume(m3: float) -> str:
    return f"{format_number(m3, 1 if abs(m3) >= 1 else 2)}{NBSP}m³"


def format_cost(eur: float) -> str:
    return f"{format_number(eur, 2)}{NBSP}€"


def format_local_time(when: datetime, zone: str = DEFAULT_ZONE) -> str:
    """``"22/11/2026 à 03:00"`` in Paris time; a naive time is taken as UTC (as stored)."""
    return as_utc(when).astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y à %H:%M")


def format_duration(start: datetime, end: datetime) -> str:
    """``"2 j 5 h"``, ``"3 h 20 min"``, ``"45 min"``: how long the condition has been observed."""
    minutes = max(0, int(as_utc(end).timestamp() - as_utc(start).timestamp()) // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}{NBSP}j {hours}{NBSP}h"
    if hours:
        return f"{hours}{NBSP}h {minutes:02d}{NBSP}min"
    return f"{minutes}{NBSP}min"


def subject_line(notice: Notice) -> str:
    """``[Vigie · critique] Nouvelle alerte : <titre> — secteur nord (caudry)``, on one line."""
    where = f"{SUBJECT_KIND_FR[notice.subject_kind]} {notice.subject} ({notice.tenant})"
    line = (
        f"[Vigie · {SEVERITY_FR[notice.severity]}] {STEP_FR[notice.kind]} :"
        f" {notice.title_fr} — {where}"
    )
    return _one_line(line)


def lead(notice: Notice) -> str:
    """The sentence that says which lifecycle step this notice reports."""
    severity = SEVERITY_FR[notice.severity]
    if notice.kind is NoticeKind.WORSENED:
        return f"Aggravation : la gravité de l'alerte est passée à « {severity} »."
    if notice.kind is NoticeKind.ESCALATED:
        return "Relance : cette alerte n'a pas été acquittée dans le délai prévu."
    if notice.kind is NoticeKind.RESOLVED:
        return RESOLVED_FR.get(notice.resolution or "auto", RESOLVED_FR["fixed"]).format(
            until=format_local_time(notice.suppressed_until, notice.zone)
            if notice.suppressed_until
            else "?"
        )
    return "Nouvelle alerte : une anomalie vient d'être détectée."


def facts(notice: Notice) -> list[tuple[str, str]]:
    """The key numbers, as (label, value) pairs in reading order; unknown estimates are left out."""
    rows = [
        ("Type", notice.title_fr),
        ("Gravité", SEVERITY_FR[notice.severity]),
        ("État", STATUS_FR[notice.status]),
        ("Collectivité", notice.tenant),
        (SUBJECT_KIND_FR[notice.subject_kind].capitalize(), notice.subject),
        ("Depuis le", f"{format_local_time(notice.start, notice.zone)} (heure locale)"),
        ("Dernière observation", format_local_time(notice.last_seen, notice.zone)),
        ("Durée observée", format_duration(notice.start, notice.last_seen)),
    ]
    estimates = notice.estimates
    if estimates.flow_lph is not None:
        rows.append(("Débit estimé", format_flow(estimates.flow_lph)))
    if estimates.volume_m3 is not None:
        rows.append(("Volume perdu estimé", format_volume(estimates.volume_m3)))
    if estimates.cost_eur is not None:
        rows.append(("Coût estimé", format_cost(estimates.cost_eur)))
    return rows


FOOTER = "Message envoyé automatiquement par Vigie ; merci de ne pas y répondre."


def render(notice: Notice) -> RenderedNotice:
    """The e-mail of one notice."""
    rows = facts(notice)
    width = max(len(label) for label, _ in rows)
    lines = [lead(notice), ""]
    lines += [f"{label:<{width}} : {value}" for label, value in rows]
    if notice.url:
        lines += ["", f"Voir l'alerte : {notice.url}"]
    lines += ["", "-- ", f"Alerte n° {notice.alert_id} ({notice.type}). {FOOTER}", ""]
    return RenderedNotice(subject_line(notice), "\n".join(lines), _html(notice, rows))


def _html(notice: Notice, rows: list[tuple[str, str]]) -> str:
    e = html.escape
    cells = "\n".join(
        f'<tr><th style="text-align:left;padding-right:1em">{e(label)}</th><td>{e(value)}</td></tr>'
        for label, value in rows
    )
    link = (
        f'<p><a href="{e(notice.url, quote=True)}">Voir l\'alerte</a></p>\n' if notice.url else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{e(subject_line(notice))}</title></head>\n<body>\n"
        f"<p><strong>{e(lead(notice))}</strong></p>\n<table>\n{cells}\n</table>\n{link}"
        f'<p style="color:#666">Alerte n° {notice.alert_id} ({e(notice.type)}). {e(FOOTER)}</p>\n'
        "</body></html>\n"
    )


def as_utc(when: datetime) -> datetime:
    """An aware UTC time; a naive one is taken as UTC (the stores keep UTC, some drop the zone)."""
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _one_line(text: str) -> str:
    # Subject, tenant and title end up in a mail header: a line break there would end the header.
    return " ".join(text.split())
