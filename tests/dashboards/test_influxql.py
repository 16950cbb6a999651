"""Every InfluxQL query of every dashboard, run against a real influxd holding two simulated days
of a small territory (ingested by the real pipeline), must return data.

Grafana itself cannot run here: tests/dashboards/grafana.py redoes its variable queries and its
substitution ($timeFilter, $__interval, the variables) before each query goes to InfluxDB.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboards.conftest import Filled
from tests.dashboards.grafana import (
    Influx,
    choose_values,
    dashboards,
    in_regex,
    substitute,
    targets,
)
from tests.dashboards.territory import END, START

DASHBOARDS = dashboards()
CASES = [
    pytest.param(uid, title, target, id=f"{uid}:{title}")
    for uid, d in DASHBOARDS.items()
    for title, target in targets(d, "influxdb")
]


@pytest.fixture(scope="module")
def influx(filled: Filled) -> Iterator[Influx]:
    client = Influx(filled.url, filled.database)
    yield client
    client.close()


@pytest.fixture(scope="module")
def values(influx: Influx) -> dict[str, dict[str, str]]:
    """Per dashboard, its variables as Grafana first shows them, from the simulated data."""
    return {uid: choose_values(d, influx, START, END) for uid, d in DASHBOARDS.items()}


def test_every_dashboard_has_influxql_panels() -> None:
    assert {uid for uid, _, _ in (c.values for c in CASES)} == set(DASHBOARDS)


@pytest.mark.parametrize(("uid", "title", "target"), CASES)
def test_the_panel_query_returns_data(
    uid: str,
    title: str,
    target: dict[str, Any],
    influx: Influx,
    values: dict[str, dict[str, str]],
) -> None:
    q = substitute(target["query"], in_regex(values[uid]), START, END)
    series = influx.query(q)
    assert series, f"no series for {title!r}: {q}"
    points = [row for s in series for row in s["values"] if any(v is not None for v in row[1:])]
    assert points, f"only nulls for {title!r}: {q}"
