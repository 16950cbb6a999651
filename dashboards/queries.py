"""Panel queries the foundation SDK has no builder for: InfluxQL (InfluxDB) and JSON (Infinity)."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models.dashboard import DataSourceRef

# Datasource uids: the provisioning files create them, the dashboards refer to them.
INFLUX = DataSourceRef(type_val="influxdb", uid="vigie-influxdb")
API = DataSourceRef(type_val="yesoreyeram-infinity-datasource", uid="vigie-api")


class InfluxQL(cogvariants.Dataquery):
    """A raw InfluxQL query of Grafana's InfluxDB datasource (query language InfluxQL)."""

    def __init__(self, ref_id: str, query: str, result_format: str, alias: str | None) -> None:
        self.ref_id = ref_id
        self.query = query
        self.result_format = result_format
        self.alias = alias

    def to_json(self) -> dict[str, object]:
        payload: dict[str, object] = {
            "refId": self.ref_id,
            "datasource": INFLUX.to_json(),
            "rawQuery": True,
            "query": self.query,
            "resultFormat": self.result_format,
        }
        if self.alias is not None:
            payload["alias"] = self.alias
        return payload


class Influx(cogbuilder.Builder[InfluxQL]):
    """``Influx("SELECT …")``: a raw InfluxQL target; ``$timeFilter``, ``$__interval`` and the
    dashboard's variables are Grafana's to substitute."""

    def __init__(
        self, query: str, *, ref_id: str = "A", table: bool = False, alias: str | None = None
    ) -> None:
        self._query = InfluxQL(
            ref_id, " ".join(query.split()), "table" if table else "time_series", alias
        )

    def build(self) -> InfluxQL:
        return self._query


class InfinityJson(cogvariants.Dataquery):
    """A JSON query of the Infinity datasource: a path under the Vigie API's base URL, the part
    of the answer that holds the rows, and the columns taken from each row."""

    def __init__(
        self,
        ref_id: str,
        path: str,
        params: dict[str, str],
        root: str,
        columns: list[tuple[str, str, str]],
    ) -> None:
        self.ref_id = ref_id
        self.path = path
        self.params = params
        self.root = root
        self.columns = columns

    def to_json(self) -> dict[str, object]:
        options: dict[str, Any] = {
            "method": "GET",
            "params": [{"key": k, "value": v} for k, v in self.params.items()],
        }
        return {
            "refId": self.ref_id,
            "datasource": API.to_json(),
            "type": "json",
            "source": "url",
            "parser": "backend",
            "format": "table",
            "url": self.path,
            "url_options": options,
            "root_selector": self.root,
            "columns": [
                {"selector": s, "text": text, "type": kind} for s, text, kind in self.columns
            ],
        }


class Api(cogbuilder.Builder[InfinityJson]):
    """``Api("/api/v1/alerts", {...}, root="items", columns=[(selector, title, type)])``."""

    def __init__(
        self,
        path: str,
        params: dict[str, str],
        *,
        root: str,
        columns: list[tuple[str, str, str]],
        ref_id: str = "A",
    ) -> None:
        self._query = InfinityJson(ref_id, path, params, root, columns)

    def build(self) -> InfinityJson:
        return self._query


STATE = DataSourceRef(type_val="grafana-postgresql-datasource", uid="vigie-state")


class SqlQuery(cogvariants.Dataquery):
    """A raw SQL query of Grafana's PostgreSQL datasource, on Vigie's state store."""

    def __init__(self, ref_id: str, sql: str, fmt: str) -> None:
        self.ref_id = ref_id
        self.sql = sql
        self.fmt = fmt

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "datasource": STATE.to_json(),
            "editorMode": "code",
            "rawQuery": True,
            "rawSql": self.sql,
            "format": self.fmt,
        }


class Sql(cogbuilder.Builder[SqlQuery]):
    """``Sql("SELECT …")``: ``$__timeFilter(col)`` and ``$__timeGroupAlias(col, '1h')`` are
    Grafana's macros."""

    def __init__(self, sql: str, *, ref_id: str = "A", table: bool = True) -> None:
        self._query = SqlQuery(ref_id, " ".join(sql.split()), "table" if table else "time_series")

    def build(self) -> SqlQuery:
        return self._query
