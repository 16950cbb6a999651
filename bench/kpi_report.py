"""Time the sobriety report of a territory: N buildings, two years of meter readings.

Usage: python bench/kpi_report.py [--buildings N] [--step-min M]
Each building has a Linky (HC and HP registers) and an indoor sensor every M minutes (10 by
default, as a Linky TIC reader reports) and an hourly gas pulse meter; one outdoor probe reports
hourly. The readings go into an embedded SQLite store; the bench then times the portfolio KPIs
(``portfolio_year``: every building's year and the year before, comfort, trajectory, ranking),
the HTML report and the OPERAT CSV. Prints a table of seconds and peak RSS and writes
bench/results/kpi_report.json. Target: the report of 18 buildings in under 30 s.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analytics.kpi.operat import operat_csv  # noqa: E402
from analytics.kpi.portfolio import portfolio_year  # noqa: E402
from analytics.kpi.report import render_report  # noqa: E402
from core.config import KpiSettings  # noqa: E402
from core.reading import Reading  # noqa: E402
from core.state.registry_io import import_registry  # noqa: E402
from core.state.store import StateStore  # noqa: E402
from core.stores.sqlite import SqliteStore  # noqa: E402

START = datetime(2023, 12, 24, tzinfo=UTC)
END = datetime(2026, 1, 8, tzinfo=UTC)
NOW = datetime(2026, 2, 10, tzinfo=UTC)
OUTDOOR = "a840410000f7ffff"


def registry(n: int) -> str:
    lines = [
        "tenants:",
        "  - {code: agglo, name: Agglo, kind: agglomeration}",
        "sites:",
        "  - {code: s, tenant: agglo, name: Site}",
        "buildings:",
    ]
    for k in range(n):
        lines.append(
            f"  - {{code: b{k:03d}, site: s, name: Bâtiment {k}, floor_area_m2: {800 + 100 * k},"
            f" activity_category: {('enseignement', 'bureaux', 'sport')[k % 3]},"
            " energy_carriers: [electricity, gas], holiday_zone: B,"
            " schedule: {mon: [08:00-18:00], tue: [08:00-18:00], thu: [08:00-18:00]}}"
        )
    lines += [
        "devices:",
        f'  - {{dev_eui: "{OUTDOOR}", tenant: agglo, codec_id: dragino/lht65, role: climate,'
        " site: s, parameters: {outdoor_temperature: ext}}",
    ]
    for k in range(n):
        for role, codec, eui in (
            ("energy_meter", "adeunis/tic-cbe-linky-mono", f"0018b20000{k:06x}"),
            ("gas_meter", "milesight-iot/em300-di", f"24e1240000{k:06x}"),
            ("climate", "milesight-iot/am307", f"24e1250000{k:06x}"),
        ):
            lines.append(
                f'  - {{dev_eui: "{eui}", tenant: agglo, codec_id: {codec}, role: {role},'
                f" building: b{k:03d}}}"
            )
    return "\n".join(lines) + "\n"


def write(store: SqliteStore, n: int, step_min: int) -> int:
    rng = np.random.default_rng(1)
    step = timedelta(minutes=step_min)
    steps = int((END - START) / step)
    times = [START + i * step for i in range(steps)]
    hours = np.arange(steps) * step_min / 60
    t_out = 11 - 8 * np.cos(2 * np.pi * (hours / 24 - 15) / 365) + rng.normal(0, 1.5, steps)
    hourly = range(0, steps, max(1, 60 // step_min))
    written = store.write(
        [Reading(times[i], OUTDOOR, "temperature_c", float(t_out[i]), "ext") for i in hourly]
    ).accepted
    for k in range(n):
        use = rng.uniform(0.5, 2.0, steps) * step_min / 60 * (4 + k % 5)
        heat = np.maximum(0, 16 - t_out) * step_min / 60 * (2 + k % 3)
        elec = np.cumsum(use)
        gas = np.cumsum(heat)
        batch = []
        for i, t in enumerate(times):
            batch.append(Reading(t, f"0018b20000{k:06x}", "energy_kwh", float(elec[i] * 0.3), "hc"))
            batch.append(Reading(t, f"0018b20000{k:06x}", "energy_kwh", float(elec[i] * 0.7), "hp"))
            batch.append(Reading(t, f"24e1250000{k:06x}", "temperature_c", 19.0 + rng.normal()))
        batch += [
            Reading(times[i], f"24e1240000{k:06x}", "energy_kwh", float(gas[i])) for i in hourly
        ]
        written += store.write(batch).accepted
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buildings", type=int, default=18)
    parser.add_argument("--step-min", type=int, default=10)
    args = parser.parse_args()
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        state = StateStore(f"sqlite:///{root / 'state.sqlite'}")
        state.migrate()
        (root / "registry.yaml").write_text(registry(args.buildings), encoding="utf-8")
        import_registry(state, root / "registry.yaml")
        store = SqliteStore(root / "series.sqlite")
        t = time.perf_counter()
        readings = write(store, args.buildings, args.step_min)
        rows.append(("write readings", time.perf_counter() - t))
        settings = KpiSettings(degree_day_normals=[300.0] * 6 + [50.0] * 6)
        t = time.perf_counter()
        p = portfolio_year(store, state, "agglo", 2025, NOW, settings)
        rows.append(("portfolio KPIs (2 years)", time.perf_counter() - t))
        t = time.perf_counter()
        html = render_report(p)
        rows.append(("HTML report", time.perf_counter() - t))
        t = time.perf_counter()
        operat_csv([b.current for b in p.buildings])
        rows.append(("OPERAT CSV", time.perf_counter() - t))
        store.close()
        state.dispose()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.buildings} buildings, {readings:,} readings, step {args.step_min} min")
    print(f"{'step':28s} {'seconds':>8s}")
    for name, seconds in rows:
        print(f"{name:28s} {seconds:8.2f}")
    print(f"{'peak RSS (MB)':28s} {rss_mb:8.0f}   report {len(html) / 1024:.0f} KiB")
    out = ROOT / "bench" / "results" / "kpi_report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "buildings": args.buildings,
                "readings": readings,
                "step_min": args.step_min,
                "seconds": dict(rows),
                "peak_rss_mb": round(rss_mb),
            },
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
