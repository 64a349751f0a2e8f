"""Birth profiles, tenant-editable interpretive texts and suggestion rules."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, IdMixin, TenantOwned, TimestampMixin


class BirthProfile(IdMixin, TimestampMixin, TenantOwned, Base):
    """One person's birth data, kept for a client account (themselves, a child, a spouse...).

    `birth_input` is what was given (place by name or coordinates, options); `resolved` is the
    engine's `ResolvedBirth` (UTC instant, coordinates, offset used and why), from which every
    later chart is computed, so a stored profile does not change when the gazetteer or the tz
    database does. The summary columns are what consultants scan in lists; the dasha columns
    are refreshed when a read finds the stored antardasha over.
    """

    __tablename__ = "birth_profiles"
    __table_args__ = (Index("ix_birth_profiles_client_created", "client_id", "created_at"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    full_name: Mapped[str] = mapped_column(String(200))
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_date: Mapped[date] = mapped_column(Date)
    birth_input: Mapped[dict[str, Any]] = mapped_column(JSONB)
    chart_settings: Mapped[dict[str, Any]] = mapped_column(JSONB)
    resolved: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # the summary
    time_known: Mapped[bool] = mapped_column(Boolean)
    birth_utc: Mapped[datetime]
    place_label: Mapped[str | None] = mapped_column(String(300))
    utc_offset: Mapped[str] = mapped_column(String(16))
    offset_source: Mapped[str] = mapped_column(String(20))
    lagna_sign: Mapped[str | None] = mapped_column(String(20))
    moon_sign: Mapped[str] = mapped_column(String(20))
    moon_longitude: Mapped[float] = mapped_column(Float)
    nakshatra: Mapped[str] = mapped_column(String(30))
    nakshatra_pada: Mapped[int] = mapped_column(Integer)
    mahadasha_lord: Mapped[str | None] = mapped_column(String(10))
    mahadasha_end: Mapped[datetime | None]
    antardasha_lord: Mapped[str | None] = mapped_column(String(10))
    antardasha_end: Mapped[datetime | None]
    warnings: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    summary_computed_at: Mapped[datetime]


class InterpretiveText(IdMixin, TimestampMixin, TenantOwned, Base):
    """A tenant's text for a content key (`driver:5`, `nakshatra:rohini`, `mahadasha:saturn`)
    in one locale."""

    __tablename__ = "interpretive_texts"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "locale"),)

    key: Mapped[str] = mapped_column(String(120))
    locale: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)


class SuggestionRule(IdMixin, TimestampMixin, TenantOwned, Base):
    """When `condition` holds for a birth profile, suggest `offering_key` (see
    domain/astrology/suggestions.py for the condition kinds)."""

    __tablename__ = "suggestion_rules"

    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    condition: Mapped[dict[str, Any]] = mapped_column(JSONB)
    offering_key: Mapped[str] = mapped_column(String(100))
    reasons: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    skip_if_ordered: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
