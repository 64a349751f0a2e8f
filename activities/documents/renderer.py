"""PDFs are made in a child process at low CPU priority, never on the caller's interpreter.

WeasyPrint is pure Python for most of its work. A booking confirmation takes about 0.25 s of
CPU, nine tenths of it fontTools subsetting the fonts, and all of it holding the GIL. Rendered
in a thread of the worker, that stalled every workflow task and activity of the process for as
long: reminders, and a burst of 20 confirmations after a booking race, queued behind PDFs. In
the API it took CPU from the requests being answered (docs/performance.md, "Fifth pass").

`pdf_from_html` sends the HTML to one child process per parent (started on first use, with
`spawn`: the parent runs threads, which `fork` must not copy). The child lowers its own
priority (`nice` +10), so on a busy machine answering people and firing timers go first and
documents take the cores that are left. Only the PDF's layout runs there: templates are
rendered by the caller (they are cheap and need its data). A child that dies is replaced and
the render tried once more; an error from WeasyPrint itself (a bad document,
`PdfUnavailableError`) comes back as it is. A child whose parent is gone exits by itself, within
a second, however the parent ended (`_exit_with_parent`).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from activities.documents.pdf import render_html, render_pdf_html

log = logging.getLogger(__name__)

CHILD_NICENESS = 10
PARENT_CHECK_SECONDS = 1.0
_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


class _OnlyOnce(logging.Filter):
    """WeasyPrint repeats some warnings for every document (which subsetter it uses): once is news."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _exit_with_parent(parent: int) -> None:
    """The child's watch on its parent: once the parent is gone (the child is re-parented), exit.

    The child cannot learn it from its work queue. The queue's pipe travels to the child whole,
    its write end included, so a parent that ends without shutting the pool down (SIGKILL, the
    OOM killer, a supervisor's hard stop after its grace period) never closes it, and the child
    would wait on it for ever: a 120 MB orphan per worker or API process ended that way."""
    while os.getppid() == parent:
        time.sleep(PARENT_CHECK_SECONDS)
    os._exit(0)


def _start_child() -> None:
    """In the child: exit with the parent, lower its priority, and log as the processes around it do."""
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="parent-watch", daemon=True).start()
    logging.basicConfig(level=logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s [pdf renderer]")
    logging.getLogger("weasyprint").addFilter(_OnlyOnce())
    try:
        os.nice(CHILD_NICENESS)
    except OSError:  # not allowed here: the documents are made at the same priority
        log.warning("could not lower the PDF renderer's priority")


def _renderer() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_start_child)
        return _pool


def _replace(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def pdf_from_html(html: str) -> bytes:
    """HTML (with the templates folder as its base URL) as PDF bytes, made in the child process."""
    loop = asyncio.get_running_loop()
    for attempt in range(2):
        pool = _renderer()
        try:
            return await loop.run_in_executor(pool, render_pdf_html, html)
        except BrokenProcessPool:
            _replace(pool)
            if attempt:
                raise
            log.warning("the PDF renderer process died; starting a new one")
    raise AssertionError("unreachable")


async def pdf_from_template(template_name: str, context: Mapping[str, Any]) -> bytes:
    """`templates/<template_name>` rendered with `context` here, laid out as a PDF in the child."""
    return await pdf_from_html(render_html(template_name, context))
