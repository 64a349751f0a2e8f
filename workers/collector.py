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
"""

from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def tune_collector(young_threshold: int) -> None:
    """Freeze the start-up heap and collect the young generation every `young_threshold`
    allocations (0: leave the collector as CPython sets it)."""
    if young_threshold <= 0:
        return
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(young_threshold, older, oldest)
    log.info("garbage collector: %d start-up objects frozen, young threshold %d",
             gc.get_freeze_count(), young_threshold)
