"""The roll-up itself: set-based SQL that recomputes the analytics rows of some local days.

One call recomputes, for one reporting zone and some tenants, every row whose local day lies in
[first, last]: it deletes those rows and inserts them again from the source tables with
INSERT .. SELECT .. GROUP BY .. ON CONFLICT DO UPDATE (a concurrent run of the same days then
writes the same figures instead of failing). Each event counts on the local day it happened:
a booking on the day it was confirmed, cancelled, completed; an order on the day it was paid;
a refund on the day it was processed. A late event therefore changes a recent day, which the
scheduled run recomputes (docs/analytics.md).

Called by the AnalyticsRollup workflow's activities (every tenant) and by the dashboard for a
tenant not yet filled in a zone; row-level security scopes the second to the caller's tenant.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.analytics import NO_CONSULTANT
from models import analytics_clients as clients_of

BACKFILL_FROM = date(1970, 1, 1)
NONE = f"'{NO_CONSULTANT}'::uuid"
WINDOW = "{at} >= :lo AND {at} < :hi"
TENANTS = "{t}.tenant_id = ANY(CAST(:tenants AS uuid[]))"

# The consultant an order is credited to: the booking it pays, else the quotation it came
# from, else the course it enrolled in (its consultant), else the consultancy as a whole.
CREDIT_JOINS = """
LEFT JOIN bookings cb ON cb.order_id = o.id
LEFT JOIN (SELECT DISTINCT ON (order_id) order_id, consultant_id FROM quotations
           WHERE order_id IS NOT NULL ORDER BY order_id, created_at) cq ON cq.order_id = o.id
LEFT JOIN (SELECT DISTINCT ON (en.order_id) en.order_id, c.id AS consultant_id FROM enrollments en
           JOIN courses co ON co.id = en.course_id JOIN consultants c ON c.user_id = co.consultant_user_id
           WHERE en.order_id IS NOT NULL ORDER BY en.order_id, en.enrolled_at) ce ON ce.order_id = o.id
"""
CREDITED = f"coalesce(cb.consultant_id, cq.consultant_id, ce.consultant_id, {NONE})"
PAID_ORDER = "o.paid_at IS NOT NULL AND o.status <> 'needs_review'"
REFUND_AT = "coalesce(r.processed_at, r.updated_at)"


def _w(at: str) -> str:
    return WINDOW.format(at=at)


def _t(alias: str) -> str:
    return TENANTS.format(t=alias)


DAILY_METRICS = ("page_views", "slot_views", "holds", "paid_bookings", "sessions_booked", "sessions_completed",
                 "sessions_cancelled", "sessions_no_show", "quotations_sent", "quotations_accepted",
                 "remedies_started", "remedies_completed", "remedies_stopped", "course_enrolments",
                 "course_completions")

DAILY = f"""
WITH ev(tenant_id, consultant_id, at, metric, n) AS (
    SELECT b.tenant_id, b.consultant_id, e.at, e.metric, 1
    FROM bookings b CROSS JOIN LATERAL (VALUES
        (b.created_at, 'holds'), (b.paid_at, 'paid_bookings'), (b.confirmed_at, 'sessions_booked'),
        (b.completed_at, 'sessions_completed'),
        (CASE WHEN b.confirmed_at IS NOT NULL THEN b.cancelled_at END, 'sessions_cancelled'),
        (b.no_show_at, 'sessions_no_show')) e(at, metric)
    WHERE {_t('b')} AND {_w('e.at')}
    UNION ALL
    SELECT q.tenant_id, q.consultant_id, e.at, e.metric, 1
    FROM quotations q CROSS JOIN LATERAL (VALUES
        (q.sent_at, 'quotations_sent'),
        (CASE WHEN q.status IN ('accepted', 'paid') THEN q.decided_at END, 'quotations_accepted')) e(at, metric)
    WHERE {_t('q')} AND {_w('e.at')}
    UNION ALL
    SELECT r.tenant_id, coalesce(c.id, {NONE}), e.at, e.metric, 1
    FROM remedy_programmes r LEFT JOIN consultants c ON c.user_id = r.consultant_id
    CROSS JOIN LATERAL (VALUES
        (r.created_at, 'remedies_started'),
        (CASE WHEN r.status = 'completed' THEN r.ended_at END, 'remedies_completed'),
        (CASE WHEN r.status = 'stopped' THEN r.ended_at END, 'remedies_stopped')) e(at, metric)
    WHERE {_t('r')} AND {_w('e.at')}
    UNION ALL
    SELECT en.tenant_id, coalesce(c.id, {NONE}), e.at, e.metric, 1
    FROM enrollments en JOIN courses co ON co.id = en.course_id
    LEFT JOIN consultants c ON c.user_id = co.consultant_user_id
    CROSS JOIN LATERAL (VALUES (en.enrolled_at, 'course_enrolments'),
                               (en.completed_at, 'course_completions')) e(at, metric)
    WHERE {_t('en')} AND {_w('e.at')}
    UNION ALL
    SELECT v.tenant_id, v.consultant_id, v.bucket_at,
           CASE v.kind WHEN 'page' THEN 'page_views' ELSE 'slot_views' END, v.views
    FROM analytics_view_buckets v WHERE {_t('v')} AND {_w('v.bucket_at')}
)
INSERT INTO analytics_daily (tenant_id, zone, day, consultant_id, {", ".join(DAILY_METRICS)})
SELECT tenant_id, CAST(:zone AS text), (at AT TIME ZONE CAST(:zone AS text))::date, consultant_id,
       {", ".join(f"coalesce(sum(n) FILTER (WHERE metric = '{m}'), 0)" for m in DAILY_METRICS)}
FROM ev GROUP BY 1, 3, 4
ON CONFLICT (tenant_id, zone, day, consultant_id) DO UPDATE SET
    {", ".join(f"{m} = EXCLUDED.{m}" for m in DAILY_METRICS)}
"""

REVENUE_METRICS = ("orders_paid", "gross", "discounts", "gst", "collected", "refunds", "sessions_booked",
                   "sessions_value")

REVENUE = f"""
WITH ev(tenant_id, consultant_id, currency, at, orders_paid, gross, discounts, gst, collected, refunds,
        sessions_booked, sessions_value) AS (
    SELECT o.tenant_id, {CREDITED}, o.currency, o.paid_at, 1, o.subtotal, o.discount, o.tax, o.total, 0, 0, 0
    FROM orders o {CREDIT_JOINS}
    WHERE {_t('o')} AND {PAID_ORDER} AND {_w('o.paid_at')}
    UNION ALL
    SELECT o.tenant_id, {CREDITED}, o.currency, {REFUND_AT}, 0, 0, 0, 0, 0, r.amount, 0, 0
    FROM refunds r JOIN orders o ON o.id = r.order_id {CREDIT_JOINS}
    WHERE {_t('r')} AND r.status = 'processed' AND {_w(REFUND_AT)}
    UNION ALL
    SELECT b.tenant_id, b.consultant_id, b.currency, b.confirmed_at, 0, 0, 0, 0, 0, 0, 1, b.price_minor
    FROM bookings b WHERE {_t('b')} AND {_w('b.confirmed_at')}
)
INSERT INTO analytics_revenue_daily (tenant_id, zone, day, consultant_id, currency, {", ".join(REVENUE_METRICS)})
SELECT tenant_id, CAST(:zone AS text), (at AT TIME ZONE CAST(:zone AS text))::date, consultant_id, currency,
       {", ".join(f"sum({m})" for m in REVENUE_METRICS)}
FROM ev GROUP BY 1, 3, 4, 5
ON CONFLICT (tenant_id, zone, day, consultant_id, currency) DO UPDATE SET
    {", ".join(f"{m} = EXCLUDED.{m}" for m in REVENUE_METRICS)}
"""

# A client's purchases: each confirmed booking, and each paid order that pays no booking (a
# booking's order is the same purchase). Spend: paid order totals less GST, less refunds.
CLIENT_DAYS = f"""
WITH ev(tenant_id, consultant_id, client_id, currency, at, purchases, spend) AS (
    SELECT b.tenant_id, b.consultant_id, b.client_id, b.currency, b.confirmed_at, 1, 0
    FROM bookings b WHERE {_t('b')} AND {_w('b.confirmed_at')}
    UNION ALL
    SELECT o.tenant_id, {CREDITED}, o.client_id, o.currency, o.paid_at,
           CASE WHEN cb.id IS NULL THEN 1 ELSE 0 END, o.total - o.tax
    FROM orders o {CREDIT_JOINS}
    WHERE {_t('o')} AND {PAID_ORDER} AND {_w('o.paid_at')}
    UNION ALL
    SELECT o.tenant_id, {CREDITED}, o.client_id, o.currency, {REFUND_AT}, 0, -r.amount
    FROM refunds r JOIN orders o ON o.id = r.order_id {CREDIT_JOINS}
    WHERE {_t('r')} AND r.status = 'processed' AND {_w(REFUND_AT)}
)
INSERT INTO analytics_client_days (tenant_id, zone, day, consultant_id, client_id, currency, purchases, spend)
SELECT tenant_id, CAST(:zone AS text), (at AT TIME ZONE CAST(:zone AS text))::date, consultant_id, client_id,
       currency, sum(purchases), sum(spend)
FROM ev GROUP BY 1, 3, 4, 5, 6
ON CONFLICT (tenant_id, zone, day, consultant_id, client_id, currency) DO UPDATE SET
    purchases = EXCLUDED.purchases, spend = EXCLUDED.spend
"""

ROLLUP_TABLES = ("analytics_daily", "analytics_revenue_daily", "analytics_client_days")
ANALYZE_AFTER_ROWS = 1_000


def _bounds(zone: str, first: date, last: date, tenants: Sequence[uuid.UUID]) -> dict[str, Any]:
    return {"zone": zone, "first": first, "last": last, "tenants": [str(t) for t in tenants]}


async def roll_up(session: AsyncSession, zone: str, first: date, last: date, tenants: Sequence[uuid.UUID]) -> int:
    """Recompute the local days [first, last] of `zone` for `tenants`; the rows written."""
    if not tenants:
        return 0
    params = _bounds(zone, first, last, tenants)
    # the window in UTC: local midnight of `first` to local midnight after `last`, DST included
    lo, hi = (await session.execute(text(
        "SELECT CAST(:first AS date)::timestamp AT TIME ZONE CAST(:zone AS text), "
        "(CAST(:last AS date) + 1)::timestamp AT TIME ZONE CAST(:zone AS text)"), params)).one()
    params |= {"lo": lo, "hi": hi}
    for table in ROLLUP_TABLES:
        await session.execute(text(
            f"DELETE FROM {table} WHERE zone = :zone AND day BETWEEN :first AND :last AND {_t(table)}"), params)
    await clients_of.forget(session, zone, tenants)
    written = 0
    for statement in (DAILY, REVENUE, CLIENT_DAYS):
        result = await session.execute(text(statement), params)
        written += int(result.rowcount or 0)  # type: ignore[attr-defined]
    return written


async def unfilled_tenants(session: AsyncSession, zone: str, only: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Tenants whose history is not yet rolled up in `zone` (of `only`, if given)."""
    rows = await session.execute(text(
        "SELECT t.id FROM tenants t WHERE (CAST(:only AS uuid) IS NULL OR t.id = :only) AND NOT EXISTS "
        "(SELECT 1 FROM analytics_zone_fills f WHERE f.tenant_id = t.id AND f.zone = :zone)"),
        {"zone": zone, "only": str(only) if only else None})
    return [r[0] for r in rows]


async def fill(session: AsyncSession, zone: str, tenants: Sequence[uuid.UUID], today: date) -> int:
    """Roll up the whole history of `tenants` in `zone`, and remember that it is done."""
    if not tenants:
        return 0
    await register_zone(session, zone)
    written = await roll_up(session, zone, BACKFILL_FROM, today + timedelta(days=1), tenants)
    if written >= ANALYZE_AFTER_ROWS:
        # The planner's figures must see the new rows before a dashboard reads them (in this very
        # transaction, when the dashboard filled): planned for near-empty tables, the distinct-client
        # join over a consultancy's first roll-up ran for minutes instead of milliseconds.
        await session.execute(text(f"ANALYZE {', '.join(ROLLUP_TABLES)}"))
    await session.execute(text(
        "INSERT INTO analytics_zone_fills (tenant_id, zone) "
        "SELECT t, CAST(:zone AS text) FROM unnest(CAST(:tenants AS uuid[])) t ON CONFLICT DO NOTHING"),
        {"zone": zone, "tenants": [str(t) for t in tenants]})
    return written


async def register_zone(session: AsyncSession, zone: str) -> None:
    await session.execute(text("INSERT INTO analytics_zones (zone) VALUES (:zone) ON CONFLICT DO NOTHING"),
                          {"zone": zone})


async def register_zones(session: AsyncSession) -> list[str]:
    """The reporting zones: UTC, every consultancy's, consultant's and team member's zone, and
    those a dashboard was asked in. Names PostgreSQL does not know are left out."""
    await session.execute(text("""
        INSERT INTO analytics_zones (zone)
        SELECT DISTINCT z FROM (
            SELECT 'UTC' UNION ALL SELECT timezone FROM tenants UNION ALL SELECT timezone FROM consultants
            UNION ALL SELECT timezone FROM users
            WHERE role IN ('owner', 'consultant', 'staff', 'platform_admin') AND timezone IS NOT NULL
        ) found(z)
        WHERE z IN (SELECT name FROM pg_timezone_names)
        ON CONFLICT DO NOTHING"""))
    return list((await session.execute(text("SELECT zone FROM analytics_zones ORDER BY zone"))).scalars())


async def all_tenants(session: AsyncSession) -> list[uuid.UUID]:
    return list((await session.execute(text("SELECT id FROM tenants"))).scalars())
