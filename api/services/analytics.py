"""Analytics reads: figures of a period from the daily roll-ups, a daily series, CSV.

Everything is read from the roll-up tables (models/analytics.py), a few indexed aggregates per
answer, so a dashboard costs the same at 100 or 100,000 bookings. A tenant not yet rolled up in
the asked zone is filled first, once (models/analytics_rollup.fill), in the request's
transaction and under its row-level security.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import Problem, problem_type
from api.schemas.analytics import (
    ClientFigures,
    CourseFigures,
    CurrencyAmount,
    DailySeries,
    Figures,
    FunnelFigures,
    PeriodOut,
    QuotationFigures,
    RemedyFigures,
    RevenueFigures,
    SessionFigures,
)
from core.redis_batch import RedisBatch
from domain.analytics import (
    VIEW_KEY_TTL_SECONDS,
    DayRange,
    PageKind,
    average,
    rate,
    view_bucket,
    view_field,
    view_key,
)
from models import analytics_clients as clients_of
from models import analytics_rollup as rollup

log = logging.getLogger(__name__)

RANGE_INVALID = problem_type(
    "analytics-range-invalid", 422, "That period cannot be reported",
    "A custom period needs 'from' and 'to' (local dates, 'to' not before 'from', at most two years); "
    "'from' and 'to' go with period=custom only; every day lies between 1970-01-01 and 2999-12-31.")
ZONE_UNKNOWN = problem_type(
    "analytics-zone-unknown", 422, "Unknown time zone",
    "The database does not know this IANA zone; use a name such as Asia/Kolkata or Europe/London.")

DAILY = rollup.DAILY_METRICS
MONEY = ("orders_paid", "gross", "discounts", "gst", "collected", "refunds", "sessions_booked", "sessions_value")


@dataclass(frozen=True)
class Scope:
    """Whose figures: one consultancy (or every one, tenant_id None: the platform), one consultant."""

    tenant_id: uuid.UUID | None
    consultant_id: uuid.UUID | None = None

    @property
    def name(self) -> str:
        return "consultant" if self.consultant_id else "consultancy" if self.tenant_id else "platform"


def _where(scope: Scope, zone: str, first: date | None, last: date, alias: str = "") -> tuple[str, dict[str, Any]]:
    a = f"{alias}." if alias else ""
    clauses = [f"{a}zone = :zone", f"{a}day <= :last"]
    params: dict[str, Any] = {"zone": zone, "last": last, "first": first}
    if first is not None:
        clauses.append(f"{a}day >= :first")
    if scope.tenant_id:
        clauses.append(f"{a}tenant_id = :tenant")
        params["tenant"] = scope.tenant_id
    if scope.consultant_id:
        clauses.append(f"{a}consultant_id = :consultant")
        params["consultant"] = scope.consultant_id
    return " AND ".join(clauses), params


async def ensure_filled(session: AsyncSession, scope: Scope, zone: str) -> None:
    """Roll up, once, the history of the consultancies in scope not yet kept in `zone`."""
    missing = await rollup.unfilled_tenants(session, zone, scope.tenant_id)
    if not missing:
        return
    known = await session.scalar(text(
        "SELECT EXISTS (SELECT 1 FROM analytics_zones WHERE zone = CAST(:z AS text)) OR "
        "EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = CAST(:z AS text))"), {"z": zone})
    if not known:
        raise Problem(ZONE_UNKNOWN, f"'{zone}' is not a time zone the database knows", field="timezone")
    await rollup.fill(session, zone, missing, datetime.now(ZoneInfo(zone)).date())


async def dashboard(session: AsyncSession, scope: Scope, zone: str, current: DayRange,
                    previous: DayRange) -> tuple[Figures, Figures, DailySeries]:
    """The figures of both periods and the current one day by day: three statements, one per
    roll-up table, over the days of both periods (the sums of a period are added up here)."""
    days = await _days(session, scope, zone, current, previous)
    clients = await _clients(session, scope, zone, current, previous)
    return (_figures(days, current, clients[0]), _figures(days, previous, clients[1]), days.series(current))


async def series(session: AsyncSession, scope: Scope, zone: str, period: DayRange) -> DailySeries:
    return (await _days(session, scope, zone, period)).series(period)


@dataclass
class _Days:
    """The roll-up rows in scope summed per local day: counts, and money per day and currency."""

    counts: dict[date, dict[str, int]]
    money: dict[tuple[date, str], dict[str, int]]

    def series(self, period: DayRange) -> DailySeries:
        days = period.dates()
        index = {d: i for i, d in enumerate(days)}
        counts = {m: [0] * len(days) for m in DAILY}
        for day, row in self.counts.items():
            if day in index:
                for m in DAILY:
                    counts[m][index[day]] = row[m]
        revenue: dict[str, dict[str, list[int]]] = {}
        for (day, currency), row in sorted(self.money.items()):
            if day not in index:
                continue
            figures_of = revenue.setdefault(currency, {m: [0] * len(days) for m in (*MONEY, "net")})
            for m in MONEY:
                figures_of[m][index[day]] = row[m]
            figures_of["net"][index[day]] = row["collected"] - row["gst"] - row["refunds"]
        return DailySeries(days=days, counts=counts, revenue=revenue)

    def totals(self, period: DayRange) -> tuple[dict[str, int], dict[str, dict[str, int]]]:
        """The period's counts, and its money per currency (in currency order)."""
        counts = dict.fromkeys(DAILY, 0)
        for day, row in self.counts.items():
            if period.first <= day <= period.last:
                for m in DAILY:
                    counts[m] += row[m]
        money: dict[str, dict[str, int]] = {}
        for (day, currency), row in sorted(self.money.items(), key=lambda item: item[0][1]):
            if period.first <= day <= period.last:
                sums = money.setdefault(currency, dict.fromkeys(MONEY, 0))
                for m in MONEY:
                    sums[m] += row[m]
        return counts, money


async def _days(session: AsyncSession, scope: Scope, zone: str, *periods: DayRange) -> _Days:
    where, params = _where(scope, zone, min(p.first for p in periods), max(p.last for p in periods))
    counts = {row.day: {m: int(getattr(row, m)) for m in DAILY} for row in (await session.execute(text(
        f"SELECT day, {', '.join(f'sum({m}) AS {m}' for m in DAILY)} FROM analytics_daily "
        f"WHERE {where} GROUP BY day"), params)).all()}
    money = {(row.day, row.currency): {m: int(getattr(row, m)) for m in MONEY} for row in (await session.execute(text(
        f"SELECT day, currency, {', '.join(f'sum({m}) AS {m}' for m in MONEY)} FROM analytics_revenue_daily "
        f"WHERE {where} GROUP BY day, currency"), params)).all()}
    return _Days(counts, money)


def _figures(days: _Days, period: DayRange, clients: ClientFigures) -> Figures:
    c, money = days.totals(period)
    revenue = [RevenueFigures(
        currency=currency, orders_paid=r["orders_paid"], gross=r["gross"], discounts=r["discounts"],
        refunds=r["refunds"], gst=r["gst"], collected=r["collected"], net=r["collected"] - r["gst"] - r["refunds"])
        for currency, r in money.items() if r["orders_paid"] or r["refunds"]]
    ended = c["sessions_completed"] + c["sessions_cancelled"] + c["sessions_no_show"]
    return Figures(
        period=PeriodOut(first=period.first, last=period.last, days=period.days),
        revenue=revenue,
        sessions=SessionFigures(
            booked=c["sessions_booked"], completed=c["sessions_completed"], cancelled=c["sessions_cancelled"],
            no_show=c["sessions_no_show"], completion_rate=rate(c["sessions_completed"], ended),
            average_value=[CurrencyAmount(currency=currency,
                                          amount_minor=average(r["sessions_value"], r["sessions_booked"]))
                           for currency, r in money.items() if r["sessions_booked"]]),
        clients=clients,
        quotations=QuotationFigures(sent=c["quotations_sent"], accepted=c["quotations_accepted"],
                                    conversion_rate=rate(c["quotations_accepted"], c["quotations_sent"])),
        remedies=RemedyFigures(
            started=c["remedies_started"], completed=c["remedies_completed"], stopped=c["remedies_stopped"],
            completion_rate=rate(c["remedies_completed"], c["remedies_completed"] + c["remedies_stopped"])),
        courses=CourseFigures(enrolments=c["course_enrolments"], completions=c["course_completions"],
                              completion_rate=rate(c["course_completions"], c["course_enrolments"])),
        funnel=FunnelFigures(
            page_views=c["page_views"], slot_views=c["slot_views"], held=c["holds"], paid=c["paid_bookings"],
            slots_per_view=rate(c["slot_views"], c["page_views"]),
            held_per_slot_view=rate(c["holds"], c["slot_views"]), paid_per_held=rate(c["paid_bookings"], c["holds"])),
    )


async def _clients(session: AsyncSession, scope: Scope, zone: str, current: DayRange,
                   previous: DayRange) -> tuple[ClientFigures, ClientFigures]:
    """Active, new, repeat and lifetime value of the current and the previous period: kept by the
    roll-up for the usual periods, else counted from the client-day rows (models/analytics_clients)."""
    before, now = await clients_of.clients(session, zone, previous, current, scope.tenant_id, scope.consultant_id)
    return _client_figures(now), _client_figures(before)


def _client_figures(counts: clients_of.ClientCounts) -> ClientFigures:
    return ClientFigures(
        new=counts.new, active=counts.active, repeat_rate=rate(counts.repeat, counts.active),
        lifetime_value=[CurrencyAmount(currency=currency, amount_minor=average(spend, clients))
                        for currency, (clients, spend) in sorted(counts.lifetime.items()) if clients])


def series_csv(daily: DailySeries) -> str:
    """One row per day: every count, then every money figure per currency (`gross_INR`, ...)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    money = [(cur, m) for cur in sorted(daily.revenue) for m in daily.revenue[cur]]
    writer.writerow(["day", *daily.counts, *(f"{m}_{cur}" for cur, m in money)])
    for i, day in enumerate(daily.days):
        writer.writerow([day.isoformat(), *(values[i] for values in daily.counts.values()),
                         *(daily.revenue[cur][m][i] for cur, m in money)])
    return out.getvalue()


async def count_view(batch: RedisBatch, tenant_id: uuid.UUID, consultant_id: uuid.UUID | None,
                     kind: PageKind) -> None:
    """One view of a public page: a counter of its quarter hour in Redis (the roll-up copies the
    counters into analytics_view_buckets), sent with the process's other Redis calls of the moment
    (`core.redis_batch`). Never fails the page: a Redis hiccup loses a count."""
    key = view_key(view_bucket(time.time()))
    try:
        await batch.execute(("HINCRBY", key, view_field(tenant_id, consultant_id, kind), 1),
                            ("EXPIRE", key, VIEW_KEY_TTL_SECONDS))
    except (RedisError, OSError, TimeoutError) as exc:
        log.warning("page view not counted: %s", exc)
