"""HTML templates to PDF bytes with Jinja2 and WeasyPrint: one renderer for every document.

`render_html("chart_report.html", context)` fills `templates/chart_report.html` (which extends
`base.html`: page size, margins, fonts, footer with page numbers); `render_pdf_html` lays HTML
out as PDF bytes. Callers go through `activities.documents.renderer` (`pdf_from_template`,
`pdf_from_html`), which runs the layout in a low-priority child process.

Fonts come from the machine's fontconfig: the stylesheet asks for Noto Sans and Noto Sans
Devanagari (Hindi texts) and falls back to DejaVu Sans, which covers Latin, the degree sign and
the retrograde sign but not Devanagari. The Docker image installs `fonts-noto-core` and
`fonts-dejavu-core`; `fonts_available()` says what this machine has.

WeasyPrint is CPU-bound and its use of Pango/fontconfig is not documented as thread-safe, so
rendering is serialised by a process-wide lock (the renderer's child renders one at a time anyway).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

TEMPLATES = Path(__file__).resolve().parent / "templates"
_render_lock = threading.Lock()


class PdfUnavailableError(RuntimeError):
    """WeasyPrint or the system libraries it needs (Pango) cannot be loaded."""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html", "xml"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_html(template_name: str, context: Mapping[str, Any]) -> str:
    return environment().get_template(template_name).render(**context)


def render_pdf_html(html: str) -> bytes:
    """HTML (with the templates folder as its base URL) as PDF bytes."""
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: Pango or its friends missing
        raise PdfUnavailableError(str(exc)) from exc
    with _render_lock:
        pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)


@lru_cache(maxsize=1)
def fonts_available() -> dict[str, bool]:
    """Which of the stylesheet's font families fontconfig finds here (empty without fc-list)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return {}
    out = subprocess.run([fc_list, ":", "family"], capture_output=True, text=True, check=False).stdout  # noqa: S603
    families = {name.strip() for line in out.splitlines() for name in line.split(",")}
    return {name: name in families for name in ("Noto Sans", "Noto Sans Devanagari", "DejaVu Sans")}
