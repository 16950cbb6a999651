"""The French rendering of a notice: numbers, local times, lifecycle wording, subject line."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.alerts.model import AlertStatus, NoticeKind
from analytics.alerts.notifiers.message import (
    format_cost,
    format_duration,
    format_flow,
    format_local_time,
    format_number,
    format_volume,
    render,
    subject_line,
)
from analytics.findings import Estimates, Severity, SubjectKind
from tests.analytics.alerts.notifiers.conftest import URL, make_notice

NB = "\u00a0"  # no-break space: thousands separator and before units


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (1234.5, 1, f"1{NB}234,5"),
        (4938, 2, f"4{NB}938,00"),
        (1234567.891, 2, f"1{NB}234{NB}567,89"),
        (999.96, 1, f"1{NB}000,0"),
        (12.0, 0, "12"),
        (-0.04, 1, "0,0"),  # never "-0,0"
        (-1500.25, 2, f"-1{NB}500,25"),
    ],
)
def test_numbers_use_french_grouping_and_decimal_comma(
    value: float, decimals: int, expected: str
) -> None:
    assert format_number(value, decimals) == expected


@pytest.mark.parametrize(
    ("lph", "expected"),
    [
        (35.4, f"35{NB}L/h"),
        (2.46, f"2,5{NB}L/h"),  # a dripping tap keeps a decimal
        (999.4, f"999{NB}L/h"),
        (1250.0, f"1,25{NB}m³/h"),  # from 1 m³/h on, m³/h
        (15000.0, f"15,0{NB}m³/h"),
    ],
)
def test_flow_is_in_litres_per_hour_below_one_cubic_metre_per_hour(
    lph: float, expected: str
) -> None:
    assert format_flow(lph) == expected


@pytest.mark.parametrize(
    ("m3", "expected"),
    [(1234.5, f"1{NB}234,5{NB}m³"), (3.0, f"3,0{NB}m³"), (0.35, f"0,35{NB}m³")],
)
def test_volume_in_cubic_metres(m3: float, expected: str) -> None:
    assert format_volume(m3) == expected


def test_cost_in_euros_with_cents() -> None:
    assert format_cost(4938) == f"4{NB}938,00{NB}€"
    assert format_cost(0.4) == f"0,40{NB}€"


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        (datetime(2026, 11, 22, 2, 0, tzinfo=UTC), "22/11/2026 à 03:00"),  # winter: UTC+1
        (datetime(2026, 7, 14, 1, 5, tzinfo=UTC), "14/07/2026 à 03:05"),  # summer: UTC+2
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "01/01/2027 à 00:30"),  # next day locally
        (datetime(2026, 11, 22, 2, 0), "22/11/2026 à 03:00"),  # naive: stored UTC
    ],
)
def test_times_are_local_to_paris_in_french_format(when: datetime, expected: str) -> None:
    assert format_local_time(when) == expected


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 24, 7, 30), f"2{NB}j 5{NB}h"),
        (datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 22, 5, 20), f"3{NB}h 20{NB}min"),
        (datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 22, 2, 45), f"45{NB}min"),
        (datetime(2026, 11, 22, 2, 0), datetime(2026, 11, 22, 1, 0), f"0{NB}min"),
    ],
)
def test_duration(start: datetime, end: datetime, expected: str) -> None:
    assert format_duration(start, end) == expected


def test_body_has_every_key_number_in_french() -> None:
    text = render(make_notice()).text
    assert text.startswith("Nouvelle alerte : une anomalie vient d'être détectée.\n")
    for label, value in [
        ("Type", "Fuite probable sur le réseau du secteur"),
        ("Gravité", "critique"),
        ("État", "ouverte"),
        ("Collectivité", "caudry"),
        ("Secteur", "nord"),
        ("Depuis le", "22/11/2026 à 03:00 (heure locale)"),
        ("Dernière observation", "24/11/2026 à 08:30"),
        ("Durée observée", f"2{NB}j 5{NB}h"),
        ("Débit estimé", f"1,25{NB}m³/h"),
        ("Volume perdu estimé", f"1{NB}234,5{NB}m³"),
        ("Coût estimé", f"4{NB}938,00{NB}€"),
    ]:
        lines = [line for line in text.splitlines() if line.startswith(label + " ")]
        assert len(lines) == 1, label
        assert lines[0].endswith(f" : {value}"), lines[0]
    assert f"Voir l'alerte : {URL}" in text
    assert "Alerte n° 42 (sector_leak)" in text


def test_unknown_estimates_and_missing_link_are_left_out() -> None:
    notice = make_notice(
        type="river_vigilance",
        title_fr="Niveau de vigilance crue atteint",
        severity=Severity.WARNING,
        subject_kind=SubjectKind.STATION,
        subject="selle-solesmes",
        estimates=Estimates(),
        url=None,
    )
    text = render(notice).text
    assert "Station" in text and "selle-solesmes" in text
    assert "avertissement" in text
    for absent in ("Débit", "Volume", "Coût", "Voir l'alerte", "€", "m³"):
        assert absent not in text
    assert "href" not in render(notice).html


@pytest.mark.parametrize(
    ("kind", "status", "step", "lead"),
    [
        (NoticeKind.OPENED, AlertStatus.OPEN, "Nouvelle alerte", "Nouvelle alerte : "),
        (
            NoticeKind.WORSENED,
            AlertStatus.OPEN,
            "Aggravation",
            "Aggravation : la gravité de l'alerte est passée à « critique ».",
        ),
        (
            NoticeKind.ESCALATED,
            AlertStatus.OPEN,
            "Relance (non acquittée)",
            "Relance : cette alerte n'a pas été acquittée",
        ),
        (
            NoticeKind.RESOLVED,
            AlertStatus.RESOLVED,
            "Alerte résolue",
            "Alerte résolue : la condition n'est plus observée.",
        ),
    ],
)
def test_each_lifecycle_step_says_what_happened(
    kind: NoticeKind, status: AlertStatus, step: str, lead: str
) -> None:
    rendered = render(make_notice(kind=kind, status=status))
    assert rendered.subject == (
        f"[Vigie · critique] {step} : Fuite probable sur le réseau du secteur"
        " — secteur nord (caudry)"
    )
    assert rendered.text.startswith(lead)
    assert lead.split(" : ")[0] in rendered.html


@pytest.mark.parametrize(
    ("resolution", "lead"),
    [
        ("fixed", "Alerte clôturée à la main : le problème a été traité."),
        ("false_alarm", "Alerte classée fausse alerte : elle ne sera plus signalée tant que"),
        ("snoozed", "Alerte mise en sourdine jusqu'au 27/11/2026 à 08:00 (heure locale)"),
    ],
)
def test_a_resolution_by_hand_says_how_it_was_closed(resolution: str, lead: str) -> None:
    notice = make_notice(
        kind=NoticeKind.RESOLVED,
        status=AlertStatus.RESOLVED,
        resolution=resolution,
        suppressed_until=datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
        if resolution == "snoozed"
        else None,
    )
    assert render(notice).text.startswith(lead)


def test_acknowledged_status_is_shown() -> None:
    text = render(make_notice(kind=NoticeKind.ESCALATED, status=AlertStatus.ACKNOWLEDGED)).text
    assert "État                 : acquittée" in text


@pytest.mark.parametrize(
    ("severity", "word"),
    [(Severity.INFO, "information"), (Severity.WARNING, "avertissement")],
)
def test_severity_in_french(severity: Severity, word: str) -> None:
    assert subject_line(make_notice(severity=severity)).startswith(f"[Vigie · {word}] ")


def test_subject_line_stays_on_one_line() -> None:
    # Tenant and subject come from the registry; a line break in a mail header would end it.
    line = subject_line(make_notice(tenant="caudry\r\nBcc: someone@example.org", subject="a\nb"))
    assert "\n" not in line and "\r" not in line
    assert line.endswith("— secteur a b (caudry Bcc: someone@example.org)")


def test_html_alternative_escapes_and_carries_the_numbers() -> None:
    rendered = render(make_notice(subject="<script>alert(1)</script>", url=URL + "?a=1&b=2"))
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert f'href="{URL}?a=1&amp;b=2"' in rendered.html
    assert f"4{NB}938,00{NB}€" in rendered.html
    assert f"1{NB}234,5{NB}m³" in rendered.html
    assert '<html lang="fr">' in rendered.html
