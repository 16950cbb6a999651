"""Hub-screen load benchmark: 500 requests/s for 60 s against /api/v1/parking/areas and a hub's
data document, with 200 carpool areas of 30 sensed spaces each.

The API runs in its own process (uvicorn, one worker, SQLite stores seeded with an hour of
occupancy frames, parking snapshots in the board's worker process as ``vigie api`` runs them, or
in the API's own with ``--in-process``); the load comes from this process, an open-loop asyncio
+ httpx client that starts a request every 1/rate seconds whatever the previous ones are doing
(a closed loop would hide queueing), over keep-alive connections written with asyncio streams
(a client that costs more per request than the server would measure itself). Requests alternate
between the two endpoints; a latency counts from when its request was due. Prints p50/p90/p99/
max latency and errors per endpoint, how late the client itself sent (its own noise, part of those
latencies; its garbage collector is off during the run), and writes bench/results/hub_load.json.

    .venv/bin/python bench/hub_load.py [--rate 500] [--seconds 60] [--areas 200] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import yaml

RESULTS = Path(__file__).parent / "results" / "hub_load.json"
SPACES = 30
HUB_AREAS = 6  # what one screen shows
HUB = "pole-bench"


def _registry(areas: int) -> dict[str, Any]:
    rows: dict[str, Any] = {
        "tenants": [
            {"code": "agglo", "name": "Agglomération de banc d'essai", "kind": "agglomeration"}
        ],
        "areas": [],
        "devices": [],
        "spaces": [],
        "hubs": [],
    }
    for a in range(areas):
        id_lieu = f"59{a // 100:03d}-C-{a % 100 + 1:03d}"
        rows["areas"].append(
            {
                "id_lieu": id_lieu,
                "tenant": "agglo",
                "nom_lieu": f"Aire n°{a + 1}",
                "insee": f"59{a // 100:03d}",
                "type": "Aire de covoiturage",
                "xlong": 3.4 + a / 1000,
                "ylat": 50.1,
                "nbre_pl": SPACES,
                "nbre_pmr": 2,
            }
        )
        for s in range(SPACES):
            dev_eui = f"70b3d5e0{a:04x}{s:04x}"
            rows["devices"].append(
                {
                    "dev_eui": dev_eui,
                    "tenant": "agglo",
                    "codec_id": "nwave/nps405",
                    "role": "parking_space",
                    "area": id_lieu,
                }
            )
            rows["spaces"].append(
                {
                    "code": f"{id_lieu}-P{s + 1:02d}",
                    "area": id_lieu,
                    "device": dev_eui,
                    "pmr": s < 2,
                }
            )
    rows["hubs"].append(
        {
            "code": HUB,
            "tenant": "agglo",
            "name": "Pôle d'échanges de banc d'essai",
            "areas": [a["id_lieu"] for a in rows["areas"][:HUB_AREAS]],
        }
    )
    return rows


def stores(directory: Path) -> tuple[Any, Any]:
    """The embedded stores in ``directory`` (the API's, and its parking worker's)."""
    from core.state.store import StateStore
    from core.stores.sqlite import SqliteStore

    return StateStore(f"sqlite:///{directory / 'state.sqlite'}"), SqliteStore(
        directory / "series.sqlite"
    )


def serve(directory: Path, port: int, in_process: bool) -> None:
    """The API process: real app, real embedded stores, system clock; the parking snapshots in
    a worker process as ``vigie api`` computes them (or in the API's, to compare)."""
    import uvicorn

    from api.main import create_app
    from api.parking_board import ParkingBoard
    from api.services import Services
    from core.clock import SystemClock
    from core.config import ApiSettings

    state, store = stores(directory)
    clock = SystemClock()
    recipe = None if in_process else partial(stores, directory)
    board = ParkingBoard(state, store, clock, worker_stores=recipe)
    # One load generator on one address: the public routes' per-address limit (429 past a burst of
    # 60) would answer most of it; a hub's screens are a few addresses at one request each 15 s.
    unlimited = ApiSettings(public_rate_per_s=1e9, public_burst=10**9)
    services = Services(store=store, state=state, clock=clock, parking=board, api=unlimited)
    uvicorn.run(create_app(services), host="127.0.0.1", port=port, log_level="warning")


def prepare(directory: Path, areas: int) -> str:
    """Registry, an hour of occupancy frames per space, and the hub's display token."""
    from api.display_tokens import issue_display_token
    from core.reading import Reading
    from core.state.registry_io import import_registry
    from core.state.store import StateStore
    from core.stores.sqlite import SqliteStore

    registry = directory / "registry.yaml"
    rows = _registry(areas)
    registry.write_text(yaml.safe_dump(rows, allow_unicode=True), encoding="utf-8")
    state = StateStore(f"sqlite:///{directory / 'state.sqlite'}")
    state.migrate()
    import_registry(state, registry)
    store = SqliteStore(directory / "series.sqlite")
    rng = np.random.default_rng(7)
    now = datetime.now(UTC)
    readings = [
        Reading(
            now - timedelta(minutes=int(m)), d["dev_eui"], "occupied", float(rng.random() < 0.6)
        )
        for d in rows["devices"]
        for m in sorted(rng.choice(60, size=4, replace=False), reverse=True)
    ]
    store.write(readings)
    store.close()
    token = issue_display_token(state, HUB)
    state.dispose()
    return token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Connection:
    """One keep-alive HTTP/1.1 connection: a request written, its response read by length."""

    def __init__(self, host: str, port: int) -> None:
        self._host, self._port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        assert self._reader is not None
        request = f"GET {path} HTTP/1.1\r\nHost: {self._host}\r\nConnection: keep-alive\r\n\r\n"
        self._writer.write(request.encode())
        await self._writer.drain()
        status_line = await self._reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await self._reader.readexactly(length)
        return status

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


async def _load(
    host: str, port: int, paths: list[str], rate: float, seconds: float, connections: int
) -> dict[str, Any]:
    """Open loop: request n is due at start + n / rate; its latency counts from when it was due,
    so time spent waiting for a free connection (queueing) is measured, not hidden."""
    latencies: dict[str, list[float]] = {p: [] for p in paths}
    lags: list[float] = []  # how late the client itself sent each request: its own noise
    errors: dict[str, int] = {p: 0 for p in paths}
    total = int(rate * seconds)
    start = time.perf_counter() + 0.05
    next_n = 0

    async def worker() -> None:
        nonlocal next_n
        connection = _Connection(host, port)
        try:
            while next_n < total:
                n = next_n
                next_n += 1
                due = start + n / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                lags.append((time.perf_counter() - due) * 1000)
                path = paths[n % len(paths)]
                try:
                    ok = await connection.get(path) == 200
                except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                    ok = False
                    connection.close()
                    connection = _Connection(host, port)
                if ok:
                    latencies[path].append((time.perf_counter() - due) * 1000)
                else:
                    errors[path] += 1
        finally:
            connection.close()

    # The client's own collector pauses would count as the server's latency: none during the run.
    gc.collect()
    gc.disable()
    try:
        await asyncio.gather(*(worker() for _ in range(connections)))
    finally:
        gc.enable()
    elapsed = time.perf_counter() - start
    return {
        "latencies": latencies,
        "lags": lags,
        "errors": errors,
        "elapsed_s": elapsed,
        "sent": total,
    }


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                out.append(int(stat.parent.name))
        except (OSError, ValueError):
            continue
    return out


def _cpu(pid: int) -> dict[str, float]:
    """CPU seconds so far of the API process and of its children (the parking worker)."""
    children = 0.0
    for child in _children(pid):
        try:
            children += _cpu_s(child)
        except OSError:
            continue
    return {"api": _cpu_s(pid), "children": children}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--areas", type=int, default=200)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="compute the parking snapshots in the API process (as before the worker)",
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port, args.in_process)
        return

    with tempfile.TemporaryDirectory(prefix="vigie-hub-load-") as tmp:
        directory = Path(tmp)
        token = prepare(directory, args.areas)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(directory), "--port", str(port)]
            + (["--in-process"] if args.in_process else []),
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300  # a loaded machine starts slowly
            while True:
                try:
                    if httpx.get(f"{base}/api/v1/parking/areas", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit("the API did not start")
                time.sleep(0.2)
            paths = ["/api/v1/parking/areas", f"/hub/{HUB}/data?token={token}"]
            load = ("127.0.0.1", port, paths, args.rate)
            asyncio.run(_load(*load, 2.0, args.connections))  # warm-up, not counted
            load_before, cpu_before = os.getloadavg(), _cpu(server.pid)
            result = asyncio.run(_load(*load, args.seconds, args.connections))
            load_after, cpu_after = os.getloadavg(), _cpu(server.pid)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)

    rows = []
    print(f"{args.rate:.0f} req/s for {args.seconds:.0f} s, {args.areas} areas × {SPACES} spaces")
    print(
        f"{'endpoint':<40} {'ok':>7} {'errors':>6} "
        f"{'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7}"
    )
    for path in paths:
        lat = np.array(result["latencies"][path])
        p50, p90, p99 = (
            float(np.percentile(lat, q)) if len(lat) else float("nan") for q in (50, 90, 99)
        )
        name = path.split("?")[0]
        rows.append(
            {
                "endpoint": name,
                "ok": len(lat),
                "errors": result["errors"][path],
                "p50_ms": p50,
                "p90_ms": p90,
                "p99_ms": p99,
                "max_ms": float(lat.max()) if len(lat) else float("nan"),
            }
        )
        r = rows[-1]
        print(
            f"{name:<40} {r['ok']:>7} {r['errors']:>6} {p50:>7.1f} {p90:>7.1f} {p99:>7.1f} "
            f"{r['max_ms']:>7.1f}"
        )
    lag = np.array(result["lags"])
    lag_p50, lag_p99 = (float(np.percentile(lag, q)) for q in (50, 99))
    print(
        f"the client's own lateness at sending (in the latencies above): p50 {lag_p50:.1f} ms, "
        f"p99 {lag_p99:.1f} ms"
    )
    achieved = result["sent"] / result["elapsed_s"]
    print(f"achieved {achieved:.0f} req/s (target {args.rate:.0f}); target p99 ≤ 20 ms, 0 errors")
    where = "the API process" if args.in_process else "a worker process"
    cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_before}
    print(
        f"CPU during the run: API process {cpu['api']:.1f} s "
        f"({1000 * cpu['api'] / result['sent']:.2f} ms a request), "
        f"its worker {cpu['children']:.1f} s"
    )
    print(
        f"snapshots in {where}; load average (1 min) {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after, on {os.cpu_count()} CPUs"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "rate": args.rate,
                "seconds": args.seconds,
                "areas": args.areas,
                "achieved_rate": achieved,
                "snapshots": "in-process" if args.in_process else "worker",
                "load_average_1min": {"before": load_before[0], "after": load_after[0]},
                "cpu_s": cpu,
                "endpoints": rows,
                "client_send_lag_ms": {"p50": lag_p50, "p99": lag_p99},
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
