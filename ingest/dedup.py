"""Recently stored frames, so broker redeliveries and repeated publishes are not stored twice.

Keys are remembered only once their frame is durable; the store's overwrite semantics make a
duplicate that slips past this cache (after a restart) harmless, so the bound is a memory choice.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentFrames:
    """A bounded insertion-ordered set of frame keys."""

    def __init__(self, capacity: int = 500_000) -> None:
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity

    def __contains__(self, key: str) -> bool:
        return key in self._keys

    def remember(self, keys: list[str]) -> None:
        for key in keys:
            self._keys[key] = None
            self._keys.move_to_end(key)
        while len(self._keys) > self._capacity:
            self._keys.popitem(last=False)

    def __len__(self) -> int:
        return len(self._keys)
