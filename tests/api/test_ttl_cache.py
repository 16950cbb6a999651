"""The screens' cache: values expire on the injected clock, and one request recomputes."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from api.ttl_cache import TtlCache

T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)


def test_values_expire_after_the_ttl_and_when_the_clock_goes_back() -> None:
    cache: TtlCache[int] = TtlCache(timedelta(seconds=2))
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get("k", T0, compute) == 1
    assert cache.get("k", T0 + timedelta(seconds=1.9), compute) == 1
    assert cache.get("k", T0 + timedelta(seconds=2), compute) == 2
    assert cache.get("k", T0, compute) == 3  # the clock went back: not trusted
    assert cache.get("other", T0, compute) == 4


def test_while_one_request_recomputes_the_others_keep_the_previous_value() -> None:
    cache: TtlCache[str] = TtlCache(timedelta(seconds=2))
    cache.get("k", T0, lambda: "old")
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(10)
        return "new"

    later = T0 + timedelta(seconds=5)
    worker = threading.Thread(target=lambda: cache.get("k", later, slow))
    worker.start()
    assert entered.wait(10)
    assert cache.get("k", later, lambda: "stampede") == "old"
    release.set()
    worker.join(10)
    assert cache.get("k", later, lambda: "stampede") == "new"
