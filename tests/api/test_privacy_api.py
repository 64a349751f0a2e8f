"""Personal data through the API: a client's export holds every table that names them; an erasure
leaves their email, phone and names nowhere in the database while their invoices still add up.

Real PostgreSQL, Redis, the Temporal dev server with the production worker, the local Razorpay.
The checks read the database through the models' metadata, not through the product's own
catalogue of personal data, so a table the product forgot would fail them.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from typing import Any

from booking_support import bookable, public_slots
from payments_support import GSTIN
from sqlalchemy import JSON, Enum, LargeBinary, String, Text, cast, func, or_, select
from sqlalchemy.dialects.postgresql import JSONB
from support import (
    PASSWORD,
    Account,
    active_consultancy,
    assert_problem,
    login,
    poll_until,
    register_client,
    sent_message,
)
from test_payments_api import checkout, order_for, order_status

from core.db import TenantScope, scoped_session
from domain.privacy.requests import ERASED_NAME
from models import Base
from models.payments import Invoice, Order, OrderLine, Payment
from models.platform import AuditEvent
from models.privacy import PrivacyRequest

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DELHI = {"date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.2090,
         "timezone": "Asia/Kolkata"}


class Person:
    """A client whose every identifying string is unique to this test."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"Zorawar Quill{tag}"
        self.email = f"zq-{tag}@example.com"
        self.phone = f"+9198{int(tag, 16) % 10**8:08d}"
        self.birth_name = f"Zorawar Birthname{tag}"

    def strings(self) -> list[str]:
        return [self.name, self.email, self.phone, self.birth_name]


async def _client_with_history(client, sessionmaker, gateway) -> tuple[Account, Account, Person]:
    """A client who registered, has a birth profile, a paid and invoiced order, a file and a consent."""
    owner = await active_consultancy(client, sessionmaker)
    person = Person()
    registered = await client.post("/api/v1/auth/register", headers={"X-Tenant": owner.tenant_slug}, json={
        "full_name": person.name, "email": person.email, "password": PASSWORD, "phone": person.phone})
    assert registered.status_code == 201, registered.text
    body = registered.json()
    buyer = Account(body["user"]["id"], person.email, owner.tenant_slug, body["user"]["tenant_id"],
                    body["tokens"]["access_token"], body["tokens"]["refresh_token"])
    profile = await client.post("/api/v1/birth-profiles", headers=buyer.headers(), json={
        "label": "Self", "full_name": person.birth_name, "gender": "male", "birth": DELHI})
    assert profile.status_code == 201, profile.text
    assert (await client.put("/api/v1/payments/settings", headers=owner.headers(), json={
        "gst_mode": "exclusive", "gst_rate_bp": 1800, "gstin": GSTIN, "legal_name": "Demo Jyotish LLP"})
            ).status_code == 200
    order = await order_for(client, owner, buyer, {"kind": "product", "description": "Annual report",
                                                   "unit_amount": 100_000})
    info = await checkout(client, buyer, order["id"])
    paid = gateway.pay(info["gateway_order_id"])
    assert (await client.post(f"/api/v1/orders/{order['id']}/payment", headers=buyer.headers(),
                              json=paid)).status_code == 202
    await order_status(client, buyer.headers(), order["id"], "awaiting_fulfilment")
    uploaded = await client.post("/api/v1/files", headers=buyer.headers(),
                                 files={"file": ("palm.pdf", PDF, "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    consent = await client.post("/api/v1/me/consents", headers=buyer.headers(),
                                json={"kind": "marketing", "version": "2026-11", "granted": True})
    assert consent.status_code == 201, consent.text
    return owner, buyer, person


async def _naming_rows(sessionmaker, user_id: str, addresses: list[str]) -> dict[str, int]:
    """Per table, the rows whose foreign key to users holds this id (or addressed to this person)."""
    found: dict[str, int] = {}
    users = Base.metadata.tables["users"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for table in Base.metadata.sorted_tables:
            columns = [fk.parent for fk in table.foreign_keys if fk.column.table is users]
            conditions: list[Any] = [c == uuid.UUID(user_id) for c in columns]
            if "recipient" in table.c:
                conditions.append(table.c.recipient.in_(addresses))
            if table is users:
                conditions.append(users.c.id == uuid.UUID(user_id))
            if not conditions:
                continue
            n = (await session.execute(select(func.count()).select_from(table).where(or_(*conditions)))).scalar_one()
            if n:
                found[table.name] = n
    return found


def _binary_text(value: bytes) -> str:
    """What a stored file says: a PDF's text (an invoice's), anything else as UTF-8."""
    if value.startswith(b"%PDF"):
        from pypdf import PdfReader
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(value)).pages)
    return value.decode("utf-8", errors="ignore")


async def _where_written(sessionmaker, needles: list[str]) -> dict[str, list[str]]:
    """Every table.column (text, JSON or a stored file such as an invoice's PDF, every tenant) in
    which one of `needles` is still written."""
    hits: dict[str, list[str]] = {}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                if isinstance(column.type, Enum):
                    continue
                if isinstance(column.type, LargeBinary):
                    texts = [_binary_text(value) for value in (await session.execute(
                        select(column).where(column.is_not(None)))).scalars()]
                    for needle in needles:
                        if any(needle in text for text in texts):
                            hits.setdefault(needle, []).append(f"{table.name}.{column.name}")
                    continue
                if isinstance(column.type, String | Text):
                    as_text = column
                elif isinstance(column.type, JSON | JSONB):
                    as_text = cast(column, Text)
                else:
                    continue
                for needle in needles:
                    n = (await session.execute(select(func.count()).select_from(table).where(
                        as_text.contains(needle, autoescape=True)))).scalar_one()
                    if n:
                        hits.setdefault(needle, []).append(f"{table.name}.{column.name}")
    return hits


async def _books_balance(sessionmaker, user_id: str) -> int:
    """The client's orders: lines add up to the order, the order to its invoice and its payments."""
    total = 0
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for order in (await session.execute(select(Order).where(Order.client_id == uuid.UUID(user_id)))).scalars():
            lines = (await session.execute(select(func.sum(OrderLine.total)).where(
                OrderLine.order_id == order.id))).scalar_one()
            [invoice] = (await session.execute(select(Invoice).where(Invoice.order_id == order.id))).scalars()
            paid = (await session.execute(select(func.sum(Payment.amount)).where(
                Payment.order_id == order.id, Payment.status == "captured"))).scalar_one()
            assert lines == order.total == invoice.total == order.amount_paid == paid, (lines, order.total,
                                                                                        invoice.total, paid)
            assert invoice.buyer.get("name") == ERASED_NAME and "email" not in invoice.buyer
            total += invoice.total
    return total


async def _settled(client, headers, path: str, status: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any]:
        return (await client.get(path, headers=headers)).json()
    row = await poll_until(probe, lambda r: r.get("status") in (status, "failed"), timeout=60)
    assert row["status"] == status, row
    return row


async def test_an_export_holds_every_table_that_names_the_client(client, sessionmaker, gateway):
    owner, buyer, person = await _client_with_history(client, sessionmaker, gateway)
    _consultant, offering = await bookable(client, owner)  # and a session booked, with its messages
    [slot, *_] = await public_slots(client, owner.tenant_slug, offering["id"])
    booked = await client.post("/api/v1/bookings", headers=buyer.headers(),
                               json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
    assert booked.status_code == 201, booked.text
    # the confirmation (with its PDF) goes out after the booking answers: the client has it first
    confirmed = await sent_message(sessionmaker, person.email, "consultation.confirmed.client")
    assert confirmed.data["confirmation_file_id"]
    # what names the client before the export is asked for (its own "ready" message comes after)
    naming = await _naming_rows(sessionmaker, buyer.user_id, [person.email, person.phone])
    started = await client.post("/api/v1/me/privacy/exports", headers=buyer.headers())
    assert started.status_code == 202, started.text
    again = await client.post("/api/v1/me/privacy/exports", headers=buyer.headers())
    assert again.json()["id"] == started.json()["id"]  # asked twice: one export
    request_id = started.json()["id"]
    ready = await _settled(client, owner.headers(), f"/api/v1/privacy-requests/{request_id}", "ready")
    assert ready["expires_at"] and ready["summary"]["files"] == 2  # the upload and the booking's confirmation

    message = await sent_message(sessionmaker, person.email, "privacy.export_ready")
    link = str(message.data["link"])
    archive = await client.get(link[link.index("/api/v1/"):])
    assert archive.status_code == 200 and archive.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
        names = set(z.namelist())
        data = {n.removeprefix("data/").removesuffix(".json"): json.loads(z.read(n))
                for n in names if n.startswith("data/")}
        files = [n for n in names if n.startswith("files/")]
        assert len(files) == 2 and PDF in [z.read(f) for f in files]
        manifest = json.loads(z.read("manifest.json"))
    assert {"users", "birth_profiles", "orders", "bookings", "stored_files", "consents",
            "outbox_messages"} <= set(naming)
    for table, n in naming.items():
        assert len(data.get(table, [])) >= n, f"{table}: {n} rows name the client, the export has " \
                                               f"{len(data.get(table, []))}"
    assert data["invoices"] and data["order_lines"] and data["payments"]  # an order's children come too
    assert manifest["tables"]["users"] == 1 and data["users"][0]["email"] == person.email
    assert "password_hash" not in data["users"][0] and "totp_secret_encrypted" not in data["users"][0]

    # The link is the key: changed, it opens nothing; another client cannot export this one.
    token = link.split("token=", 1)[1]
    assert_problem(await client.get(f"/api/v1/privacy-exports/archive?token={token[:-2]}xx"), 404, "invalid-link",
                   "token")
    other = await active_consultancy(client, sessionmaker)
    assert_problem(await client.post(f"/api/v1/clients/{buyer.user_id}/privacy/exports", headers=other.headers()),
                   404, "not-found", "client_id")


async def test_an_erased_client_is_written_nowhere_and_their_invoices_still_add_up(client, sessionmaker, gateway):
    owner, buyer, person = await _client_with_history(client, sessionmaker, gateway)
    bystander = await register_client(client, owner.tenant_slug)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        invoices_before = [(i.invoice_number, i.total, i.tax) for i in (await session.execute(
            select(Invoice).join(Order, Order.id == Invoice.order_id).where(
                Order.client_id == uuid.UUID(buyer.user_id)))).scalars()]
    assert len(invoices_before) == 1
    written = await _where_written(sessionmaker, person.strings())
    assert set(written) == set(person.strings())  # written before
    assert "invoices.pdf" in written[person.name], written  # the invoice's PDF names the buyer

    refused = await client.post("/api/v1/me/privacy/erasure", headers=buyer.headers(),
                                json={"confirm_email": "someone-else@example.com"})
    assert_problem(refused, 422, "validation", "confirm_email")
    assert_problem(await client.post("/api/v1/me/privacy/erasure", headers=buyer.headers(),
                                     json={"confirm_email": None}), 422, "validation", "confirm_email")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert (await session.execute(select(func.count()).select_from(PrivacyRequest))).scalar_one() == 0

    started = await client.post("/api/v1/me/privacy/erasure", headers=buyer.headers(),
                                json={"confirm_email": person.email.upper(), "reason": "leaving"})
    assert started.status_code == 202, started.text
    done = await _settled(client, owner.headers(), f"/api/v1/privacy-requests/{started.json()['id']}", "done")
    assert done["summary"]["birth_profiles"] == 1 and done["summary"]["files"] == 1

    assert await _where_written(sessionmaker, person.strings()) == {}
    assert await _where_written(sessionmaker, [DELHI["date"]]) == {}  # birth data: no copy in any text or JSON
    assert await _where_written(sessionmaker, [bystander.email]) != {}  # nobody else was touched
    # What still names the client by id is what the law or the business keeps, stripped: the
    # anonymised account, orders (with their invoices and payments), consents, the erasure's record.
    naming = await _naming_rows(sessionmaker, buyer.user_id, [person.email, person.phone])
    assert set(naming) <= {"users", "orders", "consents", "privacy_requests", "audit_events"}, naming
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        invoices_after = [(i.invoice_number, i.total, i.tax) for i in (await session.execute(
            select(Invoice).join(Order, Order.id == Invoice.order_id).where(
                Order.client_id == uuid.UUID(buyer.user_id)))).scalars()]
        actions = set((await session.execute(select(AuditEvent.action).where(
            AuditEvent.target_id == buyer.user_id))).scalars())
    assert invoices_after == invoices_before
    assert await _books_balance(sessionmaker, buyer.user_id) == 118_000  # lines = order = invoice = paid
    assert {"privacy.erasure_requested", "privacy.erasure_done"} <= actions
    assert_problem(await login(client, person.email, slug=owner.tenant_slug), 401, "invalid-credentials")
    orders = await client.get("/api/v1/orders", headers=owner.headers())
    assert [o["total"] for o in orders.json()["items"]] == [118_000]  # the business's figures are intact


async def test_an_erasure_waits_for_upcoming_sessions_unless_the_owner_forces_it(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    _consultant, offering = await bookable(client, owner)
    buyer = await register_client(client, owner.tenant_slug)
    [slot, *_] = await public_slots(client, owner.tenant_slug, offering["id"])
    booked = await client.post("/api/v1/bookings", headers=buyer.headers(),
                               json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
    assert booked.status_code == 201, booked.text
    assert_problem(await client.post("/api/v1/me/privacy/erasure", headers=buyer.headers(),
                                     json={"confirm_email": buyer.email}), 409, "conflict")
    staff_refused = await client.post(f"/api/v1/clients/{buyer.user_id}/privacy/erasure", headers=owner.headers(),
                                      json={"reason": "asked by email"})
    assert_problem(staff_refused, 409, "conflict")
    forced = await client.post(f"/api/v1/clients/{buyer.user_id}/privacy/erasure", headers=owner.headers(),
                               json={"reason": "asked by email", "force": True})
    assert forced.status_code == 202, forced.text
    done = await _settled(client, owner.headers(), f"/api/v1/privacy-requests/{forced.json()['id']}", "done")
    assert done["summary"]["workflows_stopped"] >= 1  # the booking's consultation was stopped
    booking = (await client.get(f"/api/v1/bookings/{booked.json()['id']}", headers=owner.headers())).json()
    assert booking["intake"] == {}


async def test_consents_keep_their_history_and_the_latest_counts(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    buyer = await register_client(client, owner.tenant_slug)
    for granted in (True, False):
        made = await client.post("/api/v1/me/consents", headers=buyer.headers(),
                                 json={"kind": "whatsapp", "version": "v1", "granted": granted})
        assert made.status_code == 201 and made.json()["source"] == "client"
    by_staff = await client.post(f"/api/v1/clients/{buyer.user_id}/consents", headers=owner.headers(),
                                 json={"kind": "terms", "version": "2026-11", "granted": True})
    assert by_staff.status_code == 201 and by_staff.json()["source"] == "staff"
    mine = (await client.get("/api/v1/me/consents", headers=buyer.headers())).json()
    assert {(c["kind"], c["granted"]) for c in mine["current"]} == {("whatsapp", False), ("terms", True)}
    assert len(mine["history"]) == 3
    assert_problem(await client.post("/api/v1/me/consents", headers=buyer.headers(),
                                     json={"kind": "telepathy", "version": "v1", "granted": True}), 422,
                   "validation", "kind")
    other = await active_consultancy(client, sessionmaker)
    assert_problem(await client.get(f"/api/v1/clients/{buyer.user_id}/consents", headers=other.headers()), 404,
                   "not-found", "client_id")
