"""Analytics: a generated month rolled up by the AnalyticsRollup workflow (on the dev server, by
the tests' worker) answers what a direct count of the source tables says, in a zone with a DST
change and in one with a half-hour offset; tenants see only their own figures; late events are
corrected by the next run; public page views reach the funnel; bad periods are clear problems."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from analytics_support import Business, direct_counts, generate
from booking_support import bookable
from sqlalchemy import text
from support import active_consultancy, assert_problem, platform_admin, register_client

from core.db import TenantScope, scoped_session
from domain.analytics import RollupInput, average, rate

DASHBOARD = "/api/v1/analytics/dashboard"
NOVEMBER = {"period": "month", "on": "2026-11-15"}


async def _business(client, sessionmaker, *, bookings: int, clients: int, tag: str):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner)
    business = Business(uuid.UUID(owner.tenant_id), uuid.UUID(consultant["id"]), uuid.UUID(owner.user_id),
                        uuid.UUID(offering["id"]))
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        # October 20 to December 5 (UTC): November in every zone, with days either side
        await generate(session, business, start=datetime(2026, 10, 20, tzinfo=UTC),
                       end=datetime(2026, 12, 5, tzinfo=UTC), bookings=bookings, clients=clients, tag=tag)
    return owner, business


async def _roll_up(temporal_client, api_settings, zones: list[str], days: int = 7) -> dict[str, Any]:
    result = await temporal_client.execute_workflow(
        "AnalyticsRollup", RollupInput(days=days, zones=zones), id=f"analytics-test-{uuid.uuid4().hex[:8]}",
        task_queue=api_settings.temporal_task_queue, result_type=dict)
    return result


def _bounds(zone: str, first: date, last: date) -> tuple[datetime, datetime]:
    tz = ZoneInfo(zone)
    return (datetime(first.year, first.month, first.day, tzinfo=tz),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), tz))


def _assert_matches(figures: dict[str, Any], direct: dict[str, Any]) -> None:
    sessions, funnel = figures["sessions"], figures["funnel"]
    assert (sessions["booked"], sessions["completed"], sessions["cancelled"], sessions["no_show"]) == (
        direct["sessions_booked"], direct["sessions_completed"], direct["sessions_cancelled"],
        direct["sessions_no_show"])
    ended = direct["sessions_completed"] + direct["sessions_cancelled"] + direct["sessions_no_show"]
    assert sessions["completion_rate"] == rate(direct["sessions_completed"], ended)
    assert sessions["average_value"] == ([{"currency": "INR", "amount_minor": average(
        direct["sessions_value"], direct["sessions_booked"])}] if direct["sessions_booked"] else [])
    assert (funnel["held"], funnel["paid"]) == (direct["holds"], direct["paid_bookings"])
    if "orders_paid" not in direct:
        return
    if not (direct["orders_paid"] or direct["refunds"]):
        assert figures["revenue"] == []
        return
    [inr] = figures["revenue"]
    assert {k: inr[k] for k in ("orders_paid", "gross", "discounts", "gst", "collected", "refunds")} == {
        k: direct[k] for k in ("orders_paid", "gross", "discounts", "gst", "collected", "refunds")}
    assert inr["net"] == direct["collected"] - direct["gst"] - direct["refunds"]
    assert figures["quotations"] == {
        "sent": direct["quotations_sent"], "accepted": direct["quotations_accepted"],
        "conversion_rate": rate(direct["quotations_accepted"], direct["quotations_sent"])}
    assert (figures["remedies"]["started"], figures["remedies"]["completed"], figures["remedies"]["stopped"]) == (
        direct["remedies_started"], direct["remedies_completed"], direct["remedies_stopped"])
    assert (figures["courses"]["enrolments"], figures["courses"]["completions"]) == (
        direct["course_enrolments"], direct["course_completions"])
    clients = figures["clients"]
    assert (clients["active"], clients["new"]) == (direct["clients_active"], direct["clients_new"])
    assert clients["repeat_rate"] == rate(direct["clients_repeat"], direct["clients_active"])
    assert clients["lifetime_value"] == ([{"currency": "INR", "amount_minor": average(
        direct["clients_spend"], direct["clients_active"])}] if direct["clients_active"] else [])


async def test_a_generated_month_matches_a_direct_count(client, sessionmaker, temporal_client, api_settings, keys):
    owner, a = await _business(client, sessionmaker, bookings=600, clients=80, tag="a")
    other, b = await _business(client, sessionmaker, bookings=150, clients=20, tag="b")
    zones = ["America/New_York", "Asia/Kolkata"]  # November 1st ends DST in New York; Kolkata is +05:30
    result = await _roll_up(temporal_client, api_settings, zones)
    assert result["zones"] == zones and result["rows"] > 0
    admin, _ = await platform_admin(client, sessionmaker, keys)

    for zone in zones:
        answer = await client.get(DASHBOARD, headers=owner.headers(), params={**NOVEMBER, "timezone": zone})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["scope"] == "consultancy" and body["timezone"] == zone
        assert body["current"]["period"] == {"first": "2026-11-01", "last": "2026-11-30", "days": 30}
        assert body["previous"]["period"] == {"first": "2026-10-01", "last": "2026-10-31", "days": 31}
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            november = await direct_counts(session, a.tenant_id, *_bounds(zone, date(2026, 11, 1), date(2026, 11, 30)))
            october = await direct_counts(session, a.tenant_id, *_bounds(zone, date(2026, 10, 1), date(2026, 10, 31)))
            mine = await direct_counts(session, a.tenant_id, *_bounds(zone, date(2026, 11, 1), date(2026, 11, 30)),
                                       consultant_id=a.consultant_id)
            everyone = await direct_counts(session, None, *_bounds(zone, date(2026, 11, 1), date(2026, 11, 30)))
        assert november["sessions_booked"] > 100 and november["refunds"] > 0 and november["clients_repeat"] > 0
        _assert_matches(body["current"], november)
        _assert_matches(body["previous"], october)
        series = body["series"]
        assert len(series["days"]) == 30 and series["days"][0] == "2026-11-01"
        assert sum(series["counts"]["sessions_booked"]) == november["sessions_booked"]
        assert sum(series["revenue"]["INR"]["net"]) == body["current"]["revenue"][0]["net"]

        one = await client.get(DASHBOARD, headers=owner.headers(),
                               params={**NOVEMBER, "timezone": zone, "consultant_id": str(a.consultant_id)})
        assert one.status_code == 200, one.text
        assert one.json()["scope"] == "consultant"
        _assert_matches(one.json()["current"], mine)

        platform = await client.get("/api/v1/admin/analytics/dashboard", headers=admin.headers(),
                                    params={**NOVEMBER, "timezone": zone})
        assert platform.status_code == 200, platform.text
        _assert_matches(platform.json()["current"], everyone)
        assert everyone["sessions_booked"] > november["sessions_booked"]  # B's are there, and only there

    # CSV: one row per day, the same figures
    exported = await client.get("/api/v1/analytics/export.csv", headers=owner.headers(),
                                params={**NOVEMBER, "timezone": "Asia/Kolkata"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["day"] for r in rows][:2] == ["2026-11-01", "2026-11-02"] and len(rows) == 30
    assert sum(int(r["sessions_booked"]) for r in rows) == (await client.get(
        DASHBOARD, headers=owner.headers(), params={**NOVEMBER, "timezone": "Asia/Kolkata"})
    ).json()["current"]["sessions"]["booked"]

    # B sees B's figures only; B naming A's consultant is refused
    b_answer = (await client.get(DASHBOARD, headers=other.headers(), params={**NOVEMBER, "timezone": zones[1]}))
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        b_direct = await direct_counts(session, b.tenant_id, *_bounds(zones[1], date(2026, 11, 1),
                                                                      date(2026, 11, 30)))
    _assert_matches(b_answer.json()["current"], b_direct)
    assert_problem(await client.get(DASHBOARD, headers=other.headers(), params={"consultant_id": str(a.consultant_id)}),
                   404, "not-found", "consultant_id")


async def test_late_events_and_page_views_are_counted_by_the_next_run(
        client, sessionmaker, temporal_client, api_settings):
    owner, a = await _business(client, sessionmaker, bookings=40, clients=10, tag="late")
    zone = "Asia/Kolkata"
    await _roll_up(temporal_client, api_settings, [zone])
    slug = owner.tenant_slug
    for path in (f"/api/v1/public/{slug}", f"/api/v1/public/{slug}/consultants/acharya",
                 f"/api/v1/public/{slug}/consultants/acharya/offerings/{a.offering_id}/slots"):
        assert (await client.get(path)).status_code == 200
    today = {"period": "today", "timezone": zone}
    before = (await client.get(DASHBOARD, headers=owner.headers(), params=today)).json()["current"]
    assert (before["funnel"]["page_views"], before["funnel"]["slot_views"]) == (0, 0)  # not flushed yet

    # late: a refund processed just now for an order paid weeks ago; a webhook telling only now that
    # an order made three days ago was paid
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(text("""
            INSERT INTO refunds (id, tenant_id, order_id, key, amount, gateway_amount, wallet_amount, destination,
                                 kind, reason, status, processed_at)
            SELECT gen_random_uuid(), tenant_id, id, 'late-' || id, 1000, 1000, 0, 'gateway', 'goodwill', 'late',
                   'processed', now() FROM orders WHERE tenant_id = :t AND status = 'fulfilled' LIMIT 1"""),
            {"t": a.tenant_id})
        await session.execute(text("""
            INSERT INTO orders (id, tenant_id, client_id, status, currency, subtotal, discount, taxable, tax, total,
                                wallet_applied, amount_due, amount_paid, amount_refunded, gst_mode, gst_rate_bp,
                                expires_at, wallet_released, paid_at, created_at)
            SELECT gen_random_uuid(), :t, id, 'fulfilled', 'INR', 20000, 0, 20000, 3600, 23600, 0, 23600, 23600, 0,
                   'exclusive', 1800, now(), false, now(), now() - interval '3 days'
            FROM users WHERE tenant_id = :t AND role = 'client' LIMIT 1"""), {"t": a.tenant_id})
    await _roll_up(temporal_client, api_settings, [zone], days=2)
    after = (await client.get(DASHBOARD, headers=owner.headers(), params=today)).json()
    assert (after["current"]["funnel"]["page_views"], after["current"]["funnel"]["slot_views"]) == (2, 1)
    local_today = datetime.now(ZoneInfo(zone)).date()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        direct = await direct_counts(session, a.tenant_id, *_bounds(zone, local_today, local_today))
    assert direct["refunds"] >= 1000 and direct["orders_paid"] >= 1
    _assert_matches(after["current"], direct)


async def test_bad_periods_zones_and_roles_are_clear_problems(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    assert_problem(await client.get(DASHBOARD, headers=h, params={"period": "custom", "to": "2026-11-30"}),
                   422, "analytics-range-invalid", "from")
    assert_problem(await client.get(DASHBOARD, headers=h, params={
        "period": "custom", "from": "2026-11-30", "to": "2026-11-01"}), 422, "analytics-range-invalid", "to")
    assert_problem(await client.get(DASHBOARD, headers=h, params={"period": "month", "from": "2026-11-01"}),
                   422, "analytics-range-invalid", "from")
    assert_problem(await client.get(DASHBOARD, headers=h, params={"timezone": "Mars/Olympus"}),
                   422, "validation", "timezone")
    custom = await client.get(DASHBOARD, headers=h, params={
        "period": "custom", "from": "2026-03-01", "to": "2026-03-31", "timezone": "Europe/London"})
    assert custom.status_code == 200, custom.text
    assert custom.json()["previous"]["period"] == {"first": "2026-01-29", "last": "2026-02-28", "days": 31}
    customer = await register_client(client, owner.tenant_slug or "")
    assert_problem(await client.get(DASHBOARD, headers=customer.headers()), 403, "forbidden")
