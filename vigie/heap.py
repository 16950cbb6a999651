"""The garbage collector's pace in a long-running process: start-up frozen, young objects
collected less often."""

from __future__ import annotations

import gc

# An ingest worker makes tens of thousands of objects a second (a batch's frames, readings,
# lines) and frees nearly all of them by reference counting. At CPython's default pace (a young
# collection every 700 allocations, older ones after) the collector also walked everything
# start-up made (modules, the registry, caches) again and again: with it, a worker spent 71-75
# µs of CPU a frame in bench/ingest.py; frozen and at this pace, 50-54. The demo's 30 days of
# history (296,000 messages) went through its pipeline in 52 s instead of 67.
THRESHOLDS = (20_000, 20, 50)


def settle(thresholds: tuple[int, int, int] = THRESHOLDS) -> None:
    """Once start-up is done: what exists now lives as long as the process, so the collector
    stops looking at it; young objects are collected every ``thresholds[0]`` allocations."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
