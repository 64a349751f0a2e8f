"""PDFs are laid out in a child process at low priority (activities.documents.renderer)."""

from __future__ import annotations

import os
import signal

from activities.documents import renderer
from activities.documents.booking_confirmation import LABELS
from activities.documents.pdf import render_html
from activities.documents.renderer import CHILD_NICENESS, pdf_from_html, pdf_from_template

HTML = "<html><body><h1>Booking confirmed</h1><p>Priya, Monday 7 December, 10:00 IST</p></body></html>"


def _child_pid() -> int:
    pool = renderer._pool
    assert pool is not None
    [pid] = list(pool._processes)  # one child per parent
    return pid


async def test_a_pdf_is_made_in_a_child_process_that_yields_the_cpu():
    pdf = await pdf_from_html(HTML)

    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    child = _child_pid()
    assert child != os.getpid()
    lowest = 19  # Linux's lowest priority: a parent already at nice 15 has a child at 19
    assert os.getpriority(os.PRIO_PROCESS, child) == min(lowest, os.getpriority(os.PRIO_PROCESS, 0) + CHILD_NICENESS)


async def test_a_template_is_filled_here_and_laid_out_there():
    context = {"lang": "en", "t": LABELS["en"], "tenant_name": "Demo Astrology", "reference": "ABCD1234",
               "offering_title": "Kundli reading", "client_name": "Priya", "consultant_name": "Acharya",
               "when": "Monday 7 December 2026, 10:00 IST", "duration_minutes": 60,
               "meeting_url": "https://meet.jit.si/demo", "paid": "Free", "issued": "6 December 2026"}
    assert "Priya" in render_html("booking_confirmation.html", context)

    pdf = await pdf_from_template("booking_confirmation.html", context)

    assert pdf.startswith(b"%PDF-")


async def test_a_renderer_that_died_is_replaced():
    await pdf_from_html(HTML)
    dead = _child_pid()
    os.kill(dead, signal.SIGKILL)

    pdf = await pdf_from_html(HTML)

    assert pdf.startswith(b"%PDF-")
    assert _child_pid() != dead


# A parent that renders one PDF, prints its renderer child's pid and then waits to be killed.
_PARENT = """
import asyncio
from activities.documents import renderer

async def main():
    await renderer.pdf_from_html("<html><body>orphan?</body></html>")
    [pid] = list(renderer._pool._processes)
    print(pid, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_a_renderer_whose_parent_is_killed_outright_exits_by_itself():
    import subprocess
    import sys
    from pathlib import Path

    from support import poll_until

    root = Path(__file__).resolve().parents[3]
    parent = subprocess.Popen([sys.executable, "-c", _PARENT], cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
    finally:
        parent.kill()   # SIGKILL: no atexit, no pool shutdown
        parent.wait()

    async def alive() -> bool:   # a zombie left for an init that does not reap is gone too
        try:
            state = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state != "Z"

    assert not await poll_until(alive, lambda running: not running, timeout=30), \
        f"the renderer {child} outlived its parent"
