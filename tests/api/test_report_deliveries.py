"""/report-deliveries over the real app, the Temporal dev server and a worker: staff start a delivery,
the consultant uploads the PDF, the client gets it and opens it; or staff record a hand delivery."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import select
from support import active_consultancy, assert_problem, eventually, register_client, sent_message

from core.db import TenantScope, scoped_session
from models.files import ReportDelivery
from models.platform import AuditEvent

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def _due(days: float = 3) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


async def _start(client, owner, customer, **extra):
    body = {"client_id": customer.user_id, "title": "Kundli Milan report", "due_at": _due(), **extra}
    return await client.post("/api/v1/report-deliveries", headers=owner.headers(), json=body)


async def _row(sessionmaker, delivery_id: str) -> ReportDelivery:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = await session.get(ReportDelivery, uuid.UUID(delivery_id))
        assert row is not None
        return row


async def _status(sessionmaker, delivery_id: str) -> str:
    return (await _row(sessionmaker, delivery_id)).status.value


async def _upload_report(client, account, delivery_id: str, name: str = "kundli.pdf", data: bytes = PDF):
    return await client.post(f"/api/v1/report-deliveries/{delivery_id}/report", headers=account.headers(),
                             files={"file": (name, data, "application/pdf")})


async def test_start_upload_deliver_and_first_open(client, sessionmaker, temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    order_id = str(uuid.uuid4())
    started = await _start(client, owner, customer, order_id=order_id, reference="INV-2027-001")
    assert started.status_code == 201, started.text
    delivery = started.json()
    assert delivery["id"] == order_id and delivery["workflow_id"] == f"report-{order_id}"
    assert delivery["status"] == "awaiting_upload" and delivery["consultant_id"] == owner.user_id

    handle = temporal_client.get_workflow_handle(f"report-{order_id}")
    described = await handle.describe()
    attributes = {k.name: v for k, v in described.typed_search_attributes}
    assert attributes["TenantId"] == owner.tenant_id and attributes["ClientId"] == customer.user_id
    assert attributes["ConsultantId"] == owner.user_id and attributes["EntityStatus"] == "awaiting_upload"
    assert "awaiting upload" in (await described.memo_value("summary"))

    view = await client.get(f"/api/v1/report-deliveries/{order_id}", headers=owner.headers())
    assert view.status_code == 200 and view.json()["workflow"]["status"] == "awaiting_upload"

    # the consultant uploads; the workflow delivers it to the client
    uploaded = await _upload_report(client, owner, order_id)
    assert uploaded.status_code == 200, uploaded.text
    file_id = uploaded.json()["file_id"]
    assert await eventually(lambda: _status(sessionmaker, order_id), "delivered") == "delivered"
    email = await sent_message(sessionmaker, customer.email, "report_delivered")
    assert "Kundli Milan report" in email.body and email.data["file_id"] == file_id

    async def inbox() -> list[tuple[str, str]]:  # in-app is its own channel: it may land after the email
        items = (await client.get("/api/v1/me/notifications", headers=customer.headers())).json()["items"]
        return [(i["event"], i["link"]) for i in items]
    expected = [("report_delivered", email.data["link"])]
    assert await eventually(inbox, expected) == expected

    # the client sees it and its file; opening the emailed link records the first open
    mine = await client.get(f"/api/v1/report-deliveries/{order_id}", headers=customer.headers())
    assert mine.json()["file_id"] == file_id and mine.json()["workflow"] is None
    link = urlsplit(email.data["link"])
    opened = await client.get(f"{link.path}?{link.query}")
    assert opened.status_code == 200 and opened.content == PDF
    assert opened.headers["content-type"] == "application/pdf"
    assert await eventually(lambda: _status(sessionmaker, order_id), "opened") == "opened"
    first_open = (await _row(sessionmaker, order_id)).first_opened_at
    assert first_open is not None
    again = await client.get(f"{link.path}?{link.query}")
    assert again.status_code == 200
    assert (await _row(sessionmaker, order_id)).first_opened_at == first_open
    state = await handle.query("state")
    assert state["status"] == "opened"
    assert (await handle.result())["first_opened_at"] is not None  # the workflow ends once it is opened

    # nothing changes a delivered report
    assert_problem(await _upload_report(client, owner, order_id), 409, "conflict")
    assert_problem(await client.post(f"/api/v1/report-deliveries/{order_id}/delivered-by-hand",
                                     headers=owner.headers(), json={}), 409, "conflict")


async def test_staff_opening_the_report_is_not_the_clients_first_open(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    delivery_id = (await _start(client, owner, customer)).json()["id"]
    file_id = (await _upload_report(client, owner, delivery_id)).json()["file_id"]
    assert await eventually(lambda: _status(sessionmaker, delivery_id), "delivered") == "delivered"
    link = (await client.get(f"/api/v1/files/{file_id}/download-link", headers=owner.headers())).json()["url"]
    parts = urlsplit(link)
    assert (await client.get(f"{parts.path}?{parts.query}")).status_code == 200
    row = await _row(sessionmaker, delivery_id)
    assert row.first_opened_at is None and row.status.value == "delivered"


async def test_a_report_must_be_a_pdf(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    delivery_id = (await _start(client, owner, customer)).json()["id"]
    body = assert_problem(await _upload_report(client, owner, delivery_id, "report.pdf", PNG),
                          415, "unsupported-file-type", "file")
    assert "PNG" in body["detail"]
    assert_problem(await client.post(f"/api/v1/report-deliveries/{delivery_id}/report", headers=owner.headers(),
                                     json={}), 422, "validation", "file")
    row = await _row(sessionmaker, delivery_id)
    assert row.file_id is None and row.status.value == "awaiting_upload"


async def test_delivered_by_hand_is_audited(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    delivery_id = (await _start(client, owner, customer)).json()["id"]
    response = await client.post(f"/api/v1/report-deliveries/{delivery_id}/delivered-by-hand",
                                 headers=owner.headers(**{"X-Request-ID": "hand-1"}),
                                 json={"note": "printed copy given at the session"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "delivered_by_hand" and body["delivered_by"] == owner.user_id
    assert body["delivery_note"] == "printed copy given at the session"
    assert body["workflow"]["status"] == "delivered_by_hand"
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [audit] = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "report.delivered_by_hand"))).scalars().all()
    assert audit.actor_user_id == uuid.UUID(owner.user_id) and audit.request_id == "hand-1"
    assert audit.ip == "203.0.113.7" and audit.target_id == delivery_id
    assert_problem(await client.post(f"/api/v1/report-deliveries/{delivery_id}/delivered-by-hand",
                                     headers=owner.headers(), json={}), 409, "conflict")
    assert_problem(await _upload_report(client, owner, delivery_id), 409, "conflict")


async def test_starting_a_delivery_validates_its_people_dates_and_order(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    other = await active_consultancy(client, sessionmaker)
    stranger = await register_client(client, other.tenant_slug)
    assert_problem(await _start(client, owner, stranger), 422, "validation", "client_id")
    assert_problem(await _start(client, owner, customer, consultant_id=customer.user_id), 422, "validation",
                   "consultant_id")
    assert_problem(await _start(client, owner, customer, due_at=_due(-1)), 422, "validation", "due_at")
    assert_problem(await _start(client, owner, customer, due_at="2030-01-01T10:00:00"), 422, "validation", "due_at")
    order_id = str(uuid.uuid4())
    assert (await _start(client, owner, customer, order_id=order_id)).status_code == 201
    assert_problem(await _start(client, owner, customer, order_id=order_id), 409, "already-exists", "order_id")
    # an order id is one delivery across the platform (workflow ids are global)
    other_client = await register_client(client, other.tenant_slug)
    assert_problem(await _start(client, other, other_client, order_id=order_id), 409, "already-exists", "order_id")
    assert_problem(await _start(client, customer, customer), 403, "forbidden")


async def test_clients_see_only_their_own_deliveries(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    first = await register_client(client, owner.tenant_slug)
    second = await register_client(client, owner.tenant_slug)
    firsts = (await _start(client, owner, first)).json()["id"]
    seconds = (await _start(client, owner, second, due_at=_due(5))).json()["id"]
    listed = await client.get("/api/v1/report-deliveries", headers=first.headers())
    assert [d["id"] for d in listed.json()["items"]] == [firsts]
    assert_problem(await client.get(f"/api/v1/report-deliveries/{seconds}", headers=first.headers()),
                   404, "not-found", "delivery_id")
    assert_problem(await _upload_report(client, first, firsts), 403, "forbidden")
    everything = await client.get("/api/v1/report-deliveries", params={"sort": "due_at"}, headers=owner.headers())
    assert [d["id"] for d in everything.json()["items"]] == [firsts, seconds]
    waiting = await client.get("/api/v1/report-deliveries", params={"status": "awaiting_upload",
                                                                     "client_id": second.user_id},
                               headers=owner.headers())
    assert [d["id"] for d in waiting.json()["items"]] == [seconds]
