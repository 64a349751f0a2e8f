"""Lesson text: Markdown rendered to HTML that is safe to put in a page.

markdown-it-py (CommonMark, maintained by the Executable Books project) renders with raw HTML
turned off, so `<script>` in a lesson is shown as text; its link validator already refuses
`javascript:` and `data:` URLs. The result then goes through nh3 (bindings to the Rust
`ammonia` sanitiser) with an allow-list of tags, attributes and URL schemes: a second,
independent line of defence should a renderer plugin ever emit something unexpected. Links get
`rel="noopener noreferrer nofollow"`. (bleach, the usual choice before, is deprecated.)
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                      "th": {"style"}, "td": {"style"}}
MAX_MARKDOWN = 100_000


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable(
        ["table", "strikethrough"])


def render_markdown(source: str) -> str:
    """Safe HTML for a lesson's Markdown."""
    html = _renderer().render(source)
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow",
                     filter_style_properties={"text-align"})
