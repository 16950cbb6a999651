"""`vigie analytics baseline-fit`: energy baselines of buildings fitted and scored on CSV files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as public_holidays
import typer

from analytics.energy.holdout import holdout_csv
from core.calendar import CalendarUnknown, DayKind, FrenchCalendar
from core.config import DEFAULT_ZONE


def _holidays(country: str) -> Callable[[date], bool] | None:
    code = country.strip().upper()
    if code == "NONE":
        return None
    if code == "FR":
        calendar = FrenchCalendar()
        return lambda d: calendar.day_kind(d) is DayKind.PUBLIC_HOLIDAY
    country_code, _, subdiv = code.partition("-")  # GB-ENG: England's bank holidays
    try:
        days = public_holidays.country_holidays(country_code, subdiv=subdiv or None)
    except NotImplementedError:
        raise ValueError(f"no public-holiday calendar for country {country!r}") from None
    return lambda d: d in days


def _days_off(country: str, school_zone: str) -> Callable[[date], bool] | None:
    """Public holidays, and with ``school_zone`` the French school holidays of that zone, their
    weekends and Wednesdays included (a school's closures, as the deviation detector derives
    them from a school's schedule)."""
    public = _holidays(country)
    zone = school_zone.strip().upper()
    if not zone:
        return public
    if zone not in ("A", "B", "C"):
        raise ValueError(f"no school-holiday zone {school_zone!r} (A, B or C)")
    calendar = FrenchCalendar()

    def off(d: date) -> bool:
        try:
            school = calendar.school_holiday(d, zone)
        except CalendarUnknown:
            school = False
        return school or (public is not None and public(d))

    return off


def baseline_fit(
    train: Annotated[
        Path,
        typer.Option(
            help="CSV `building_id,timestamp,kwh` (hourly, UTC) to fit on", dir_okay=False
        ),
    ],
    test: Annotated[
        Path,
        typer.Option(help="CSV `building_id,timestamp,kwh` of the period to score", dir_okay=False),
    ],
    weather: Annotated[
        Path,
        typer.Option(help="CSV `timestamp,temperature_c` covering both periods", dir_okay=False),
    ],
    out: Annotated[
        Path, typer.Option(help="CSV to write: `building_id,cv_rmse,nmbe,passes_g14` (fractions)")
    ],
    tz: Annotated[
        str, typer.Option("--tz", help="Zone of the buildings' schedules (IANA name)")
    ] = DEFAULT_ZONE,
    holidays: Annotated[
        str,
        typer.Option(
            "--holidays",
            help="Public holidays, days off: a country code (FR, GB-ENG, …) or `none`",
        ),
    ] = "FR",
    school_zone: Annotated[
        str,
        typer.Option(
            "--school-zone",
            help="French school-holiday zone (A, B or C) whose holidays are days off too, "
            "for files of schools; empty: none",
        ),
    ] = "",
) -> None:
    """Fit each building's time-of-week and temperature baseline on `--train`, score it on
    `--test` with ASHRAE Guideline 14 (hourly: CV(RMSE) ≤ 0.30 and |NMBE| ≤ 0.10).

    A building that cannot be fitted or scored gets empty values and `passes_g14` false; the
    reason is printed."""
    try:
        zone = ZoneInfo(tz)
        days_off = _days_off(holidays, school_zone)
        scores = holdout_csv(train, test, weather, out, zone=zone, holidays=days_off)
    except (OSError, ValueError, ZoneInfoNotFoundError) as exc:
        typer.echo(f"baseline-fit: {exc}", err=True)
        raise typer.Exit(2) from None
    for s in scores:
        if s.error:
            typer.echo(f"{s.building_id}: {s.error}", err=True)
    passing = sum(s.passes_g14 for s in scores)
    typer.echo(f"{passing}/{len(scores)} building(s) pass Guideline 14 → {out}", err=True)
