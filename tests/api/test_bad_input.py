"""Bad input that used to reach a 500 (issue 10, part 2) is a clear problem and changes nothing.

Each case was found by a fuzz over the OpenAPI document (tests/api/test_fuzz_openapi.py keeps
looking for more): nulls for required columns, NUL characters, malformed signed links and
webhook signatures, a staff booking naming no client.
"""

from __future__ import annotations

from booking_support import bookable
from support import active_consultancy, assert_problem, register_client
from test_every_route import _snapshot as _every_row

from models import Base
from models.identity import User


async def _snapshot(sessionmaker) -> dict:
    """Every row, less what the sign-up's own messages write meanwhile in the background."""
    rows = await _every_row(sessionmaker)
    return {table: found for table, found in rows.items()
            if table not in {"notification_deliveries", "outbox_messages", "audit_events"}}


async def test_null_for_a_required_field_is_a_422_naming_it(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "NULLS10", "kind": "percent", "percent_bp": 1000})
    assert coupon.status_code == 201, coupon.text
    consultant, offering = await bookable(client, owner)
    before = await _snapshot(sessionmaker)
    for url, field in (("/api/v1/me", "full_name"), ("/api/v1/tenant", "name"), ("/api/v1/tenant", "timezone"),
                       (f"/api/v1/coupons/{coupon.json()['id']}", "active"),
                       (f"/api/v1/offerings/{offering['id']}", "title"),
                       (f"/api/v1/consultants/{consultant['id']}", "display_name")):
        body = assert_problem(await client.patch(url, headers=owner.headers(), json={field: None}),
                              422, "validation", field)
        assert body["errors"][0]["field"] == field
    assert await _snapshot(sessionmaker) == before
    # A null where the column may be empty still clears it.
    cleared = await client.patch(f"/api/v1/coupons/{coupon.json()['id']}", headers=owner.headers(),
                                 json={"description": None})
    assert cleared.status_code == 200 and cleared.json()["description"] is None


def test_patch_helper_knows_each_required_column_from_the_models():
    from api.patching import required_nulls

    assert required_nulls(User, {"full_name": None, "phone": None, "not_a_column": None}) == ["full_name"]
    assert any(not c.nullable for t in Base.metadata.sorted_tables for c in t.columns)


async def test_nul_in_any_text_input_is_a_422_naming_it(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    before = await _snapshot(sessionmaker)
    assert_problem(await client.get("/api/v1/clients", headers=owner.headers(), params={"q": "a\x00b"}),
                   422, "validation", "q")
    assert_problem(await client.patch("/api/v1/me", headers=owner.headers(), json={"full_name": "a\x00b"}),
                   422, "validation", "full_name")
    nested = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": owner.user_id, "lines": [{"kind": "product", "description": "x\x00", "unit_amount": 100}]})
    assert_problem(nested, 422, "validation", "lines.0.description")
    assert_problem(await client.put("/api/v1/astrology/texts/driver:8%00/en", headers=owner.headers(),
                                    json={"text": "t"}), 422, "validation", "key")
    assert await _snapshot(sessionmaker) == before


async def test_malformed_signed_links_are_404_invalid_link(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    for url in ("/api/v1/booking-links/é.é", "/api/v1/booking-links/%C3%A9", "/api/v1/booking-links/a.b.c",
                "/api/v1/calendar-feeds/é.é", "/api/v1/calendar-feeds/x", "/api/v1/calendar-feeds/W10.W10"):
        response = await client.get(url, headers={"X-Tenant": owner.tenant_slug or ""})
        assert_problem(response, 404, "invalid-link")


async def test_a_non_ascii_webhook_signature_is_a_400(client):
    body = b'{"event": "payment.captured", "payload": {}}'
    for path in ("/api/v1/webhooks/razorpay",):
        response = await client.post(path, content=body, headers={
            "Content-Type": "application/json", "X-Razorpay-Signature": ("é" * 64).encode()})
        assert_problem(response, 400, "webhook-signature-invalid", "X-Razorpay-Signature")


async def test_staff_booking_without_a_client_is_a_422(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    await register_client(client, owner.tenant_slug or "")
    _, offering = await bookable(client, owner)
    response = await client.post("/api/v1/bookings", headers=owner.headers(), json={
        "offering_id": offering["id"], "starts_at": "2099-01-05T04:30:00Z"})
    body = assert_problem(response, 422, "validation", "client_id")
    assert body["errors"][0]["field"] == "client_id"
