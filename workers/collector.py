"""The worker's garbage collector, tuned for a cache of thousands of workflows.

A worker keeps every cached workflow run in memory: its sandboxed module namespace, its state and
its pending futures, about 0.14 MB each (docs/remedies.md, Scale). CPython's cyclic collector
walks every tracked object on a full collection, so with a few thousand runs cached a full
collection stops the whole process, and with it every workflow activation, for a third to half a
second; and the default young-generation threshold (700 allocations) runs a collection every few
workflow tasks. bench/remedy_reminders.py prints both.

`tune_collector` is called once the worker's imports are done: it collects, then freezes what is
left (modules, the SDK, the compiled workflow code: objects that live as long as the process) so
no later collection walks them again, and raises the young threshold so that collections run
tens of times less often. Memory stays bounded: frozen objects are the start-up ones, never
cached runs, and the collector still reclaims everything allocated afterwards.

A run evicted from the cache is garbage in reference cycles (its sandboxed module's functions
and globals) that has long reached the oldest generation, which only a full collection reclaims.
With CPython's cadence (a full collection after 10 middle ones, each after 10 young ones) and the
raised young threshold, full collections came every five million allocations: with 10,000
programmes and a cache of 2,000, the worker grew by 90 MB per 1,000 programmes past the cache and
never collected (bench/remedy_reminders.py). So a middle collection follows every 5 young ones
and a full one every 2 middle ones; CPython still skips a full collection until the garbage
waiting in the oldest generation is a quarter of what lives there, which bounds memory at about
a quarter above the cache's.
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)

MIDDLE_AFTER_YOUNG = 5   # CPython: 10
FULL_AFTER_MIDDLE = 1    # CPython: 10 (a full collection once the count of middle ones passes this)


def tune_collector(young_threshold: int) -> None:
    """Freeze the start-up heap and collect the young generation every `young_threshold`
    allocations (0: leave the collector as CPython sets it)."""
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    gc.collect()   # counts the oldest generation anew without the frozen heap (the full-collection rule's base)
    gc.set_threshold(young_threshold, MIDDLE_AFTER_YOUNG, FULL_AFTER_MIDDLE)
    log.info("garbage collector: %d start-up objects frozen, young threshold %d",
             gc.get_freeze_count(), young_threshold)
