"""What every Vigie dashboard shares: zone, time range, the tenant/site/building variables, and
panel shorthands that number panels and lay them out on Grafana's 24-column grid."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.builders import stat, table, timeseries
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import BarAlignment, GraphDrawStyle
from grafana_foundation_sdk.models.dashboard import (
    VariableModel,
    VariableOption,
    VariableRefresh,
    VariableSort,
)

from dashboards.queries import API, INFLUX, STATE, Api, Influx, Sql

TIMEZONE = "Europe/Paris"  # the territory's zone: day buckets and axes follow it
ALL = ".*"  # "All" as a regex, so that series without the tag (households, stations) match too

# InfluxQL filters on the registry tags the store writes (docs/decisions/001-time-series-layout.md).
TENANT = '"tenant" =~ /^$tenant$/'
PLACE = f'{TENANT} AND "site" =~ /^$site$/ AND "building" =~ /^$building$/'
AREA = f'{TENANT} AND "area" =~ /^$area$/'


def _variable(name: str, label: str, query: str, *, all_: bool) -> db.QueryVariable:
    v = (
        db.QueryVariable(name)
        .label(label)
        .datasource(INFLUX)
        .query(query)
        .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(VariableSort.ALPHABETICAL_ASC)
    )
    if all_:
        v = v.multi(True).include_all(True).all_value(ALL)
        v = v.current(VariableOption(text="All", value="$__all", selected=True))
    return v


def variables(measurement: str, levels: tuple[str, ...]) -> list[cogbuilder.Builder[VariableModel]]:
    """``tenant`` (one: the API panels take one tenant), then each of ``levels`` (site, building,
    area) narrowed by the ones before, all from the tag values of ``measurement``."""
    m = f'FROM "{measurement}"'
    out: list[cogbuilder.Builder[VariableModel]] = [
        _variable("tenant", "Collectivité", f'SHOW TAG VALUES {m} WITH KEY = "tenant"', all_=False)
    ]
    where = [TENANT]
    labels = {"site": "Site", "building": "Bâtiment", "area": "Aire"}
    for level in levels:
        query = f'SHOW TAG VALUES {m} WITH KEY = "{level}" WHERE {" AND ".join(where)}'
        out.append(_variable(level, labels[level], query, all_=True))
        where.append(f'"{level}" =~ /^${level}$/')
    return out


class Board:
    """One dashboard under construction: panels get ids in order and flow on the grid."""

    def __init__(
        self, uid: str, title: str, description: str, measurement: str, levels: tuple[str, ...]
    ) -> None:
        self.builder = (
            db.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags(["vigie"])
            .timezone(TIMEZONE)
            .time("now-7d", "now")
            .refresh("5m")
            .variables(variables(measurement, levels))
        )
        self._next_id = 1

    def _add(self, panel: timeseries.Panel | stat.Panel | table.Panel, w: int, h: int) -> None:
        self.builder.with_panel(panel.id(self._next_id).span(w).height(h))
        self._next_id += 1

    def series(
        self,
        title: str,
        query: str,
        unit: str,
        *,
        w: int = 12,
        h: int = 8,
        alias: str | None = None,
        bars: bool = False,
    ) -> None:
        """A time series panel of one InfluxQL query; ``bars`` for totals per day."""
        p = (
            timeseries.Panel()
            .title(title)
            .datasource(INFLUX)
            .with_target(Influx(query, alias=alias))
            .unit(unit)
        )
        if bars:
            # A bar covers its bucket: InfluxDB stamps a bucket with its start.
            p = p.draw_style(GraphDrawStyle.BARS).bar_alignment(BarAlignment.AFTER)
            p = p.fill_opacity(80)
        self._add(p, w, h)

    def stat(self, title: str, query: str, unit: str, *, w: int = 6, h: int = 4) -> None:
        """One number (the query reduced to its last value)."""
        p = stat.Panel().title(title).datasource(INFLUX).with_target(Influx(query)).unit(unit)
        self._add(p, w, h)

    def table(self, title: str, query: str, *, w: int = 12, h: int = 8) -> None:
        """An InfluxQL result as a table (one row per series)."""
        p = table.Panel().title(title).datasource(INFLUX).with_target(Influx(query, table=True))
        self._add(p, w, h)

    def sql(
        self,
        title: str,
        sql: str,
        *,
        kind: str = "table",
        unit: str = "none",
        w: int = 12,
        h: int = 8,
    ) -> None:
        """A panel (table, stat or time series) of one SQL query on the state store."""
        p: timeseries.Panel | stat.Panel | table.Panel
        if kind == "series":
            p = timeseries.Panel().with_target(Sql(sql, table=False)).unit(unit)
        elif kind == "stat":
            p = stat.Panel().with_target(Sql(sql)).unit(unit)
        else:
            p = table.Panel().with_target(Sql(sql))
        self._add(p.title(title).datasource(STATE), w, h)

    def api_table(
        self,
        title: str,
        path: str,
        params: dict[str, str],
        *,
        root: str,
        columns: list[tuple[str, str, str]],
        w: int = 24,
        h: int = 8,
    ) -> None:
        """A table of rows of the Vigie API (through the Infinity datasource)."""
        p = (
            table.Panel()
            .title(title)
            .datasource(API)
            .with_target(Api(path, params, root=root, columns=columns))
        )
        self._add(p, w, h)

    def alerts(self, title: str, types: tuple[str, ...]) -> None:
        """The tenant's open alerts of these types, most recent first."""
        params = {"tenant": "${tenant}", "status": "open", "limit": "1000"}
        # Infinity sends repeated keys as given; the API takes ``type`` repeatedly.
        query_types = "&".join(f"type={t}" for t in types)
        self.api_table(
            title,
            f"/api/v1/alerts?{query_types}",
            params,
            root="items",
            columns=[
                ("opened_at", "Ouverte le", "timestamp"),
                ("title", "Alerte", "string"),
                ("severity", "Gravité", "string"),
                ("subject", "Objet", "string"),
                ("status", "État", "string"),
            ],
        )

    def build(self) -> dict[str, object]:
        """The dashboard as plain JSON data (the SDK's models turned into dicts and lists)."""
        text = json.dumps(self.builder.build(), cls=JSONEncoder)
        return dict(_without_nulls(json.loads(text)))


def _without_nulls(value: Any) -> Any:
    """Drop the SDK's unset (null) fields: Grafana then applies its own defaults."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
