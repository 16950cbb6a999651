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
from core.calendar import DayKind, FrenchCalendar
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
            help="Public holidays, run as Sundays: a country code (FR, GB-ENG, …) or `none`",
        ),
    ] = "FR",
) -> None:
    """Fit each building's time-of-week and temperature baseline on `--train`, score it on
    `--test` with ASHRAE Guideline 14 (hourly: CV(RMSE) ≤ 0.30 and |NMBE| ≤ 0.10).

    A building that cannot be fitted or scored gets empty values and `passes_g14` false; the
    reason is printed."""
    try:
        zone = ZoneInfo(tz)
        scores = holdout_csv(train, test, weather, out, zone=zone, holidays=_holidays(holidays))
    except (OSError, ValueError, ZoneInfoNotFoundError) as exc:
        typer.echo(f"baseline-fit: {exc}", err=True)
        raise typer.Exit(2) from None
    for s in scores:
        if s.error:
            typer.echo(f"{s.building_id}: {s.error}", err=True)
    passing = sum(s.passes_g14 for s in scores)
    typer.echo(f"{passing}/{len(scores)} building(s) pass Guideline 14 → {out}", err=True)
