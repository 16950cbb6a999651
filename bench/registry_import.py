"""Registry bulk import benchmark: 100,000 devices from CSV into SQLite and PostgreSQL.

Generates a seeded, deterministic territory (one agglomeration, 40 communes, their sites and
buildings, 20 water sectors, N devices) as CSV files, then for each backend times three imports
of the same directory: the first (inserts), the same files again (nothing changes), and files where
10 % of the devices changed (updates). Prints a table and writes bench/results/registry_import.json.

    .venv/bin/python bench/registry_import.py [--devices 100000] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from core.state.registry_io import import_registry
from core.state.store import StateStore

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
RESULTS = Path(__file__).parent / "results" / "registry_import.json"
COMMUNES = 40
SECTORS = 20
ROLES = [  # (role, codec, share of the fleet)
    ("water_meter", "axioma/qalcosonic-w1", 0.90),
    ("energy_meter", "adeunis/tic-cbe-linky-mono", 0.04),
    ("climate", "milesight-iot/am307", 0.04),
    ("leak_probe", "dragino/lwl02", 0.02),
]


def _write(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def generate(directory: Path, devices: int, seed: int, changed_share: float = 0.0) -> None:
    """Write tenants/sites/buildings/sectors/devices CSVs; ``changed_share`` of devices renamed."""
    rng = random.Random(seed)
    communes = [f"commune-{i:02d}" for i in range(COMMUNES)]
    _write(
        directory / "tenants.csv",
        ["code", "name", "kind", "insee", "parent"],
        [["agglo", "Agglomération de démonstration", "agglomeration", "", ""]]
        + [[c, f"Commune n°{i}", "commune", f"59{i:03d}", "agglo"] for i, c in enumerate(communes)],
    )
    sites = [(f"site-{i:03d}", communes[i % COMMUNES]) for i in range(5 * COMMUNES)]
    _write(
        directory / "sites.csv",
        ["code", "tenant", "name", "latitude", "longitude"],
        [
            [code, tenant, f"Site {code}", round(50 + rng.random(), 6), round(3 + rng.random(), 6)]
            for code, tenant in sites
        ],
    )
    buildings = [(f"building-{i:03d}", sites[i // 2][0]) for i in range(2 * len(sites))]
    _write(
        directory / "buildings.csv",
        ["code", "site", "name", "floor_area_m2", "energy_carriers", "holiday_zone", "mon"],
        [
            [code, site, f"Bâtiment {code}", rng.randint(200, 5000), "electricity gas", "B",
             "08:00-12:00 13:30-17:00"]
            for code, site in buildings
        ],
    )  # fmt: skip
    _write(
        directory / "sectors.csv",
        ["code", "tenant", "name", "network_length_km"],
        [
            [f"sector-{i:02d}", "agglo", f"Secteur {i}", rng.randint(10, 120)]
            for i in range(SECTORS)
        ],
    )
    euis: set[str] = set()
    while len(euis) < devices:
        euis.add(f"{rng.getrandbits(64):016x}")
    # A separate generator: the changed files differ from the first ones only in these names.
    changed = set(random.Random(seed + 1).sample(sorted(euis), int(devices * changed_share)))
    rows = []
    weights = [share for _, _, share in ROLES]
    for eui in sorted(euis):
        role, codec, _ = rng.choices(ROLES, weights)[0]
        commune = rng.choice(communes)
        name = f"Compteur {eui[-6:]}" + (" (remplacé)" if eui in changed else "")
        if role == "water_meter":
            sector, building = f"sector-{rng.randrange(SECTORS):02d}", ""
        else:
            sector, building = "", rng.choice(buildings)[0]
        rows.append([eui, commune, name, codec, role, building, sector, 86400])
    header = ["dev_eui", "tenant", "name", "codec_id", "role", "building", "sector", "heartbeat_s"]
    _write(directory / "devices.csv", header, rows)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A throwaway database on the server, dropped afterwards."""
    url = make_url(server_url)
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"vigie_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def run_backend(name: str, url: str, first: Path, updated: Path) -> list[dict[str, Any]]:
    store = StateStore(url)
    store.migrate()
    results = []
    for phase, directory in (("insert", first), ("unchanged", first), ("update 10%", updated)):
        report = import_registry(store, directory)
        devices = report.counts["devices"]
        results.append(
            {
                "backend": name,
                "phase": phase,
                "rows": report.rows,
                "devices": devices.total,
                "inserted": sum(c.inserted for c in report.counts.values()),
                "updated": sum(c.updated for c in report.counts.values()),
                "unchanged": sum(c.unchanged for c in report.counts.values()),
                "seconds": round(report.elapsed_s, 3),
                "rows_per_s": round(report.rows / report.elapsed_s),
            }
        )
    store.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20250106)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VIGIE_BENCH_POSTGRES_URL")
        or os.environ.get("VIGIE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create a throwaway database on",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()

    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="vigie-bench-") as tmp:
        first, updated = Path(tmp, "first"), Path(tmp, "updated")
        first.mkdir()
        updated.mkdir()
        generate(first, args.devices, args.seed)
        generate(updated, args.devices, args.seed, changed_share=0.10)
        for backend in args.backends.split(","):
            if backend == "sqlite":
                results += run_backend(backend, f"sqlite:///{tmp}/state.sqlite", first, updated)
            elif backend == "postgresql":
                with postgres_database(args.postgres_url) as url:
                    results += run_backend(backend, url, first, updated)
            else:
                parser.error(f"unknown backend {backend!r}")

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = f"{'backend':<11} {'phase':<11} {'rows':>8} {'inserted':>9} {'updated':>8} "
    header += f"{'unchanged':>9} {'seconds':>8} {'rows/s':>8}"
    print(header)
    for r in results:
        print(
            f"{r['backend']:<11} {r['phase']:<11} {r['rows']:>8} {r['inserted']:>9} "
            f"{r['updated']:>8} {r['unchanged']:>9} {r['seconds']:>8.2f} {r['rows_per_s']:>8}"
        )
    print(f"peak RSS {rss_mib:.0f} MiB")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "registry_import",
        "devices": args.devices,
        "seed": args.seed,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "peak_rss_mib": round(rss_mib),
        "results": results,
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
