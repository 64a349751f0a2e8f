"""Ids given as text (an order line's ref_id, a refund's cancellation_ref)."""

from __future__ import annotations

import uuid


def uuid_or_none(text: str | None) -> uuid.UUID | None:
    """The UUID `text` spells, or None when it spells none."""
    try:
        return uuid.UUID(text) if text else None
    except ValueError:
        return None
