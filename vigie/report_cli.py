"""`vigie report`: the sobriety strategy's portfolio report, and the OPERAT annual CSV."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from analytics.kpi.operat import operat_csv
from analytics.kpi.portfolio import PortfolioYear, portfolio_year
from analytics.kpi.report import render_report
from core.config import load_settings
from core.timeseries import StoreError, StoreUnavailable
from vigie import logs
from vigie.wiring import build_services

report_app = typer.Typer(
    help="Reports: the sobriety portfolio report (HTML) and the OPERAT annual CSV.",
    no_args_is_help=True,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="vigie.toml; settings also come from VIGIE_* variables"),
]
TenantOption = Annotated[
    str, typer.Option("--tenant", help="Tenant code: its buildings and its communes'")
]
YearOption = Annotated[int, typer.Option("--year", min=2010, max=2100, help="Calendar year")]
AsOfOption = Annotated[
    datetime | None,
    typer.Option(
        "--as-of",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"],
        help="Report as of this instant (UTC when no offset): a year in progress stops there; "
        "default now",
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _portfolio(
    config: Path | None, tenant: str, year: int, as_of: datetime | None
) -> PortfolioYear:
    settings = load_settings(config)
    logs.configure(json_lines=settings.log_json)
    services = build_services(settings)
    now = services.clock.now() if as_of is None else _utc(as_of)
    try:
        return portfolio_year(services.store, services.state, tenant, year, now, settings.kpi)
    except LookupError as exc:
        raise _fail(f"report: {exc}") from None
    except ValueError as exc:
        raise _fail(f"report: {exc}") from None
    except (StoreUnavailable, StoreError) as exc:
        raise _fail(f"report: the time-series store failed: {exc}", 1) from None
    finally:
        services.store.close()
        services.state.dispose()


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@report_app.command("sobriety")
def sobriety(
    tenant: TenantOption,
    year: YearOption,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="HTML file to write; default sobriete-TENANT-YEAR.html"),
    ] = None,
    operat: Annotated[
        Path | None, typer.Option("--operat", help="Also write the OPERAT annual CSV here")
    ] = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
) -> None:
    """The portfolio report for the sobriety strategy: one self-contained HTML file (charts
    included, nothing fetched, prints on A4) with the ranking of where to act first, the décret
    tertiaire trajectory, setpoint compliance and what changed since last year."""
    p = _portfolio(config, tenant, year, as_of)
    target = out or Path(f"sobriete-{tenant}-{year}.html")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render_report(p), encoding="utf-8")
    if operat is not None:
        operat.parent.mkdir(parents=True, exist_ok=True)
        years = sorted((b.current for b in p.buildings), key=lambda y: y.building.code)
        operat.write_bytes(operat_csv(years, p.settings.zone))
    partial = " (year in progress)" if p.partial else ""
    typer.echo(f"{len(p.buildings)} building(s), {p.year}{partial} → {target}", err=True)
