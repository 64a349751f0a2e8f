"""The email of any catalogued event rendered outside the notifications capability (a preview,
a test), strictly (a missing value is an error).

Every text lives in `domain.notification_templates` (English and Hindi); messages are sent
through `Notifier.deliver` / `notify()`, never from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.notification_templates import BUILTIN, render_template
from domain.notifications import Channel


@dataclass(frozen=True)
class RenderedMessage:
    event: str
    subject: str
    body: str


def render_message(event: str, variables: dict[str, Any], locale: str = "en") -> RenderedMessage:
    template = BUILTIN.get((event, Channel.EMAIL, locale)) or BUILTIN[(event, Channel.EMAIL, "en")]
    rendered = render_template(template, variables, timezone="UTC", locale=locale)
    return RenderedMessage(event=event, subject=rendered.subject or "", body=rendered.body)
