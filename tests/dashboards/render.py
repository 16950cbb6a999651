"""Picture a dashboard from its JSON, for the docs: ``python -m tests.dashboards.render``.

Not Grafana's rendering (no Grafana runs here): Vigie runs each panel's query, as the tests do,
against a private influxd holding the tests' simulated days and the real API (alerts: only what
the analytics pass opened), and draws the results with matplotlib at the panels' grid positions.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from fastapi.testclient import TestClient

from api.main import create_app
from api.services import Services
from core.clock import ManualClock
from core.config import Settings
from core.state.store import StateStore
from core.stores.influx import InfluxStore
from tests.dashboards.grafana import (
    Influx,
    choose_values,
    dashboards,
    in_regex,
    substitute,
)
from tests.dashboards.territory import END, NOW, START, fill
from tests.dashboards.test_api_panels import select, url_of
from tests.services import InfluxServer
from vigie.wiring import build_runner

PARIS = ZoneInfo("Europe/Paris")
SCREENS = Path(__file__).parents[2] / "docs" / "screens"
UNITS = {
    "kwatth": "kWh",
    "m3": "m³",
    "celsius": "°C",
    "percent": "%",
    "lengthm": "m",
    "dBm": "dBm",
    "dB": "dB",
    "volt": "V",
    "amp": "A",
    "voltamp": "VA",
    "ppm": "ppm",
}
ROW_PX = 30  # Grafana's grid row


def _unit(panel: dict[str, Any]) -> str:
    return UNITS.get(panel.get("fieldConfig", {}).get("defaults", {}).get("unit", ""), "")


def _label(alias: str | None, tags: dict[str, str]) -> str:
    text = alias or " ".join(tags.values())
    for k, v in tags.items():
        text = text.replace(f"$tag_{k}", v)
    return text


def _draw_table(ax: Any, header: list[str], rows: list[list[str]]) -> None:
    ax.axis("off")
    if not rows:
        ax.text(0.02, 0.8, "aucune ligne", fontsize=9, color="grey")
    else:
        t = ax.table(cellText=rows[:8], colLabels=header, loc="upper center", cellLoc="left")
        t.auto_set_font_size(False)
        t.set_fontsize(7)
        t.scale(1, 1.15)


def draw(
    ax: Any, panel: dict[str, Any], influx: Influx, api: TestClient, values: dict[str, str]
) -> None:
    ax.set_title(panel["title"], fontsize=9, loc="left")
    target = panel["targets"][0]
    if target["datasource"]["type"] == "grafana-postgresql-datasource":
        ax.axis("off")  # the drawing runs on SQLite: Grafana's PostgreSQL macros do not apply
        ax.text(0.02, 0.8, "(SQL sur PostgreSQL : non dessiné ici)", fontsize=9, color="grey")
        return
    if target["datasource"]["type"] != "influxdb":
        r = api.get(url_of(target, values)).json()
        rows = select(r, target["root_selector"])
        cols = target["columns"]
        cells = [[str(select(row, c["selector"]))[:32] for c in cols] for row in rows]
        _draw_table(ax, [c["text"] for c in cols], cells)
        return
    series = influx.query(substitute(target["query"], in_regex(values), START, END))
    unit = _unit(panel)
    if panel["type"] == "stat":
        ax.axis("off")
        vals = [row[1] for s in series for row in s["values"] if row[1] is not None]
        value = vals[-1] if vals else float("nan")
        if panel["fieldConfig"]["defaults"].get("unit") == "percentunit":
            value, unit = value * 100, "%"
        ax.text(0.5, 0.35, f"{value:,.1f} {unit}".replace(",", " "), ha="center", fontsize=18)
    elif panel["type"] == "table":
        header = ["time", *series[0].get("tags", {}), series[0]["columns"][1]] if series else []
        cells = []
        for s in series:
            for t, v in s["values"]:
                when = datetime.fromtimestamp(t / 1000, UTC).astimezone(PARIS)
                cells.append([f"{when:%d/%m %H:%M}", *s.get("tags", {}).values(), f"{v:.2f}"])
        _draw_table(ax, header, sorted(cells))
    else:
        bars = panel["fieldConfig"]["defaults"].get("custom", {}).get("drawStyle") == "bars"
        shown = series[:12]
        for k, s in enumerate(shown):
            pts = [(t, v) for t, v in s["values"] if v is not None]
            times = [datetime.fromtimestamp(t / 1000, UTC) for t, _ in pts]
            label = _label(target.get("alias"), s.get("tags", {})) or panel["title"]
            if bars:  # a day wide, side by side, from the bucket's start
                width = 0.8 / len(shown)
                left = [float(mdates.date2num(t)) + k * width for t in times]
                ax.bar(left, [v for _, v in pts], width=width, align="edge", label=label)
            else:
                ax.plot(times, [v for _, v in pts], lw=1, label=label)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d/%m %Hh", tz=PARIS))
        ax.tick_params(labelsize=7)
        ax.set_ylabel(unit, fontsize=8)
        if series:
            ax.legend(fontsize=6, loc="upper left", ncols=3)
        ax.grid(alpha=0.3)


def render(uid: str, influx: Influx, api: TestClient, out: Path, tenant: str | None) -> None:
    d = dashboards()[uid]
    values = choose_values(d, influx, START, END)
    if tenant is not None:
        values["tenant"] = tenant
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in d["panels"])
    width_in = 16.0
    fig = plt.figure(figsize=(width_in, rows * ROW_PX / 1400 * width_in + 0.8))
    top = 1 - 0.8 / fig.get_figheight()
    fig.suptitle(
        f"{d['title']} — {', '.join(f'{k}={v}' for k, v in values.items())}\n"
        "rendered by Vigie from the dashboard JSON (query results drawn with matplotlib), "
        "not by Grafana",
        fontsize=10,
        y=0.995,
    )
    for p in d["panels"]:
        g = p["gridPos"]
        x0, y0 = g["x"] / 24, top - (g["y"] + g["h"]) / rows * top
        ax = fig.add_axes((x0 + 0.03, y0 + 0.02, g["w"] / 24 - 0.04, g["h"] / rows * top - 0.05))
        draw(ax, p, influx, api, values)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main(specs: list[str]) -> None:
    """Each spec is a dashboard uid, optionally ``:tenant`` (else the first tenant)."""
    root = Path(tempfile.mkdtemp(prefix="vigie-render-"))
    server = InfluxServer(root / "influxd")
    server.start()
    store = InfluxStore(server.url, "vigie")
    store.create_database()
    state = StateStore(f"sqlite:///{root / 'state.sqlite'}")
    state.migrate()
    try:
        fill(root, store, state)
        services = Services(store=store, state=state, clock=ManualClock(NOW))
        build_runner(Settings(), services).tick()
        influx = Influx(server.url, "vigie")
        with TestClient(create_app(services)) as api:
            for spec in specs:
                uid, _, tenant = spec.partition(":")
                out = SCREENS / f"dashboard-{uid.removeprefix('vigie-')}.png"
                render(uid, influx, api, out, tenant or None)
                print(out)
        influx.close()
    finally:
        store.close()
        state.dispose()
        server.stop()


if __name__ == "__main__":
    main(
        sys.argv[1:]
        or ["vigie-building-energy:caudry", "vigie-water-network", "vigie-indoor-climate:caudry"]
    )
