"""`vigie analytics energy-anomalies`: sustained deviations of hourly meters from their baseline."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import typer

from analytics.energy.deviation import DeviationParams, MeterDeviation, State, score_meter
from analytics.energy.hourly_file import (
    HourlyFileError,
    read_energy_csv,
    read_weather_csv,
    temperature_on,
)
from core.calendar import DayKind, FrenchCalendar
from core.config import DEFAULT_ZONE
from core.csv_cells import safe_cell

SCORE_COLUMNS = ("building_id", "timestamp", "score", "is_anomaly", "expected_kwh", "state")
EVENT_COLUMNS = (
    "building_id",
    "onset",
    "detected_at",
    "end",
    "direction",
    "level_shift",
    "excess_kwh",
    "excess_eur",
    "peak_score",
)
STATE_NAMES = {s.value: s.name.lower() for s in State}


def _utc(t: np.datetime64) -> str:
    return f"{np.datetime_as_string(t.astype('datetime64[s]'), unit='s')}Z"


def _number(x: float, digits: int) -> str:
    return f"{x:.{digits}f}" if math.isfinite(x) else ""


def write_scores(rows: list[tuple[str, MeterDeviation]], out: Path) -> None:
    """One line per building and hour: ``building_id,timestamp,score,is_anomaly,…``."""
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SCORE_COLUMNS)
        for building, dev in rows:
            name = safe_cell(building)
            for i, t in enumerate(dev.hours):
                w.writerow(
                    [
                        name,
                        _utc(t),
                        _number(float(dev.score[i]), 3),
                        "true" if dev.anomalous[i] else "false",
                        _number(float(dev.expected_kwh[i]), 3),
                        STATE_NAMES[int(dev.state[i])],
                    ]
                )


def write_events(rows: list[tuple[str, MeterDeviation]], out: Path) -> None:
    """One line per event: onset, when it was known, end (empty while it runs), excess kWh, €."""
    with out.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(EVENT_COLUMNS)
        for building, dev in rows:
            for e in dev.events:
                w.writerow(
                    [
                        safe_cell(building),
                        _utc(e.onset),
                        _utc(e.detected_at),
                        "" if e.end is None else _utc(e.end),
                        "excess" if e.direction > 0 else "drop",
                        "true" if e.level_shift else "false",
                        _number(e.excess_kwh, 1),
                        _number(e.excess_eur, 2),
                        _number(e.peak_score, 2),
                    ]
                )


def _french_public_holiday(calendar: FrenchCalendar) -> Callable[[date], bool]:
    def holiday(day: date) -> bool:
        return calendar.day_kind(day) is DayKind.PUBLIC_HOLIDAY

    return holiday


def energy_anomalies(
    readings: Annotated[
        Path,
        typer.Option(
            help="CSV `building_id,timestamp,kwh`: hourly, UTC; empty or runs of zeros = missing",
            dir_okay=False,
        ),
    ],
    weather: Annotated[
        Path,
        typer.Option(help="CSV `timestamp,temperature_c`: outdoor, hourly or finer, UTC"),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Scores CSV to write: `building_id,timestamp,score,is_anomaly,expected_kwh,state`"
        ),
    ],
    tz: Annotated[
        str, typer.Option("--tz", help="The buildings' zone: their local week (IANA name)")
    ] = DEFAULT_ZONE,
    events: Annotated[
        Path | None,
        typer.Option(help="Also write the events: onset, detected_at, end, excess kWh and €"),
    ] = None,
    price: Annotated[float, typer.Option(help="€ per kWh, for the excess of an event")] = 0.20,
    french_holidays: Annotated[
        bool,
        typer.Option(help="French public holidays count as Sundays in the buildings' week"),
    ] = True,
) -> None:
    """Sustained deviations of each building from its own baseline, hour by hour.

    The detector learns from the earlier part of the file as it would in production: at the
    start of each UTC month it refits the baseline (time of week + temperature) on the trailing
    12 months, so the score of an hour never depends on later data. `score` is signed (excess
    above zero, an unexplained drop below), empty while the detector learns (its first 150 days)
    or where the baseline does not hold (`state` says which); `is_anomaly` marks the hours of
    events. Timestamps are hour starts, UTC."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        typer.echo(f"energy-anomalies: unknown time zone {tz!r}", err=True)
        raise typer.Exit(2) from None
    if not price >= 0:
        typer.echo("energy-anomalies: --price must be >= 0", err=True)
        raise typer.Exit(2)
    try:
        energy = read_energy_csv(readings)
        w_hours, w_temp = read_weather_csv(weather)
    except (OSError, HourlyFileError) as exc:
        typer.echo(f"energy-anomalies: {exc}", err=True)
        raise typer.Exit(2) from None
    temperature = temperature_on(energy.hours, w_hours, w_temp)
    params = DeviationParams(price_eur_per_kwh=price)
    holidays = _french_public_holiday(FrenchCalendar()) if french_holidays else None
    scored = [
        (
            b,
            score_meter(
                energy.hours,
                energy.row(b),
                temperature,
                zone=zone,
                params=params,
                holidays=holidays,
            ),
        )
        for b in energy.building_ids
    ]
    write_scores(scored, out)
    if events is not None:
        write_events(scored, events)
    n_events = sum(len(dev.events) for _, dev in scored)
    flagged = sum(int(dev.anomalous.sum()) for _, dev in scored)
    typer.echo(
        f"{len(scored)} building(s), {n_events} event(s), {flagged} anomalous hour(s) → {out}",
        err=True,
    )
