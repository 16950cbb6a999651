"""What Grafana does to a dashboard before a query leaves it, redone for the tests: the panels and
their targets, the variables' values, and the substitution of variables and macros."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from dashboards import JSON_DIR

GRAFANA_REGEX_SPECIALS = re.compile(r"([\\^$*+?.()|{}\[\]/])")
VARIABLE = re.compile(r"\$\{?[A-Za-z_]\w*")  # $tag_… is the legend alias, not a variable
INTERVAL = "10m"  # what Grafana picks for two days on a panel ~1 000 px wide


def dashboards() -> dict[str, dict[str, Any]]:
    """The committed dashboards, by uid."""
    out = {}
    for path in sorted(Path(JSON_DIR).glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        out[d["uid"]] = d
    return out


def targets(dashboard: Mapping[str, Any], datasource_type: str) -> list[tuple[str, dict[str, Any]]]:
    """(panel title, target) of every target of the given datasource type."""
    return [
        (panel["title"], target)
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if target["datasource"]["type"] == datasource_type
    ]


def substitute(text: str, values: Mapping[str, str], start: datetime, end: datetime) -> str:
    """Grafana's interpolation for InfluxQL and URLs: ``$timeFilter`` in epoch milliseconds,
    ``$__interval``, ``${__to:date:YYYY}``, then ``$name``/``${name}`` with the value given
    (already formatted for where it goes)."""
    start_ms, end_ms = int(start.timestamp() * 1000), int(end.timestamp() * 1000)
    text = text.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")
    text = text.replace("$__interval", INTERVAL)
    text = text.replace("${__to:date:YYYY}", f"{end.year}")
    for name in sorted(values, key=len, reverse=True):  # $site before $s…
        text = text.replace(f"${{{name}}}", values[name]).replace(f"${name}", values[name])
    left = [m for m in VARIABLE.findall(text) if not m.startswith("$tag_")]
    assert not left, f"unsubstituted {left} in {text!r}"
    return text


def regex_value(value: str) -> str:
    """A variable's value inside ``=~ /^…$/``, escaped as Grafana escapes it for InfluxDB; the
    "All" value (``.*``) goes in as is."""
    return value if value == ".*" else GRAFANA_REGEX_SPECIALS.sub(r"\\\1", value)


class Influx:
    """InfluxQL over the HTTP API, as Grafana's datasource sends it (GET, epoch=ms)."""

    def __init__(self, url: str, database: str) -> None:
        self._client = httpx.Client(base_url=url, timeout=30)
        self._db = database

    def query(self, q: str) -> list[dict[str, Any]]:
        """The series of the one statement; an InfluxDB error fails the test."""
        r = self._client.get("/query", params={"db": self._db, "q": q, "epoch": "ms"})
        r.raise_for_status()
        [result] = r.json()["results"]
        assert "error" not in result, f"{result['error']}\n{q}"
        series: list[dict[str, Any]] = result.get("series", [])
        return series

    def tag_values(self, q: str) -> list[str]:
        return sorted({row[1] for s in self.query(q) for row in s["values"]})

    def close(self) -> None:
        self._client.close()


def choose_values(
    dashboard: Mapping[str, Any], influx: Influx, start: datetime, end: datetime
) -> dict[str, str]:
    """The variables as a user first sees them: each query run in order (each narrowed by the
    ones before); a single-value variable takes the first value, an "All" one its all-value.
    Every variable must offer at least one value. The values are raw: see ``in_regex``."""
    chosen: dict[str, str] = {}
    for v in dashboard["templating"]["list"]:
        options = influx.tag_values(substitute(v["query"], in_regex(chosen), start, end))
        assert options, f"variable {v['name']} of {dashboard['uid']} has no value"
        chosen[v["name"]] = v["allValue"] if v.get("includeAll") else options[0]
    return chosen


def in_regex(values: Mapping[str, str]) -> dict[str, str]:
    """The values as Grafana writes them into an InfluxQL regex."""
    return {k: regex_value(v) for k, v in values.items()}
