"""Generated business for analytics: bookings, their orders and refunds, product orders,
quotations, remedy programmes and course enrolments of one consultancy over a time window,
written with set-based SQL (a few statements, whatever the count), and the direct counts the
roll-up's figures are checked against. Used by tests/api/test_analytics_api.py and
bench/analytics_dashboard.py.

Bookings end in a final state (completed, cancelled, no-show, abandoned), so the exclusion
constraint over live bookings never refuses generated rows that overlap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass
class Business:
    tenant_id: uuid.UUID
    consultant_id: uuid.UUID
    consultant_user_id: uuid.UUID
    offering_id: uuid.UUID


STATEMENTS = [
    "SELECT setseed(:seed)",
    """INSERT INTO users (id, tenant_id, email, full_name, locale, role, is_active)
       SELECT gen_random_uuid(), :tenant, 'gen-' || CAST(:tag AS text) || '-' || i || '@example.com',
              'Generated ' || i, 'en',
              'client', true
       FROM generate_series(1, CAST(:clients AS int)) i""",
    """CREATE TEMP TABLE gen_clients ON COMMIT DROP AS
       SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM users
       WHERE tenant_id = :tenant AND email LIKE 'gen-' || CAST(:tag AS text) || '-%'""",
    # the plan: one row per booking; fate 0 abandoned, 1 completed, 2 cancelled, 3 no-show
    """CREATE TEMP TABLE gen_plan ON COMMIT DROP AS
       SELECT gen_random_uuid() AS booking_id, p.*,
              CASE WHEN p.fate > 0 AND p.price > 0 THEN gen_random_uuid() END AS order_id,
              CASE WHEN i % 3 = 0 THEN p.price / 10 ELSE 0 END AS discount
       FROM generate_series(1, CAST(:bookings AS int)) i CROSS JOIN LATERAL (
           SELECT c.id AS client_id,
                  CAST(:start AS timestamptz) + random() * (CAST(:end AS timestamptz) - CAST(:start AS timestamptz))
                      AS created,
                  (i % 4) AS fate,
                  (ARRAY[0, 50000, 110000, 250000])[1 + (i / 4 + i / 16) % 4] AS price,
                  (1 + i % 9) * interval '1 day' AS ahead
           FROM gen_clients c WHERE c.k = (i * 7919 + i / 5) % CAST(:clients AS int)) p""",
    """INSERT INTO orders (id, tenant_id, client_id, status, currency, subtotal, discount, taxable, tax, total,
                           wallet_applied, amount_due, amount_paid, amount_refunded, gst_mode, gst_rate_bp,
                           expires_at, wallet_released, paid_at, created_at)
       SELECT order_id, :tenant, client_id, CASE WHEN fate = 2 THEN 'refunded' ELSE 'fulfilled' END, 'INR',
              price, discount, price - discount, (price - discount) * 18 / 100,
              (price - discount) + (price - discount) * 18 / 100, 0,
              (price - discount) + (price - discount) * 18 / 100, (price - discount) + (price - discount) * 18 / 100,
              CASE WHEN fate = 2 THEN (price - discount) + (price - discount) * 18 / 100 ELSE 0 END,
              'exclusive', 1800, created + interval '15 minutes', false, created + interval '2 minutes', created
       FROM gen_plan WHERE order_id IS NOT NULL""",
    """INSERT INTO bookings (id, tenant_id, offering_id, consultant_id, client_id, status, starts_at, ends_at, blocked,
                             client_timezone, intake, price_minor, currency, amount_paid_minor, cancellation_policy,
                             reschedule_policy, meeting_provider, sequence, reschedule_count, refund_due_minor,
                             refund_status, workflow_id, created_at, updated_at, hold_expires_at, confirmed_at,
                             paid_at, completed_at, cancelled_at, no_show_at, order_id)
       SELECT booking_id, :tenant, :offering, :consultant, client_id,
              CAST((ARRAY['abandoned', 'completed', 'cancelled', 'no_show'])[fate + 1] AS booking_status),
              created + ahead, created + ahead + interval '1 hour',
              tstzrange(created + ahead, created + ahead + interval '1 hour'), 'Asia/Kolkata', '{}', price, 'INR',
              CASE WHEN order_id IS NULL THEN 0 ELSE price END, '{}', '{}', 'jitsi', 0, 0, 0,
              CAST(CASE WHEN fate = 2 AND order_id IS NOT NULL THEN 'refunded' ELSE 'none' END AS refund_status),
              'consultation-' || booking_id, created, created, created + interval '15 minutes',
              CASE WHEN fate > 0 THEN created + interval '2 minutes' END,
              CASE WHEN order_id IS NOT NULL THEN created + interval '2 minutes' END,
              CASE WHEN fate = 1 THEN created + ahead + interval '1 hour' END,
              CASE WHEN fate = 2 THEN created + ahead / 2 END,
              CASE WHEN fate = 3 THEN created + ahead + interval '1 hour' END,
              order_id
       FROM gen_plan""",
    """INSERT INTO refunds (id, tenant_id, order_id, key, amount, gateway_amount, wallet_amount, destination, kind,
                            reason, status, processed_at, created_at, updated_at)
       SELECT gen_random_uuid(), :tenant, order_id, 'gen-' || order_id,
              (price - discount) + (price - discount) * 18 / 100, (price - discount) + (price - discount) * 18 / 100,
              0, 'gateway', 'cancellation', 'cancelled', 'processed', created + ahead / 2, created + ahead / 2,
              created + ahead / 2
       FROM gen_plan WHERE fate = 2 AND order_id IS NOT NULL""",
    # products sold on their own: orders no booking pays (the consultancy's, no consultant's)
    """INSERT INTO orders (id, tenant_id, client_id, status, currency, subtotal, discount, taxable, tax, total,
                           wallet_applied, amount_due, amount_paid, amount_refunded, gst_mode, gst_rate_bp,
                           expires_at, wallet_released, paid_at, created_at)
       SELECT gen_random_uuid(), :tenant, client_id, 'fulfilled', 'INR', 30000, 0, 30000, 5400, 35400, 0, 35400,
              35400, 0, 'exclusive', 1800, created + interval '15 minutes', false, created + interval '1 minute',
              created
       FROM gen_plan WHERE fate = 1 AND price = 0""",
    """INSERT INTO quotations (id, tenant_id, number, consultant_id, client_id, client_name, client_email, title,
                               status, current_version, currency, total, reminder_days, views, sent_at, decided_at)
       SELECT gen_random_uuid(), :tenant,
              coalesce((SELECT max(number) FROM quotations WHERE tenant_id = :tenant), 0)
                  + row_number() OVER (ORDER BY booking_id),
              :consultant, client_id, 'Generated', 'gen@example.com', 'Vastu visit',
              CASE WHEN fate IN (1, 3) THEN 'accepted' ELSE 'sent' END, 1, 'INR', 100000, '[]', 0, created,
              CASE WHEN fate IN (1, 3) THEN created + interval '1 day' END
       FROM gen_plan WHERE fate > 0 AND price = 110000""",
    """INSERT INTO remedies (id, tenant_id, kind, title, instructions_en, default_schedule, currency, active)
       VALUES (CAST(:remedy AS uuid), :tenant, 'mantra', 'Generated remedy', 'Chant', '{}', 'INR', true)""",
    """INSERT INTO remedy_programmes (id, tenant_id, remedy_id, client_id, consultant_id, source, title, status, plan,
                                      timezone, start_date, workflow_id, counted, done, skipped, missed, streak,
                                      best_streak, created_at, ended_at)
       SELECT gen_random_uuid(), :tenant, CAST(:remedy AS uuid), client_id, :consultant_user, 'direct', 'Remedy',
              (ARRAY['active', 'completed', 'stopped', 'completed'])[fate + 1], '{}', 'Asia/Kolkata',
              CAST(created AS date), 'remedy-' || booking_id, 0, 0, 0, 0, 0, 0, created,
              CASE WHEN fate > 0 THEN created + ahead * 3 END
       FROM gen_plan WHERE price = 50000""",
    """INSERT INTO courses (id, tenant_id, slug, title, status, price_minor, currency, discussions_enabled,
                            release_time, consultant_user_id)
       VALUES (CAST(:course AS uuid), :tenant, 'gen-' || CAST(:tag AS text), 'Generated course', 'published', 0,
               'INR', true,
               '08:00', :consultant_user)""",
    """INSERT INTO enrollments (id, tenant_id, course_id, client_id, status, source, enrolled_at, completed_at,
                                timezone, workflow_id)
       SELECT gen_random_uuid(), :tenant, CAST(:course AS uuid), client_id,
              CASE WHEN completed THEN 'completed' ELSE 'active' END, 'direct', created,
              CASE WHEN completed THEN created + interval '12 days' END, 'Asia/Kolkata',
              'enrollment-gen-' || client_id || '-' || CAST(:tag AS text)
       FROM (SELECT DISTINCT ON (client_id) client_id, created, fate = 1 AS completed FROM gen_plan
             WHERE price = 250000 ORDER BY client_id, created) first_buy""",
]


async def generate(session: AsyncSession, business: Business, *, start: datetime, end: datetime, bookings: int,
                   clients: int, tag: str, seed: float = 0.42) -> None:
    """`bookings` bookings created in [start, end) by `clients` new clients, and what follows."""
    params: dict[str, Any] = {
        "seed": seed, "tenant": business.tenant_id, "consultant": business.consultant_id,
        "consultant_user": business.consultant_user_id, "offering": business.offering_id, "start": start,
        "end": end, "bookings": bookings, "clients": clients, "tag": tag, "remedy": str(uuid.uuid4()),
        "course": str(uuid.uuid4()),
    }
    for statement in STATEMENTS:
        await session.execute(text(statement), params)


# The figures straight from the source tables, for instants in [lo, hi): what the roll-up must say.
PURCHASES = """
    SELECT tenant_id, client_id, confirmed_at AS at FROM bookings WHERE confirmed_at IS NOT NULL {b}
    UNION ALL
    SELECT o.tenant_id, o.client_id, o.paid_at FROM orders o
    WHERE o.paid_at IS NOT NULL AND o.status <> 'needs_review' {o}
      AND NOT EXISTS (SELECT 1 FROM bookings pb WHERE pb.order_id = o.id)"""
SPEND = """
    SELECT o.tenant_id, o.client_id, o.paid_at AS at, o.total - o.tax AS spend FROM orders o
    WHERE o.paid_at IS NOT NULL AND o.status <> 'needs_review' {o}
    UNION ALL
    SELECT o.tenant_id, o.client_id, r.processed_at, -r.amount FROM refunds r JOIN orders o ON o.id = r.order_id
    WHERE r.status = 'processed' {o}"""


async def direct_counts(session: AsyncSession, tenant_id: uuid.UUID | None, lo: datetime, hi: datetime,
                        consultant_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A consultancy's (None: every one's) figures counted from bookings, orders, refunds,
    quotations, remedies and enrolments. With consultant_id: the booking-based counts only."""
    t = "(CAST(:tenant AS uuid) IS NULL OR tenant_id = :tenant)"
    c = "(CAST(:consultant AS uuid) IS NULL OR consultant_id = :consultant)"
    w = "{} >= :lo AND {} < :hi"
    p = {"tenant": tenant_id, "lo": lo, "hi": hi, "consultant": consultant_id}

    async def one(sql: str) -> int:
        return int(await session.scalar(text(sql), p) or 0)

    def bookings(at: str, extra: str = "") -> str:
        return f"SELECT count(*) FROM bookings WHERE {t} AND {c} AND {w.format(at, at)} {extra}"

    out: dict[str, Any] = {
        "holds": await one(bookings("created_at")),
        "paid_bookings": await one(bookings("paid_at")),
        "sessions_booked": await one(bookings("confirmed_at")),
        "sessions_completed": await one(bookings("completed_at")),
        "sessions_cancelled": await one(bookings("cancelled_at", "AND confirmed_at IS NOT NULL")),
        "sessions_no_show": await one(bookings("no_show_at")),
        "sessions_value": await one(f"SELECT sum(price_minor) FROM bookings WHERE {t} AND {c} AND "
                                    f"{w.format('confirmed_at', 'confirmed_at')}"),
    }
    if consultant_id is not None:
        return out
    o = "AND (CAST(:tenant AS uuid) IS NULL OR o.tenant_id = :tenant)"
    paid = f"FROM orders WHERE {t} AND status <> 'needs_review' AND {w.format('paid_at', 'paid_at')}"
    out |= {
        "quotations_sent": await one(f"SELECT count(*) FROM quotations WHERE {t} AND {w.format('sent_at', 'sent_at')}"),
        "quotations_accepted": await one(f"SELECT count(*) FROM quotations WHERE {t} AND status IN "
                                         f"('accepted', 'paid') AND {w.format('decided_at', 'decided_at')}"),
        "remedies_started": await one(f"SELECT count(*) FROM remedy_programmes WHERE {t} AND "
                                      f"{w.format('created_at', 'created_at')}"),
        "remedies_completed": await one(f"SELECT count(*) FROM remedy_programmes WHERE {t} AND status = 'completed' "
                                        f"AND {w.format('ended_at', 'ended_at')}"),
        "remedies_stopped": await one(f"SELECT count(*) FROM remedy_programmes WHERE {t} AND status = 'stopped' "
                                      f"AND {w.format('ended_at', 'ended_at')}"),
        "course_enrolments": await one(f"SELECT count(*) FROM enrollments WHERE {t} AND "
                                       f"{w.format('enrolled_at', 'enrolled_at')}"),
        "course_completions": await one(f"SELECT count(*) FROM enrollments WHERE {t} AND "
                                        f"{w.format('completed_at', 'completed_at')}"),
        "orders_paid": await one(f"SELECT count(*) {paid}"),
        "gross": await one(f"SELECT sum(subtotal) {paid}"),
        "discounts": await one(f"SELECT sum(discount) {paid}"),
        "gst": await one(f"SELECT sum(tax) {paid}"),
        "collected": await one(f"SELECT sum(total) {paid}"),
        "refunds": await one(f"SELECT sum(amount) FROM refunds WHERE {t} AND status = 'processed' AND "
                             f"{w.format('processed_at', 'processed_at')}"),
    }
    purchases, spend = PURCHASES.format(b=f"AND {t}", o=o), SPEND.format(o=o)
    clients = (await session.execute(text(f"""
        WITH active AS (SELECT DISTINCT tenant_id, client_id FROM ({purchases}) x WHERE at >= :lo AND at < :hi),
        history AS (SELECT tenant_id, client_id, min(at) AS first_at, count(*) AS purchases FROM ({purchases}) y
                    WHERE at < :hi GROUP BY 1, 2),
        spent AS (SELECT tenant_id, client_id, sum(spend) AS spend FROM ({spend}) z WHERE at < :hi GROUP BY 1, 2)
        SELECT count(*) AS active, count(*) FILTER (WHERE h.first_at >= :lo) AS new,
               count(*) FILTER (WHERE h.purchases >= 2) AS repeat, coalesce(sum(s.spend), 0) AS spend
        FROM active a JOIN history h USING (tenant_id, client_id) LEFT JOIN spent s USING (tenant_id, client_id)
        """), p)).one()
    out |= {"clients_active": int(clients.active), "clients_new": int(clients.new),
            "clients_repeat": int(clients.repeat), "clients_spend": int(clients.spend)}
    return out
