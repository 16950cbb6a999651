"""Tenant lease benchmark: what a claim costs analytics runners that share the tenants.

For each (tenants, runners) case, on a throwaway PostgreSQL database: registers the tenants, then
plays passes one interval apart, every runner claiming in turn (as their passes interleave), and
reports the claim's latency (p50, p99), how many rounds it took until every tenant was held once
with shares within one of each other, and after one runner dies (stops claiming), how many rounds
until its tenants are all held again (its leases must run out first: TTL = 3 intervals). A last
round has every runner claim at the same instant from its own thread, to see the lock's queue.
Prints a table and writes bench/results/tenant_leases.json.

    .venv/bin/python bench/tenant_leases.py [--cases 100x2,1000x4,10000x8] [--postgres-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.registry_import import DEFAULT_POSTGRES_URL, postgres_database
from core.state.leases import TenantLeases
from core.state.models import Tenant
from core.state.store import StateStore

RESULTS = Path(__file__).parent / "results" / "tenant_leases.json"
T0 = datetime(2026, 12, 7, tzinfo=UTC)
INTERVAL = timedelta(minutes=5)
TTL = 3 * INTERVAL


def _balanced(held: dict[str, tuple[str, ...]], tenants: int) -> bool:
    every = [t for ts in held.values() for t in ts]
    sizes = [len(ts) for ts in held.values()]
    return len(every) == len(set(every)) == tenants and max(sizes) - min(sizes) <= 1


def run_case(url: str, tenants: int, runners: int) -> dict[str, Any]:
    state = StateStore(url)
    state.migrate()
    with state.session() as s:
        s.execute(
            sa.insert(Tenant),
            [{"code": f"t{i:05d}", "name": f"T {i}", "kind": "commune"} for i in range(tenants)],
        )
    stores = [StateStore(url) for _ in range(runners)]
    leases = [TenantLeases(s, f"runner-{n:02d}", TTL) for n, s in enumerate(stores)]
    latencies_ms: list[float] = []
    now = T0
    held: dict[str, tuple[str, ...]] = {}

    def round_of(live: list[TenantLeases]) -> None:
        nonlocal now
        now += INTERVAL
        for lease in live:
            began = time.perf_counter()
            held[lease.name] = lease.claim(now).tenants
            latencies_ms.append((time.perf_counter() - began) * 1000)

    converged = 0
    while not _balanced(held, tenants):
        round_of(leases)
        converged += 1
    dead, live = leases[-1], leases[:-1]
    del held[dead.name]
    taken_over = 0
    while not _balanced(held, tenants):
        round_of(live)
        taken_over += 1
    # Every live runner at the same instant, each from its own thread.
    now += INTERVAL
    start = threading.Barrier(len(live))
    together_ms: list[float] = []

    def claim(lease: TenantLeases) -> None:
        start.wait()
        began = time.perf_counter()
        lease.claim(now)
        together_ms.append((time.perf_counter() - began) * 1000)

    threads = [threading.Thread(target=claim, args=(lease,)) for lease in live]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for s in (*stores, state):
        s.dispose()
    latencies_ms.sort()
    return {
        "tenants": tenants,
        "runners": runners,
        "claims": len(latencies_ms),
        "claim_p50_ms": round(statistics.median(latencies_ms), 1),
        "claim_p99_ms": round(latencies_ms[int(0.99 * (len(latencies_ms) - 1))], 1),
        "rounds_to_balance": converged,
        "rounds_to_take_over": taken_over,
        "simultaneous_max_ms": round(max(together_ms), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="100x2,1000x4,10000x8", help="tenantsxrunners,...")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("VIGIE_BENCH_POSTGRES_URL")
        or os.environ.get("VIGIE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help="server to create a throwaway database on",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    results = []
    for case in args.cases.split(","):
        tenants, runners = (int(x) for x in case.split("x"))
        with postgres_database(args.postgres_url) as url:
            results.append(run_case(url, tenants, runners))
    print(
        f"{'tenants':>8} {'runners':>8} {'claims':>7} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'balanced':>9} {'taken over':>11} {'at once ms':>11}"
    )
    for r in results:
        print(
            f"{r['tenants']:>8} {r['runners']:>8} {r['claims']:>7} {r['claim_p50_ms']:>7} "
            f"{r['claim_p99_ms']:>7} {r['rounds_to_balance']:>9} {r['rounds_to_take_over']:>11} "
            f"{r['simultaneous_max_ms']:>11}"
        )
    print("balanced / taken over: rounds (5-min passes; leases live 3 passes)")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": "tenant_leases",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "load_average": os.getloadavg(),
        "results": results,
    }
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
