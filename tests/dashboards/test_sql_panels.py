"""The dead-letter panels' SQL, with Grafana's macros expanded as its PostgreSQL datasource does,
returns rows from the real PostgreSQL state store the simulated frames were ingested into."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from tests.dashboards.conftest import Filled
from tests.dashboards.grafana import dashboards, targets
from tests.dashboards.territory import NOW, START

DASHBOARDS = dashboards()
CASES = [
    pytest.param(uid, title, target, id=f"{uid}:{title}")
    for uid, d in DASHBOARDS.items()
    for title, target in targets(d, "grafana-postgresql-datasource")
]
TIME_FILTER = re.compile(r"\$__timeFilter\((\w+)\)")
TIME_GROUP_ALIAS = re.compile(r"\$__timeGroupAlias\((\w+),\s*'(\d+)h'\)")


def expand(sql: str, start: datetime, end: datetime) -> str:
    """Grafana's PostgreSQL macros, as it expands them."""
    sql = TIME_FILTER.sub(
        lambda m: f"{m[1]} BETWEEN '{start:%Y-%m-%dT%H:%M:%SZ}' AND '{end:%Y-%m-%dT%H:%M:%SZ}'",
        sql,
    )
    sql = TIME_GROUP_ALIAS.sub(
        lambda m: (
            f'floor(extract(epoch from {m[1]})/{int(m[2]) * 3600})*{int(m[2]) * 3600} AS "time"'
        ),
        sql,
    )
    assert "$" not in sql, sql
    return sql


def test_there_are_dead_letter_panels() -> None:
    assert len(CASES) >= 3


@pytest.mark.parametrize(("uid", "title", "target"), CASES)
def test_the_panel_query_returns_rows(
    uid: str, title: str, target: dict[str, Any], filled: Filled
) -> None:
    # The dashboard ends "now": ingest stamped the letters with its clock's now.
    sql = expand(target["rawSql"], START, NOW + timedelta(minutes=1))
    engine = sa.create_engine(filled.state_url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(sql).all()
    finally:
        engine.dispose()
    assert rows, f"no rows for {title!r}: {sql}"
    assert all(v is not None for row in rows for v in row)
    if "GROUP BY reason" in sql:  # the letters by reason are the simulator's faults
        assert {r[0]: r[1] for r in rows} == dict(filled.letters)
