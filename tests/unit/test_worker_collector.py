"""The worker's collector tuning (workers/collector.py): start-up objects frozen, young
collections less often, and garbage made afterwards still reclaimed (memory stays bounded)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from workers.collector import tune_collector


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
    older, oldest = gc.get_threshold()[1:]
    tune_collector(50_000)
    assert gc.get_threshold() == (50_000, older, oldest)
    assert gc.get_freeze_count() > 0
    a, b = _Node(), _Node()
    a.other, b.other = b, a          # a cycle only the cyclic collector can reclaim
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    assert gone() is None
