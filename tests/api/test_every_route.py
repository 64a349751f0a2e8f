"""Walks every route of the OpenAPI document, so a route added later is covered without a new test.

1. Tenant isolation: a user of tenant B tries every route with tenant A's ids; nothing of A
   comes back and nothing of A changes.
2. Bad input: every route that takes a JSON body gets a wrong one; the answer is problem+json
   naming the field, and no table changes.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from booking_support import bookable, public_slots
from cryptography.fernet import Fernet
from sqlalchemy import func, select, text
from support import active_consultancy, assert_problem, eventually, platform_admin, register_client

from api.app import create_app
from core.db import TenantScope, scoped_session
from core.security import Keys
from core.signing import sign
from models import Base
from models.identity import AuthSession
from models.notifications import Broadcast, InAppNotification

OPERATIONS = [
    (method.upper(), path)
    for path, item in create_app().openapi()["paths"].items()
    for method in item
]
PARAM = re.compile(r"{(\w+)}")


async def _snapshot(sessionmaker) -> dict[str, Any]:
    """Every row of every table, as text: compare before and after to prove nothing changed."""
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return {
            table.name: sorted(json.dumps(dict(row._mapping), default=str, sort_keys=True)
                               for row in (await session.execute(select(table))).all())
            for table in Base.metadata.sorted_tables if table.name != "idempotency_records"
        }


async def _tenant_a(client, sessionmaker, temporal_client) -> dict[str, Any]:
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    staff_made = (await client.post("/api/v1/clients", headers=owner.headers(),
                                    json={"full_name": "Staff Made", "email": "staffmade@example.com"})).json()
    domain = (await client.post("/api/v1/tenant/domains", headers=owner.headers(),
                                json={"domain": "tenant-a.example.com"})).json()
    profile = (await client.post("/api/v1/birth-profiles", headers=customer.headers(), json={
        "label": "Self", "full_name": "Tenant A Person", "birth": {
            "date": "1990-05-17", "time": "14:25", "latitude": 28.6139, "longitude": 77.209}})).json()
    a_text = (await client.put("/api/v1/astrology/texts/driver:8/en", headers=owner.headers(),
                             json={"text": "tenant A's secret driver text"})).json()
    rule = (await client.post("/api/v1/astrology/suggestion-rules", headers=owner.headers(), json={
        "name": "A rule", "when": {"kind": "past_order", "any_of": ["a-offering"]},
        "offering_key": "tenant-a-offering"})).json()
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    upload = await client.post("/api/v1/files", headers=owner.headers(), files={"file": ("palm.png", png, "image/png")},
                               data={"client_id": customer.user_id})
    assert upload.status_code == 201, upload.text
    delivery = await client.post("/api/v1/report-deliveries", headers=owner.headers(), json={
        "client_id": customer.user_id, "title": "Annual forecast", "due_at": "2099-01-01T10:00:00+05:30"})
    assert delivery.status_code == 201, delivery.text
    consultant, offering = await bookable(client, owner)
    in_three_days = str((datetime.now(UTC) + timedelta(days=3)).date())
    slot = (await public_slots(client, owner.tenant_slug, offering["id"], start=in_three_days))[2]
    booking = (await client.post("/api/v1/bookings", headers=customer.headers(),
                                 json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})).json()

    async def confirmed() -> bool:  # its messages are waited for by _quiet below
        seen = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=customer.headers())).json()
        return seen["meeting_url"] is not None
    assert await eventually(confirmed, True)
    day = slot["local_date"]
    assert (await client.put(f"/api/v1/consultants/{consultant['id']}/overrides/{day}", headers=owner.headers(),
                             json={"windows": [{"start": "09:00", "end": "17:00"}]})).status_code == 200
    order = (await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": customer.user_id,
        "lines": [{"kind": "product", "description": "Tenant A's guide", "unit_amount": 50_000}]})).json()
    coupon = (await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "TENANTA10", "kind": "percent", "percent_bp": 1000})).json()
    template = await client.put("/api/v1/notification-templates/announcement/email/en", headers=owner.headers(),
                                json={"subject": "{{ title }}", "body": "Tenant A private wording {{ message }}"})
    assert template.status_code == 200, template.text
    # Before A brings its own SendGrid key (unreachable here): A's messages so far are all out.
    await _quiet(temporal_client, owner.tenant_id)
    provider = await client.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "sendgrid_api_key": "SG.tenant-a-secret-key", "email_from_address": "desk@tenant-a.example.com"})
    assert provider.status_code == 200, provider.text
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        owner_session = await session.scalar(select(AuthSession.id).where(AuthSession.user_id == owner.user_id))
        domain_id = (await session.execute(
            text("SELECT id FROM tenant_domains WHERE domain = 'tenant-a.example.com'"))).scalar_one()
        inbox = InAppNotification(tenant_id=owner.tenant_id, user_id=customer.user_id, dedupe_key="walk:a:in_app",
                                  event="announcement", title="Tenant A inbox title", body="for A's client only",
                                  created_at=datetime.now(UTC))
        broadcast = Broadcast(tenant_id=owner.tenant_id, event="announcement", variables={"title": "A only"},
                              filter={}, workflow_id="broadcast-walk", status="completed")
        session.add_all([inbox, broadcast])
        await session.flush()
        notification_id, broadcast_id = str(inbox.id), str(broadcast.id)
    # Signed links and feed addresses are capabilities: the walk gets A's ids signed with a key
    # that is not ours, i.e. what someone without the email or the secret address could forge.
    forger = Keys("not-our-secret-" + "z" * 40, [Fernet.generate_key().decode()])
    params = {
        "client_id": customer.user_id,
        "session_id": str(owner_session),
        "domain_id": str(domain_id),
        "tenant_id": owner.tenant_id,
        "profile_id": profile["id"],
        "key": "driver:8",
        "locale": "en",
        "rule_id": rule["id"],
        "file_id": upload.json()["id"],
        "delivery_id": delivery.json()["id"],
        "consultant_id": consultant["id"],
        "offering_id": offering["id"],
        "booking_id": booking["id"],
        "on_date": day,
        "tenant_slug": owner.tenant_slug,
        "consultant_slug": consultant["slug"],
        "link_token": sign(forger, "booking", {"b": booking["id"], "t": owner.tenant_id}),
        "feed_token": sign(forger, "calendar", {"c": consultant["id"], "t": owner.tenant_id, "v": 1}),
        "order_id": order["id"],
        "coupon_id": coupon["id"],
        "line_id": order["lines"][0]["id"],
        "notification_id": notification_id,
        "broadcast_id": broadcast_id,
        "event": "announcement",
        "channel": "email",
    }
    # The public page shows consultants and offerings by design; bookings and people it must not.
    secrets = {profile["id"], "Tenant A Person", a_text["text"], rule["id"], "tenant-a-offering",
               owner.tenant_id, owner.user_id, owner.email, customer.user_id, customer.email,
               staff_made["id"], staff_made["email"], "tenant-a.example.com", str(owner_session),
               upload.json()["id"], upload.json()["sha256"], delivery.json()["id"], "Annual forecast",
               booking["id"], booking["workflow_id"], order["id"], coupon["id"], "TENANTA10", "Tenant A's guide",
               notification_id, broadcast_id, "Tenant A private wording", "Tenant A inbox title",
               "SG.tenant-a-secret-key"}
    assert domain["domains"] == ["tenant-a.example.com"]
    return {"owner": owner, "params": params, "secrets": secrets}


def _fill(path: str, params: dict[str, str]) -> str:
    for name in PARAM.findall(path):
        assert name in params, (
            f"{path} takes '{name}': add tenant A's value for it to the isolation walk")
    return PARAM.sub(lambda m: params[m.group(1)], path)


def _leaks(response_text: str, secrets: set[str]) -> set[str]:
    try:
        body = json.loads(response_text)
    except ValueError:
        body = response_text
    if isinstance(body, dict):
        body.pop("instance", None)  # echoes the requested path, i.e. the id we sent
    dumped = json.dumps(body)
    return {s for s in secrets if s and s in dumped}


async def _quiet(temporal_client, tenant_id: str) -> None:
    """Wait until tenant A's workflows have written what they write now (messages, PDFs).

    Messages go out from workflows after the request answers; a walk that began before they
    finished would see A's delivery log grow and blame the route it was calling.
    """
    async def running_notices() -> int:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'Notify' AND ExecutionStatus = 'Running'"
        return len([w async for w in temporal_client.list_workflows(query)])

    async def bookings_confirmed_and_told() -> bool:
        query = f"TenantId = '{tenant_id}' AND WorkflowType = 'Consultation'"
        listed = [w async for w in temporal_client.list_workflows(query)]
        for each in listed:
            state = await temporal_client.get_workflow_handle(each.id).query("state")
            if "confirmed" not in state["steps_notified"]:
                return False
        return bool(listed)  # A has one booking: an empty list is visibility not caught up yet
    assert await eventually(running_notices, 0) == 0
    assert await eventually(bookings_confirmed_and_told, True)


async def test_no_route_shows_or_changes_another_tenants_data(client, sessionmaker, temporal_client):
    a = await _tenant_a(client, sessionmaker, temporal_client)
    b_owner = await active_consultancy(client, sessionmaker)
    b_client = await register_client(client, b_owner.tenant_slug)
    before = {k: v for k, v in (await _snapshot(sessionmaker)).items()}

    checked = 0
    for actor in (b_owner, b_client):
        for method, path in OPERATIONS:
            if path.endswith("/logout") or path.startswith("/api/v1/auth/password") or path == "/api/v1/me/password":
                continue  # these act only on the caller; they would end the walker's own session
            url = _fill(path, a["params"])
            response = await client.request(method, url, headers=actor.headers(), json={})
            leaked = _leaks(response.text, a["secrets"])
            assert not leaked, f"{method} {path} as {actor.email} showed tenant A's {leaked}"
            # The same call naming tenant A is refused outright.
            crossed = await client.request(method, url, headers=actor.headers(**{"X-Tenant": a["owner"].tenant_slug}),
                                           json={})
            assert not _leaks(crossed.text, a["secrets"]), f"{method} {path} leaked with X-Tenant A"
            if path.startswith("/api/v1/") and not path.startswith("/api/v1/auth/"):
                assert crossed.status_code in (403, 404, 422), (method, path, crossed.status_code, crossed.text)
            checked += 1
    assert checked >= 2 * 30

    after = await _snapshot(sessionmaker)
    a_rows = lambda snap: {t: [r for r in rows if any(s in r for s in (a["owner"].tenant_id,))]  # noqa: E731
                           for t, rows in snap.items()}
    before_a, after_a = a_rows(before), a_rows(after)
    for table in before_a:
        if table in {"audit_events", "auth_sessions", "outbox_messages", "retired_refresh_tokens"}:
            # only B's own activity may add rows; A's existing rows must be untouched
            assert set(before_a[table]) <= set(after_a[table]), table
        else:
            assert before_a[table] == after_a[table], f"tenant A's {table} changed"


def _body_operations() -> list[tuple[str, str]]:
    spec = create_app().openapi()
    return [(m.upper(), p) for p, item in spec["paths"].items() for m, op in item.items()
            if "requestBody" in op and "application/json" in op["requestBody"].get("content", {})]


@pytest.mark.parametrize(("method", "path"), _body_operations())
async def test_wrong_body_is_a_clear_problem_and_changes_nothing(client, sessionmaker, keys, method, path):
    owner = await active_consultancy(client, sessionmaker)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    params = {"tenant_id": owner.tenant_id, "client_id": owner.user_id,
              "session_id": owner.user_id, "domain_id": owner.user_id,
              "profile_id": owner.user_id, "key": "driver:8", "locale": "en", "rule_id": owner.user_id,
              "file_id": owner.user_id, "delivery_id": owner.user_id, "consultant_id": owner.user_id,
              "offering_id": owner.user_id, "booking_id": owner.user_id, "on_date": "2026-12-01",
              "tenant_slug": owner.tenant_slug, "consultant_slug": "acharya", "link_token": "x.y",
              "feed_token": "x.y", "order_id": owner.user_id, "coupon_id": owner.user_id, "line_id": owner.user_id,
              "notification_id": owner.user_id, "broadcast_id": owner.user_id, "event": "announcement",
              "channel": "email"}
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    url = _fill(path, params)
    before = await _snapshot(sessionmaker)
    for wrong in ([], "text", {"__unexpected__": 1}):
        response = await client.request(method, url, headers=headers, json=wrong)
        body = assert_problem(response, 422, "validation")
        assert body["field"], f"{method} {path}: no field named for {wrong!r}"
        assert body["errors"], f"{method} {path}: no error list"
    assert await _snapshot(sessionmaker) == before, f"{method} {path} changed data on bad input"


def _operations_with(predicate) -> list[tuple[str, str]]:
    spec = create_app().openapi()
    return [(m.upper(), p) for p, item in spec["paths"].items() for m, op in item.items() if predicate(p, op)]


def _takes_param(name: str):
    return lambda path, op: any(p.get("name") == name and p.get("in") == "query" for p in op.get("parameters", []))


def _uuid_path_params(op: dict[str, Any]) -> list[str]:
    return [p["name"] for p in op.get("parameters", [])
            if p.get("in") == "path" and p.get("schema", {}).get("format") == "uuid"]


UUID_PATH_OPERATIONS = [
    (m.upper(), p, _uuid_path_params(op)[0])
    for p, item in create_app().openapi()["paths"].items() for m, op in item.items() if _uuid_path_params(op)
]


@pytest.mark.parametrize(("method", "path", "name"), UUID_PATH_OPERATIONS)
async def test_malformed_ids_in_the_path_are_clear(client, sessionmaker, keys, method, path, name):
    owner = await active_consultancy(client, sessionmaker)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    url = _fill(path, {n: "not-a-uuid" if n == name else owner.user_id for n in PARAM.findall(path)})
    before = await _snapshot(sessionmaker)
    assert_problem(await client.request(method, url, headers=headers, json={}), 422, "validation", name)
    assert await _snapshot(sessionmaker) == before


@pytest.mark.parametrize(("method", "path"), _operations_with(_takes_param("limit")))
async def test_out_of_range_paging_is_clear_on_every_list(client, sessionmaker, keys, method, path):
    owner = await active_consultancy(client, sessionmaker)
    admin, _ = await platform_admin(client, sessionmaker, keys)
    headers = admin.headers() if path.startswith("/api/v1/admin") else owner.headers()
    for value in ("0", "1000", "ten"):
        body = assert_problem(await client.request(method, path, params={"limit": value}, headers=headers),
                              422, "validation")
        assert "limit" in {e["field"] for e in body["errors"]}, body


async def test_counts_helper_sees_rows(sessionmaker, client):
    # Guards the walk above: a snapshot that always came back empty would prove nothing.
    await active_consultancy(client, sessionmaker)
    snap = await _snapshot(sessionmaker)
    assert snap["tenants"] and snap["users"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(AuthSession)) == 1
