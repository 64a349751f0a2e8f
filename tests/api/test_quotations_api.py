"""Quotations through the API: staff draft, edit, send, revise, extend; the client views, accepts and pays
through the signed link; bad input changes nothing; the link refuses tampering, expiry and other tenants."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from booking_support import bookable
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, eventually, register_client, sent_message

from core.db import TenantScope, scoped_session
from core.signing import sign
from models.payments import Order
from models.quotations import Quotation, QuotationLine, QuotationVersion

GUEST = "seeker.quote@example.com"


def _body(offering_id: str, **extra: Any) -> dict[str, Any]:
    return {"title": "A year of guidance", "client": {"full_name": "Meera Quote", "email": GUEST,
                                                      "timezone": "Asia/Kolkata"},
            "lines": [{"kind": "offering", "offering_id": offering_id, "quantity": 12},
                      {"kind": "custom", "description": "Vastu site visit, Pune", "unit_amount": 1_500_000}],
            "discount_kind": "percent", "discount_value": 1000, "notes": "Travel included.",
            "terms": "Valid for the dates agreed.", "validity_days": 10, **extra}


async def _practice(client, sessionmaker) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner, price_minor=300_000)
    return owner, consultant, offering


async def _counts(sessionmaker) -> tuple[int, int, int, int]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return (await session.scalar(select(func.count()).select_from(Quotation)) or 0,
                await session.scalar(select(func.count()).select_from(QuotationVersion)) or 0,
                await session.scalar(select(func.count()).select_from(QuotationLine)) or 0,
                await session.scalar(select(func.count()).select_from(Order)) or 0)


def _token(link: str) -> str:
    return link.rsplit("/quotation-links/", 1)[1].split("/", 1)[0]


def _pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


async def test_draft_send_view_accept_and_pay_through_the_link(client, sessionmaker, gateway):
    owner, _, offering = await _practice(client, sessionmaker)
    made = await client.post("/api/v1/quotations", headers=owner.headers(), json=_body(offering["id"]))
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["status"] == "draft" and draft["number"] == "Q-0001" and draft["client_id"] is None
    assert draft["current"]["subtotal"] == 12 * 300_000 + 1_500_000 and draft["current"]["discount"] == 510_000
    assert draft["total"] == 4_590_000
    # Only drafts are edited in place: change the discount to an amount.
    edited = await client.patch(f"/api/v1/quotations/{draft['id']}", headers=owner.headers(),
                                json={"discount_kind": "amount", "discount_value": 90_000})
    assert edited.status_code == 200, edited.text
    assert edited.json()["total"] == 5_010_000 and len(edited.json()["current"]["lines"]) == 2

    sent = await client.post(f"/api/v1/quotations/{draft['id']}/send", headers=owner.headers())
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "sent" and sent.json()["client_id"] and sent.json()["expires_at"]
    assert_problem(await client.patch(f"/api/v1/quotations/{draft['id']}", headers=owner.headers(),
                                      json={"title": "Changed"}), 409, "quotation-closed")
    message = await sent_message(sessionmaker, GUEST, "quotation.received.client", timeout=30)
    assert message.attachments and message.attachments[0]["content_type"] == "application/pdf"
    token = _token(message.data["link"])

    seen = await client.get(f"/api/v1/quotation-links/{token}")
    assert seen.status_code == 200, seen.text
    page = seen.json()
    assert page["status"] == "viewed" and page["can_accept"] and page["current"]["total"] == 5_010_000
    assert GUEST not in seen.text  # the link shows no email
    await client.get(f"/api/v1/quotation-links/{token}")
    staff_view = (await client.get(f"/api/v1/quotations/{draft['id']}", headers=owner.headers())).json()
    assert staff_view["views"] == 2 and len(staff_view["view_log"]) == 2
    await sent_message(sessionmaker, owner.email, "quotation.viewed.consultant", timeout=30)

    pdf = await client.get(f"/api/v1/quotation-links/{token}/pdf", params={"lang": "en"})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "Quotation Q-0001" in text and "Vastu site visit, Pune" in text and "Kundli reading" in text
    assert "50,100.00" in text  # the total, after the discount
    hindi = await client.get(f"/api/v1/quotations/{draft['id']}/pdf", headers=owner.headers(), params={"lang": "hi"})
    assert hindi.status_code == 200 and hindi.content.startswith(b"%PDF") and hindi.content != pdf.content

    accepted = await client.post(f"/api/v1/quotation-links/{token}/accept")
    assert accepted.status_code == 200, accepted.text
    answer = accepted.json()
    assert answer["quotation_status"] == "accepted" and answer["checkout"]["amount"] == 5_010_000
    assert_problem(await client.post(f"/api/v1/quotation-links/{token}/accept"), 409, "quotation-closed")
    paid = gateway.pay(answer["checkout"]["gateway_order_id"])
    verified = await client.post(f"/api/v1/quotation-links/{token}/payment", json=paid)
    assert verified.status_code == 202, verified.text

    async def status() -> str:
        return str((await client.get(f"/api/v1/quotations/{draft['id']}", headers=owner.headers())).json()["status"])
    assert await eventually(status, "paid", timeout=30) == "paid"
    listed = await client.get("/api/v1/quotations", headers=owner.headers(), params={"status": "paid"})
    assert [q["id"] for q in listed.json()["items"]] == [draft["id"]]
    stats = (await client.get("/api/v1/quotations/stats", headers=owner.headers())).json()
    assert stats["sent"] == 1 and stats["accepted"] == 1 and stats["paid"] == 1 and stats["conversion_rate"] == 1.0


async def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(client, sessionmaker):
    owner, _, offering = await _practice(client, sessionmaker)
    before = await _counts(sessionmaker)
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    cases = [
        ({"lines": [{"kind": "custom", "description": "x", "unit_amount": -5}]}, "lines.0.unit_amount"),
        ({"lines": []}, "lines"),
        ({"expires_at": past, "validity_days": None}, "expires_at"),
        ({"discount_kind": "amount", "discount_value": 99_000_000}, "discount_value"),
        ({"discount_kind": "percent", "discount_value": 10_001}, "discount_value"),
        ({"lines": [{"kind": "custom", "unit_amount": 500}]}, "lines.0.description"),
        ({"client": None, "client_id": None}, "client_id"),
        ({"title": None}, "title"),
    ]
    for change, field in cases:
        response = await client.post("/api/v1/quotations", headers=owner.headers(),
                                     json={**_body(offering["id"]), **change})
        body = assert_problem(response, 422, "validation")
        assert field in (body["field"], *[e["field"] for e in body.get("errors", [])]), (change, body)
    unknown = await client.post("/api/v1/quotations", headers=owner.headers(), json={
        **_body(offering["id"]), "lines": [{"kind": "offering", "offering_id": str(uuid.uuid4())}]})
    assert_problem(unknown, 404, "not-found", "lines.0.offering_id")
    assert await _counts(sessionmaker) == before


async def test_revise_extend_reject_and_what_a_client_sees(client, sessionmaker, keys):
    owner, _, offering = await _practice(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    made = (await client.post("/api/v1/quotations", headers=owner.headers(), json={
        **_body(offering["id"]), "client": None, "client_id": customer.user_id})).json()
    qid = made["id"]
    assert (await client.get(f"/api/v1/quotations/{qid}", headers=customer.headers())).status_code == 404  # draft
    assert (await client.post(f"/api/v1/quotations/{qid}/send", headers=owner.headers())).status_code == 200
    message = await sent_message(sessionmaker, customer.email, "quotation.received.client", timeout=30)
    old_token = _token(message.data["link"])

    revised = await client.post(f"/api/v1/quotations/{qid}/revise", headers=owner.headers(), json={
        "title": "A year of guidance, revised", "validity_days": 7,
        "lines": [{"kind": "custom", "description": "Guidance, 12 months", "unit_amount": 2_000_000}]})
    assert revised.status_code == 200, revised.text
    view = revised.json()
    assert view["version"] == 2 and view["total"] == 2_000_000 and view["status"] == "sent"
    assert [v["superseded"] for v in view["versions"]] == [True, False]
    # The old link shows the new version.
    page = (await client.get(f"/api/v1/quotation-links/{old_token}")).json()
    assert page["version"] == 2 and page["current"]["title"] == "A year of guidance, revised"

    later = (datetime.now(UTC) + timedelta(days=20)).isoformat()
    extended = await client.post(f"/api/v1/quotations/{qid}/extend", headers=owner.headers(),
                                 json={"expires_at": later})
    assert extended.status_code == 200, extended.text
    assert extended.json()["workflow"]["extensions"] == 1
    assert_problem(await client.post(f"/api/v1/quotations/{qid}/extend", headers=owner.headers(),
                                     json={"expires_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat()}),
                   422, "validation", "expires_at")

    mine = (await client.get("/api/v1/quotations", headers=customer.headers())).json()["items"]
    assert [q["id"] for q in mine] == [qid]
    assert_problem(await client.post(f"/api/v1/quotations/{qid}/accept", headers=owner.headers()), 403, "forbidden")
    rejected = await client.post(f"/api/v1/quotations/{qid}/reject", headers=customer.headers(),
                                 json={"reason": "over budget"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_reason"] == "over budget"
    told = await sent_message(sessionmaker, owner.email, "quotation.rejected.consultant", timeout=30)
    assert "over budget" in told.body
    assert_problem(await client.post(f"/api/v1/quotations/{qid}/withdraw", headers=owner.headers()),
                   409, "quotation-closed")


async def test_the_link_refuses_tampering_expiry_and_other_tenants(client, sessionmaker, keys):
    owner, _, offering = await _practice(client, sessionmaker)
    made = (await client.post("/api/v1/quotations", headers=owner.headers(), json=_body(offering["id"]))).json()
    await client.post(f"/api/v1/quotations/{made['id']}/send", headers=owner.headers())
    message = await sent_message(sessionmaker, GUEST, "quotation.received.client", timeout=30)
    token = _token(message.data["link"])
    body, mac = token.split(".")
    tampered = f"{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    assert_problem(await client.get(f"/api/v1/quotation-links/{tampered}"), 404, "invalid-link", "link_token")
    expired = sign(keys, "quotation", {"q": made["id"], "t": owner.tenant_id},
                   expires_at=datetime.now(UTC) - timedelta(minutes=1))
    assert_problem(await client.get(f"/api/v1/quotation-links/{expired}"), 410, "link-expired", "link_token")
    other = await active_consultancy(client, sessionmaker)
    elsewhere = sign(keys, "quotation", {"q": made["id"], "t": other.tenant_id},
                     expires_at=datetime.now(UTC) + timedelta(days=1))
    assert_problem(await client.get(f"/api/v1/quotation-links/{elsewhere}"), 404, "invalid-link")
    booking_kind = sign(keys, "booking", {"b": made["id"], "t": owner.tenant_id},
                        expires_at=datetime.now(UTC) + timedelta(days=1))
    assert_problem(await client.post(f"/api/v1/quotation-links/{booking_kind}/accept"), 404, "invalid-link")
    assert (await client.get(f"/api/v1/quotations/{made['id']}", headers=other.headers())).status_code == 404
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(Quotation, uuid.UUID(made["id"]))
        assert row is not None and row.views == 0 and row.status == "sent"  # none of those counted as a view
