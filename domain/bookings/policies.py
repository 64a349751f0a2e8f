"""Cancellation and reschedule policies, and the refund a cancellation makes due. Pure.

A cancellation policy is a list of bands, e.g. the default "full refund until 24 h before, 50 %
until 4 h before, nothing after": the first band whose notice the cancellation gives decides
the percentage. A consultant (or their staff) cancelling always refunds in full. Amounts are
integer minor units; a partial refund is rounded down to the minor unit.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CancelledBy(enum.StrEnum):
    CLIENT = "client"
    CONSULTANT = "consultant"   # the consultant or staff of the consultancy
    SYSTEM = "system"


class RefundBand(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours_before: int = Field(ge=0, le=24 * 365, description="cancelled at least this many hours before the start")
    refund_percent: int = Field(ge=0, le=100)


class CancellationPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bands: list[RefundBand] = Field(
        default_factory=lambda: [RefundBand(hours_before=24, refund_percent=100),
                                 RefundBand(hours_before=4, refund_percent=50)],
        max_length=10,
        description="later cancellations never refund more than earlier ones; below the last band nothing",
    )

    @model_validator(mode="after")
    def _sensible(self) -> CancellationPolicy:
        self.bands = sorted(self.bands, key=lambda b: -b.hours_before)
        hours = [b.hours_before for b in self.bands]
        if len(set(hours)) != len(hours):
            raise ValueError("two refund bands have the same hours_before")
        percents = [b.refund_percent for b in self.bands]
        if percents != sorted(percents, reverse=True):
            raise ValueError("a later cancellation cannot refund more than an earlier one")
        return self

    def refund_percent(self, notice: timedelta) -> int:
        for band in self.bands:
            if notice >= timedelta(hours=band.hours_before):
                return band.refund_percent
        return 0

    def describe(self) -> str:
        if not self.bands:
            return "no refund on cancellation"
        parts = [f"{b.refund_percent} % refund until {b.hours_before} h before" for b in self.bands]
        return ", ".join(parts) + ", none after"


class ReschedulePolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_hours_before: int = Field(12, ge=0, le=24 * 30,
                                  description="clients may reschedule until this many hours before")
    max_reschedules: int = Field(2, ge=0, le=20, description="how many times a client may reschedule one booking")


class CancellationTerms(BaseModel):
    refund_percent: int
    refund_due_minor: int
    reason: str


def cancellation_terms(
    policy: CancellationPolicy, *, starts_at: datetime, at: datetime, by: CancelledBy, paid_minor: int
) -> CancellationTerms:
    """What a cancellation at `at` refunds of what was paid."""
    if paid_minor <= 0:
        return CancellationTerms(refund_percent=0, refund_due_minor=0, reason="nothing was paid")
    if by != CancelledBy.CLIENT:
        return CancellationTerms(refund_percent=100, refund_due_minor=paid_minor,
                                 reason="cancelled by the consultancy: full refund")
    percent = policy.refund_percent(starts_at - at)
    return CancellationTerms(refund_percent=percent, refund_due_minor=paid_minor * percent // 100,
                             reason=f"cancelled {_hours(starts_at - at)} before the start: {percent} % refund")


def reschedule_refusal(
    policy: ReschedulePolicy, *, starts_at: datetime, at: datetime, reschedules: int, by: CancelledBy
) -> str | None:
    """Why this reschedule is not allowed, or None. The consultancy may move a session until it starts."""
    if at >= starts_at:
        return "the session has started; it can no longer be moved"
    if by != CancelledBy.CLIENT:
        return None
    if starts_at - at < timedelta(hours=policy.min_hours_before):
        return f"sessions can be moved until {policy.min_hours_before} h before they start"
    if reschedules >= policy.max_reschedules:
        return f"this booking was already moved {reschedules} time(s), the most the policy allows"
    return None


def _hours(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 10 else f"{round(hours)} h"
