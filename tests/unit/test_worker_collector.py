"""The worker's collector tuning (workers/collector.py): start-up objects frozen, young
collections less often, and garbage made afterwards still reclaimed (memory stays bounded)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from workers.collector import FULL_AFTER_MIDDLE, MIDDLE_AFTER_YOUNG, tune_collector


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_zero_leaves_the_collector_as_it_is(restored_collector: None) -> None:
    before = gc.get_threshold(), gc.get_freeze_count()
    tune_collector(0)
    assert (gc.get_threshold(), gc.get_freeze_count()) == before


def test_start_up_objects_are_frozen_and_later_cycles_still_collected(restored_collector: None) -> None:
    tune_collector(50_000)
    assert gc.get_threshold() == (50_000, MIDDLE_AFTER_YOUNG, FULL_AFTER_MIDDLE)
    assert gc.get_freeze_count() > 0
    a, b = _Node(), _Node()
    a.other, b.other = b, a          # a cycle only the cyclic collector can reclaim
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None


def test_a_cycle_in_the_oldest_generation_is_reclaimed_without_an_explicit_collection(
        restored_collector: None) -> None:
    """What an evicted workflow run is: cycles that lived long enough to reach the oldest
    generation. The automatic collections must reach them, and soon: with CPython's cadence
    (10, 10) and this young threshold it takes about 120,000 allocations, here about 12,000."""
    tune_collector(1_000)
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    gc.collect(1)                    # it survives the young and middle collections: now the oldest
    del a, b
    kept: list[list[int]] = []
    while gone() is not None and len(kept) < 40_000:
        kept.append([])              # allocations that stay alive, as a worker's do between tasks
    assert gone() is None, f"not reclaimed after {len(kept)} allocations"
