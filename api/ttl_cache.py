"""A small cache of computed values that expire after a time on the services' clock."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

_V = TypeVar("_V")


class TtlCache(Generic[_V]):
    """Values by key, recomputed once older than ``ttl`` (or when the clock went back).

    Screens ask for the same document many times a second; computing it once per ``ttl`` keeps
    a request to a dictionary lookup. One request recomputes an expired value while the others
    keep the previous one (no stampede of identical computations); only a key never computed
    makes requests wait. Entries are few (one per hub or feed), so none is evicted.
    """

    def __init__(self, ttl: timedelta) -> None:
        self._ttl = ttl
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[datetime, _V]] = {}
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, now: datetime, compute: Callable[[], _V]) -> _V:
        with self._lock:
            entry = self._entries.get(key)
            computing = self._computing.setdefault(key, threading.Lock())
        if entry is not None and timedelta(0) <= now - entry[0] < self._ttl:
            return entry[1]
        if not computing.acquire(blocking=entry is None):
            assert entry is not None
            return entry[1]
        try:
            with self._lock:
                latest = self._entries.get(key)
            if (
                latest is not None
                and latest is not entry
                and timedelta(0) <= now - latest[0] < self._ttl
            ):
                return latest[1]  # computed by another request while this one waited
            value = compute()
            with self._lock:
                self._entries[key] = (now, value)
            return value
        finally:
            computing.release()

    def peek(
        self, key: Hashable, now: datetime, compute: Callable[[], _V], max_stale: timedelta
    ) -> _V | None:
        """The value without waiting: fresh, or stale by less than ``max_stale`` while one
        background thread recomputes it; None when there is none (the caller computes it with
        ``get``, off the event loop)."""
        with self._lock:
            entry = self._entries.get(key)
            computing = self._computing.setdefault(key, threading.Lock())
        if entry is None or not timedelta(0) <= now - entry[0] < max_stale:
            return None
        if now - entry[0] >= self._ttl and computing.acquire(blocking=False):

            def refresh() -> None:
                try:
                    value = compute()
                    with self._lock:
                        self._entries[key] = (now, value)
                except Exception:  # the next request retries; the stale value stays meanwhile
                    pass
                finally:
                    computing.release()

            threading.Thread(target=refresh, name="ttl-cache-refresh", daemon=True).start()
        return entry[1]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
