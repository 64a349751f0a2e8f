"""What every module of built-in texts uses: a text's two parts and its key."""

from __future__ import annotations

from dataclasses import dataclass

from domain.notification_channels import Channel


@dataclass(frozen=True)
class TemplateText:
    subject: str | None  # email subject / in-app title; None for SMS and WhatsApp
    body: str


OverrideKey = tuple[str, Channel, str]  # event, channel, language

E, S, W, A = Channel.EMAIL, Channel.SMS, Channel.WHATSAPP, Channel.IN_APP


def t(subject: str | None, body: str) -> TemplateText:
    return TemplateText(subject, body)
