"""The collector's pace: start-up frozen, young objects collected less often."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from vigie import heap


@pytest.fixture
def restored() -> Iterator[None]:
    """The test process's own collector settings, back after the test."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored")
def test_settle_freezes_what_exists_and_slows_young_collections() -> None:
    made_at_start_up = [{"registry": i} for i in range(1000)]
    gc.unfreeze()
    heap.settle()
    assert gc.get_freeze_count() >= len(made_at_start_up)
    assert gc.get_threshold() == heap.THRESHOLDS


@pytest.mark.usefixtures("restored")
def test_cyclic_garbage_made_after_is_still_collected() -> None:
    heap.settle()

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # type: ignore[attr-defined]
    del a, b
    assert gc.collect() >= 2
