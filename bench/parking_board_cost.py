"""What the parking board's snapshot costs, and its daily learning: 200 carpool areas of 30
sensed spaces each, four weeks of occupancy frames in the embedded SQLite store.

Each space has two or three stays a weekday (one on weekend days) and a daily heartbeat. The
script times the first snapshot, then the snapshots 10 s apart on a manual clock (each after a
few new frames) while the board learns its areas a few a snapshot, then ``--steps`` more once
all are learned, and prints the medians and maxima. Run it on another checkout's code (``cd``
there, ``PYTHONPATH=.``) to compare.

    .venv/bin/python bench/parking_board_cost.py [--areas 200] [--days 28] [--steps 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from hub_load import _registry as hub_load_registry

from api.parking_board import ParkingBoard
from core.clock import ManualClock
from core.reading import Reading
from core.state.registry_io import import_registry
from core.state.store import StateStore
from core.stores.sqlite import SqliteStore

NOW = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # a Monday morning
LEARN_PER_SNAPSHOT = 4  # the board's default in the API process (25 in its worker)


def _registry(areas: int) -> dict[str, Any]:
    """hub_load's territory (same areas, spaces and sensors), without its hub."""
    rows = hub_load_registry(areas)
    rows.pop("hubs")
    return rows


def _frames(devices: list[str], days: int, rng: np.random.Generator) -> list[Reading]:
    out: list[Reading] = []
    for d in devices:
        for day in range(days, -1, -1):
            midnight = (NOW - timedelta(days=day)).replace(hour=0, minute=0)
            weekday = midnight.weekday() < 5
            out.append(
                Reading(midnight + timedelta(hours=float(rng.uniform(0, 24))), d, "occupied", 0.0)
            )
            for _ in range(int(rng.integers(2, 4)) if weekday else 1):
                start = midnight + timedelta(hours=float(rng.uniform(5, 19)))
                stay = timedelta(minutes=float(rng.gamma(2.0, 60.0)))
                out += [
                    Reading(start, d, "occupied", 1.0),
                    Reading(start + stay, d, "occupied", 0.0),
                ]
    return [r for r in out if r.time <= NOW]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--areas", type=int, default=200)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        rows = _registry(args.areas)
        (directory / "registry.yaml").write_text(yaml.safe_dump(rows), encoding="utf-8")
        state = StateStore(f"sqlite:///{directory / 'state.sqlite'}")
        state.migrate()
        import_registry(state, directory / "registry.yaml")
        store = SqliteStore(directory / "series.sqlite")
        devices = [d["dev_eui"] for d in rows["devices"]]
        t = time.perf_counter()
        frames = _frames(devices, args.days, rng)
        store.write(frames)
        print(f"seeded {len(frames):,} frames in {time.perf_counter() - t:.1f} s")
        clock = ManualClock(NOW)
        # No stale snapshot is served while the next is computed in the background: every
        # snapshot is computed in the call, where it can be timed.
        board = ParkingBoard(state, store, clock, max_stale=timedelta(0))
        t = time.perf_counter()
        board.areas()
        print(f"first snapshot: {time.perf_counter() - t:.2f} s")
        # The board learns LEARN_PER_SNAPSHOT areas a snapshot until every one is learned.
        learning = -(-args.areas // LEARN_PER_SNAPSHOT) - 1
        costs = []
        for _ in range(learning + args.steps):
            clock.advance(timedelta(seconds=10))
            moved = rng.choice(devices, size=20, replace=False)
            store.write(
                [Reading(clock.now(), str(d), "occupied", float(rng.random() < 0.5)) for d in moved]
            )
            t = time.perf_counter()
            board.areas()
            costs.append(time.perf_counter() - t)
        for name, part in (("while learning", costs[:learning]), ("steady", costs[learning:])):
            if part:
                print(
                    f"snapshot every 10 s, {name}: median {1000 * statistics.median(part):.0f} ms,"
                    f" max {1000 * max(part):.0f} ms over {len(part)}"
                )
        store.close()
        state.dispose()


if __name__ == "__main__":
    main()
