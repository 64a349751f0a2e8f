"""Analytics roll-ups: figures per tenant, reporting zone, local day and consultant.

Written only by the AnalyticsRollup workflow's activities (set-based INSERT .. SELECT .. ON
CONFLICT DO UPDATE, activities/analytics/rollup.py), read by the dashboard. Each row is a sum
over the events of one local day in `zone`; a consultancy's figures that belong to no consultant
use the zero uuid (domain.analytics.NO_CONSULTANT). Money is minor units per currency.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from models.base import Base


def _count() -> Any:
    return mapped_column(Integer, default=0, server_default=text("0"))


def _money() -> Any:
    return mapped_column(BigInteger, default=0, server_default=text("0"))


class _DayKey:
    @declared_attr
    def tenant_id(cls) -> Mapped[uuid.UUID]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True, sort_order=-9)

    zone: Mapped[str] = mapped_column(String(64), primary_key=True, sort_order=-8)
    day: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-7)
    consultant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-6)


class AnalyticsDaily(_DayKey, Base):
    """Counts of one local day: the funnel, sessions, quotations, remedies and courses."""

    __tablename__ = "analytics_daily"
    __table_args__ = (Index("ix_analytics_daily_zone_day", "zone", "day"),)

    page_views: Mapped[int] = _count()
    slot_views: Mapped[int] = _count()
    holds: Mapped[int] = _count()                # bookings started (held, or confirmed at once when free)
    paid_bookings: Mapped[int] = _count()
    sessions_booked: Mapped[int] = _count()      # confirmed that day
    sessions_completed: Mapped[int] = _count()
    sessions_cancelled: Mapped[int] = _count()   # cancelled after being confirmed
    sessions_no_show: Mapped[int] = _count()
    quotations_sent: Mapped[int] = _count()
    quotations_accepted: Mapped[int] = _count()
    remedies_started: Mapped[int] = _count()
    remedies_completed: Mapped[int] = _count()
    remedies_stopped: Mapped[int] = _count()
    course_enrolments: Mapped[int] = _count()
    course_completions: Mapped[int] = _count()


class AnalyticsRevenueDaily(_DayKey, Base):
    """Money of one local day in one currency: paid orders, refunds, and the value of sessions booked."""

    __tablename__ = "analytics_revenue_daily"
    __table_args__ = (Index("ix_analytics_revenue_daily_zone_day", "zone", "day"),)

    currency: Mapped[str] = mapped_column(String(3), primary_key=True, sort_order=-5)
    orders_paid: Mapped[int] = _count()
    gross: Mapped[int] = _money()        # lines at their price (GST included when prices include it)
    discounts: Mapped[int] = _money()
    gst: Mapped[int] = _money()
    collected: Mapped[int] = _money()    # order totals (wallet credit included)
    refunds: Mapped[int] = _money()      # processed that day, whenever the order was paid
    sessions_booked: Mapped[int] = _count()
    sessions_value: Mapped[int] = _money()


class AnalyticsClientDay(_DayKey, Base):
    """A client's purchases and net spend on one local day: distinct counts over any period
    (active, new, repeat, lifetime value) are counted from these rows, not summed from days."""

    __tablename__ = "analytics_client_days"
    __table_args__ = (Index("ix_analytics_client_days_client", "tenant_id", "zone", "client_id"),)

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, sort_order=-5)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True, sort_order=-4)
    purchases: Mapped[int] = _count()
    spend: Mapped[int] = _money()        # paid order totals less GST, less refunds (may be negative)


class AnalyticsViewBucket(Base):
    """Public page and slot views per quarter hour (UTC), flushed from Redis counters.

    A quarter hour is the finest step of any zone's offset, so each bucket falls inside one
    local day of every zone."""

    __tablename__ = "analytics_view_buckets"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    bucket_at: Mapped[datetime] = mapped_column(primary_key=True)
    views: Mapped[int] = _count()


class AnalyticsZone(Base):
    """A reporting zone: roll-ups are kept per local day of each (the zones of consultancies,
    consultants and their staff, UTC, and any zone a dashboard was asked in)."""

    __tablename__ = "analytics_zones"

    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(server_default=func.now())


class AnalyticsZoneFill(Base):
    """A tenant's whole history is rolled up in this zone; from then on the schedule keeps its
    recent days current. A tenant without one is filled by the next run (or the dashboard)."""

    __tablename__ = "analytics_zone_fills"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    filled_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # one more at every roll-up of the tenant's days in the zone: client figures computed from an
    # older version are stale (AnalyticsClientPeriod)
    version: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class AnalyticsClientPeriod(Base):
    """The distinct-client figures of one period (active, new, repeat, lifetime value), computed
    from the client-day rows of one roll-up version: the roll-up computes the current and previous
    today, week, month, quarter and year; a dashboard any other period, once. Valid while `version`
    is the tenant's version in the zone (AnalyticsZoneFill.version); the consultancy as a whole is
    the consultant_id domain.analytics.EVERY_CONSULTANT."""

    __tablename__ = "analytics_client_periods"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    zone: Mapped[str] = mapped_column(String(64), primary_key=True)
    consultant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    first_day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)
    active: Mapped[int] = mapped_column(Integer)
    new: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer)
    lifetime: Mapped[dict[str, Any]] = mapped_column(JSONB)  # currency -> [clients, net spend]
