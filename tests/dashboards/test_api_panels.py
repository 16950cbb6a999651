"""Every panel that reads the Vigie API (through Grafana's Infinity datasource) gets rows from
the real app, on the InfluxDB and SQLite stores the simulated territory was ingested into.

Grafana cannot run here: the test builds the request Infinity would send (the query's URL, its
parameters with the variables substituted) and applies its root selector and column selectors.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api.main import create_app
from core.state.api_keys import Role, create_key
from core.state.models import Tenant
from tests.dashboards.conftest import Filled, open_one_alert_per_type
from tests.dashboards.grafana import Influx, choose_values, dashboards, substitute, targets
from tests.dashboards.territory import END, START

DASHBOARDS = dashboards()
CASES = [
    pytest.param(uid, title, target, id=f"{uid}:{title}")
    for uid, d in DASHBOARDS.items()
    for title, target in targets(d, "yesoreyeram-infinity-datasource")
]
_MISSING = object()


@pytest.fixture(scope="module")
def values(filled: Filled) -> dict[str, dict[str, str]]:
    influx = Influx(filled.url, filled.database)
    try:
        return {uid: choose_values(d, influx, START, END) for uid, d in DASHBOARDS.items()}
    finally:
        influx.close()


@pytest.fixture(scope="module")
def client(filled: Filled, values: dict[str, dict[str, str]]) -> Iterator[TestClient]:
    for tenant in {v["tenant"] for v in values.values()}:
        open_one_alert_per_type(filled.services, tenant)
    # The Infinity datasource sends one key ($VIGIE_API_KEY): a viewer of the agglomeration,
    # which reads its communes' objects and changes nothing.
    with filled.services.state.session() as session:
        top = session.scalars(
            sa.select(Tenant.code).where(Tenant.parent_id.is_(None)).order_by(Tenant.id)
        ).first()
        assert top is not None
        _, secret = create_key(session, "grafana", Role.VIEWER, top, END)
    with TestClient(
        create_app(filled.services), headers={"Authorization": f"Bearer {secret}"}
    ) as c:
        yield c


def url_of(target: dict[str, Any], values: dict[str, str]) -> str:
    """The URL Infinity requests: the query's path (it may carry a query string) and params."""
    path = substitute(target["url"], values, START, END)
    params = {
        p["key"]: substitute(p["value"], values, START, END)
        for p in target["url_options"]["params"]
    }
    if not params:
        return path
    return f"{path}{'&' if '?' in path else '?'}{urlencode(params)}"


def select(row: Any, selector: str) -> Any:
    """A dotted selector (``building.name``) in one row; an empty selector is the row itself."""
    for key in filter(None, selector.split(".")):
        if not isinstance(row, dict) or key not in row:
            return _MISSING
        row = row[key]
    return row


def test_every_api_panel_is_found() -> None:
    assert len(CASES) >= 8


@pytest.mark.parametrize(("uid", "title", "target"), CASES)
def test_the_panel_gets_rows_from_the_api(
    uid: str,
    title: str,
    target: dict[str, Any],
    client: TestClient,
    values: dict[str, dict[str, str]],
) -> None:
    url = url_of(target, values[uid])
    r = client.get(url)
    assert r.status_code == 200, f"{url}: {r.text[:300]}"
    rows = select(r.json(), target["root_selector"])
    assert isinstance(rows, list) and rows, f"no rows for {title!r} at {url}"
    for column in target["columns"]:
        assert all(select(row, column["selector"]) is not _MISSING for row in rows), column
    query = parse_qs(urlsplit(url).query)
    if "type" in query:  # an alert panel: only its types, of the tenant chosen, open
        assert {row["type"] for row in rows} <= set(query["type"])
        assert {row["tenant"] for row in rows} == {values[uid]["tenant"]}
        assert {row["status"] for row in rows} == {"open"}


def test_the_analytics_pass_on_the_simulated_days_ran(filled: Filled) -> None:
    """The alerts come from the real engine; what the pass itself opened is printed."""
    print(f"\nopened by the analytics pass: {dict(filled.raised)}; letters: {dict(filled.letters)}")
    assert filled.letters["unknown_device"] > 0  # the simulator's faults reached dead letters
