"""Spaces stuck free on simulated carpool areas: false flags on healthy sensors, and how long a
sensor stuck on "free" takes to be flagged (``analytics.parking.frozen.FreeLimits``).

Each seed simulates one area (``--spaces`` spaces, commuters and short stays of the simulator's
parking model, Easter Monday included) for seven weeks from Monday 4 March 2024; each space's
sensor reports its changes and a daily heartbeat, and loses ``--loss`` of its frames. From the
fifth week on, every hour, the rule is learned from the four weeks before (as the detector and
the board do) and every space shown free is judged: a flag is false (no sensor is stuck). Then
``--stuck`` spaces per seed, one at a time, stop reporting changes at a weekday hour (their
heartbeats keep saying "free") and the delay until the flag is measured.

    .venv/bin/python bench/parking_stuck_free.py [--seeds 1-5] [--spaces 30] [--alpha 1e-4]
"""

from __future__ import annotations

import argparse
import statistics
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.parking.frozen import FreeLimits, FreeParams
from analytics.parking.space import Change, changes
from core.calendar import FrenchCalendar
from simulator.parking import STEP, simulate_area
from simulator.territory import Area, SimDevice, Space

START = datetime(2024, 3, 4, tzinfo=UTC)  # a Monday; Easter Monday is 1 April
DAYS = 49
WINDOW = timedelta(days=28)
HOLD = timedelta(seconds=60)
Seq = list[tuple[datetime, bool]]


def sensors(spaces: int, seed: int, loss: float) -> dict[str, Seq]:
    """Each space's reported samples: its changes and a daily heartbeat, some frames lost."""
    area = Area(
        "59139-C-001",
        "t",
        "Gare",
        "59139",
        "aire",
        3.4,
        50.1,
        1,
        0.6,
        tuple(
            Space(
                f"p{i:02d}",
                "a",
                i == 0,
                SimDevice(f"{i:016x}", "x", "parking_space", "t", "", 0, ""),
            )
            for i in range(spaces)
        ),
    )
    occupancy = simulate_area(area, START, DAYS, seed, FrenchCalendar())
    rng = np.random.default_rng(seed)
    out: dict[str, Seq] = {}
    for code, occ in occupancy.items():
        x = occ >= 0.5
        steps = np.concatenate([[0], np.flatnonzero(np.diff(x)) + 1])
        frames = {int(s): bool(x[s]) for s in steps}
        for day in range(DAYS):  # a heartbeat a day at a random minute
            s = day * 288 + int(rng.integers(0, 288))
            frames.setdefault(s, bool(x[s]))
        kept = [
            (START + s * STEP + timedelta(seconds=float(rng.uniform(0, 30))), v)
            for s, v in sorted(frames.items())
            if rng.random() >= loss
        ]
        out[code] = kept
    return out


def shown_until(seq: Seq, start: datetime, now: datetime) -> list[Change]:
    return changes([(t, v) for t, v in seq if start <= t <= now], HOLD, now)


def judge(seqs: dict[str, Seq], now: datetime, params: FreeParams) -> list[str]:
    """The spaces shown free at ``now`` that the rule flags."""
    shown = {k: shown_until(s, now - WINDOW, now) for k, s in seqs.items()}
    limits = FreeLimits.learn(shown, now, params)
    return [
        k
        for k, sh in shown.items()
        if sh and not sh[-1].occupied and limits.exceeded(k, sh[-1].time, now)
    ]


def stuck(seq: Seq, at: datetime, end: datetime, rng: np.random.Generator) -> Seq:
    """The sensor stuck on free from ``at``: one "free" frame then daily heartbeats saying so."""
    before = [(t, v) for t, v in seq if t < at]
    beats = [at + timedelta(days=d, minutes=float(rng.uniform(0, 60))) for d in range(1, DAYS)]
    return before + [(at, False)] + [(t, False) for t in beats if t <= end]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1-5")
    parser.add_argument("--spaces", type=int, default=30)
    parser.add_argument("--loss", type=float, default=0.02)
    parser.add_argument("--alpha", type=float, default=FreeParams().alpha)
    parser.add_argument("--stuck", type=int, default=4, help="stuck spaces tried per seed")
    args = parser.parse_args()
    lo, _, hi = args.seeds.partition("-")
    seeds = range(int(lo), int(hi or lo) + 1)
    params = FreeParams(alpha=args.alpha)
    end = START + timedelta(days=DAYS)
    judged = flagged = 0
    runs_judged: set[tuple[int, str, datetime]] = set()  # free runs (seed, space, since)
    runs_flagged: set[tuple[int, str, datetime]] = set()
    delays: list[float] = []
    missed = 0
    for seed in seeds:
        seqs = sensors(args.spaces, seed, args.loss)
        now = START + WINDOW
        while now < end:
            flags = judge(seqs, now, params)
            for k, s in seqs.items():
                sh = shown_until(s, now - WINDOW, now)
                if sh and not sh[-1].occupied:
                    judged += 1
                    runs_judged.add((seed, k, sh[-1].time))
                    if k in flags:
                        flagged += 1
                        runs_flagged.add((seed, k, sh[-1].time))
            now += timedelta(hours=1)
        rng = np.random.default_rng(100 + seed)
        for n in range(args.stuck):
            code = sorted(seqs)[int(rng.integers(0, len(seqs)))]
            # Tuesdays to Thursdays of weeks 5-6, at 06:00-20:00 local time.
            at = (
                START
                + WINDOW
                + timedelta(days=int(7 * (n % 2) + 1 + n % 3), hours=float(rng.uniform(5, 19)))
            )
            broken = {**seqs, code: stuck(seqs[code], at, end, rng)}
            t = at + timedelta(hours=1)
            while t < end and code not in judge(broken, t, params):
                t += timedelta(hours=1)
            if t < end:
                delays.append((t - at).total_seconds() / 3600)
            else:
                missed += 1
    print(f"{len(seeds)} seeds × {args.spaces} spaces, loss {args.loss:.0%}, alpha {args.alpha:g}")
    print(
        f"healthy: {flagged} false flags in {judged:,} hourly judgements of free spaces, "
        f"in {len(runs_flagged)} of {len(runs_judged):,} free runs"
    )
    if delays:
        print(
            f"stuck free: flagged after median {statistics.median(delays):.0f} h "
            f"(min {min(delays):.0f}, max {max(delays):.0f}) in {len(delays)} cases"
        )
    print(f"stuck free: {missed} not flagged by the end of the seven weeks")


if __name__ == "__main__":
    main()
