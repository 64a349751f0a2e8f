"""The built-in texts of every notification event, in English and Hindi, by (event, channel,
language): one module per capability, merged here. Tenants override them
(`domain.notification_templates` resolves which text a message uses); events without a text of
their own on WhatsApp use the SMS text, and in-app the email text.
"""

from __future__ import annotations

from domain.notification_texts import (
    consultations,
    courses,
    memberships,
    packages,
    payments,
    platform,
    privacy,
    quotations,
    remedies,
)
from domain.notification_texts.base import OverrideKey, TemplateText

_PARTS = (platform, consultations, payments, courses, quotations, remedies, privacy, packages, memberships)


def _merged() -> dict[OverrideKey, TemplateText]:
    texts: dict[OverrideKey, TemplateText] = {}
    for part in _PARTS:
        repeated = texts.keys() & part.TEXTS.keys()
        if repeated:  # two capabilities writing the same text: one would silently win
            raise ValueError(f"{part.__name__} repeats texts of another module: {sorted(repeated)}")
        texts.update(part.TEXTS)
    return texts


BUILTIN: dict[OverrideKey, TemplateText] = _merged()
