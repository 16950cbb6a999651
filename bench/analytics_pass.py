"""One analytics pass per tenant, on each store: what a runner that holds a tenant spends on it.

The sample territory is simulated for ``--days`` (a replay file, ChirpStack JSON), ingested into a
SQLite store and into a private influxd (Debian's influxdb package), each with its own SQLite
state store and the territory's registry. Then, per store and per tenant, the detector watch the
runner uses (every detector, the runner's default settings) is timed twice:

- catch-up: the first pass, no checkpoint: every detector reads its whole lookback, as after an
  outage or when a runner takes over a tenant without state;
- steady: the pass an hour later, from the checkpoint the first pass left (one new hour).

Nothing is applied to the alert engine: the watch's own cost is what a runner's share adds up.
Prints a table and writes bench/results/analytics_pass.json.

    .venv/bin/python bench/analytics_pass.py [--days 35] [--seed 1] [--influx-url URL]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.services import Services  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.config import (  # noqa: E402
    InfluxSettings,
    Settings,
    StateSettings,
    StoreSettings,
)
from core.state.models import Tenant  # noqa: E402
from core.state.registry_io import import_registry  # noqa: E402
from core.stores.influx import InfluxStore  # noqa: E402
from simulator.output import read_replay  # noqa: E402
from simulator.territory_file import SAMPLE_TERRITORY, load_territory, write_registry  # noqa: E402
from tests.services import InfluxServer  # noqa: E402
from vigie.replay_file import ingest_file  # noqa: E402
from vigie.wiring import build_detector_watch, build_pipeline, build_services  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "analytics_pass.json"
STEP = timedelta(hours=1)


def simulate(days: int, seed: int, start: datetime, out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "vigie", "simulate", "--days", str(days), "--seed", str(seed),
         "--start", start.strftime("%Y-%m-%dT%H:%M:%S"), "--out", str(out)],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def store_settings(name: str, root: Path, influx_url: str | None) -> StoreSettings:
    if name == "sqlite":
        return StoreSettings(backend="sqlite", sqlite_path=root / "timeseries.sqlite")
    assert influx_url is not None
    return StoreSettings(backend="influxdb", influxdb=InfluxSettings(url=influx_url, timeout_s=120))


def run_store(name: str, replay: Path, root: Path, influx_url: str | None) -> dict[str, Any]:
    settings = Settings(
        store=store_settings(name, root, influx_url),
        state=StateSettings(url=SecretStr(f"sqlite:///{root / f'state-{name}.sqlite'}")),
    )
    settings = settings.model_copy(
        update={"ingest": settings.ingest.model_copy(update={"spool_path": root / f"spool-{name}"})}
    )
    services = build_services(settings)
    try:
        if name != "sqlite":
            assert isinstance(services.store, InfluxStore)
            services.store.create_database()
        import_registry(services.state, write_registry(load_territory(), root / "registry.yaml"))

        def make(clock: ManualClock) -> Any:
            return build_pipeline(settings, Services(services.store, services.state, clock))

        t0 = time.perf_counter()
        outcome = ingest_file(replay, make)
        ingest_s = time.perf_counter() - t0
        print(
            f"{name}: {outcome.messages:,} messages, {outcome.stored:,} readings,"
            f" ingested in {ingest_s:.0f} s"
        )
        with services.state.session() as s:
            tenants = sorted(s.scalars(select(Tenant.code)))
        watch = build_detector_watch(settings, services)
        end = outcome_end(replay)
        rows: list[dict[str, Any]] = []
        catch_up_total = steady_total = 0.0
        for tenant in tenants:
            c0, t0 = time.process_time(), time.perf_counter()
            first = watch.run(end - STEP, None, {}, tenant)
            catch_up = (time.perf_counter() - t0, time.process_time() - c0)
            c0, t0 = time.process_time(), time.perf_counter()
            watch.run(end, end - STEP, dict(first.document), tenant)
            steady = (time.perf_counter() - t0, time.process_time() - c0)
            catch_up_total += catch_up[0]
            steady_total += steady[0]
            rows.append(
                {
                    "tenant": tenant,
                    "catch_up_s": round(catch_up[0], 2),
                    "catch_up_cpu_s": round(catch_up[1], 2),
                    "steady_s": round(steady[0], 3),
                    "steady_cpu_s": round(steady[1], 3),
                    "findings": len(first.findings),
                    "failed": sorted(first.failed),
                }
            )
            print(f"  {tenant:<28} catch-up {catch_up[0]:6.2f} s   steady {steady[0]:6.3f} s")
        return {
            "store": name,
            "messages": outcome.messages,
            "readings": outcome.stored,
            "ingest_s": round(ingest_s, 1),
            "tenants": rows,
            "catch_up_total_s": round(catch_up_total, 2),
            "steady_total_s": round(steady_total, 3),
        }
    finally:
        services.store.close()
        services.state.dispose()


def outcome_end(replay: Path) -> datetime:
    """The hour after the replay's last publish time: where the passes stand."""
    last = max(t for t, _, _ in read_replay(replay))
    return last.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + STEP


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=35, help="simulated days (water lookback: 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--stores", default="sqlite,influxdb")
    ap.add_argument("--influx-url", default=None, help="default: a private influxd")
    args = ap.parse_args()
    start = datetime(2026, 1, 5, tzinfo=UTC)
    results = []
    with tempfile.TemporaryDirectory(prefix="vigie-analytics-pass-") as tmp:
        root = Path(tmp)
        replay = root / "replay.jsonl"
        t0 = time.perf_counter()
        simulate(args.days, args.seed, start, replay)
        print(
            f"simulated {args.days} days of {SAMPLE_TERRITORY.name}"
            f" in {time.perf_counter() - t0:.0f} s"
        )
        server = None
        url = args.influx_url
        stores = args.stores.split(",")
        if "influxdb" in stores and url is None:
            server = InfluxServer(root / "influxd")
            server.start()
            url = server.url
        try:
            for name in stores:
                results.append(run_store(name, replay, root, url))
        finally:
            if server is not None:
                server.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"\n{args.days} days of the sample territory, seed {args.seed}; peak RSS {rss} MB")
    print(
        f"{'store':<10} {'tenants':>7} {'catch-up total s':>17} {'max s':>7} {'steady total s':>15}"
    )
    for r in results:
        worst = max(t["catch_up_s"] for t in r["tenants"])
        print(
            f"{r['store']:<10} {len(r['tenants']):>7} {r['catch_up_total_s']:>17} {worst:>7} "
            f"{r['steady_total_s']:>15}"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"days": args.days, "seed": args.seed, "results": results}, indent=2)
    )
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
