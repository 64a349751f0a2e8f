"""Notifications through the API: inbox, preferences, templates, provider settings, delivery log,
outbox and broadcasts (the workflow runs on the dev server with the production worker)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from support import active_consultancy, assert_problem, platform_admin, register_client

from core.db import TenantScope, scoped_session
from domain.notifications import BroadcastProgress
from models.identity import Role, User
from models.notifications import InAppNotification, TenantNotificationSettings
from models.platform import AuditEvent


async def _inbox(sessionmaker, account, count: int) -> list[str]:
    ids = []
    async with scoped_session(sessionmaker, TenantScope.of(uuid.UUID(account.tenant_id))) as session:
        for number in range(count):
            row = InAppNotification(tenant_id=uuid.UUID(account.tenant_id), user_id=uuid.UUID(account.user_id),
                                    dedupe_key=f"test-{uuid.uuid4().hex}", event="announcement",
                                    title=f"Note {number}", body="hello", created_at=datetime.now(UTC))
            session.add(row)
            await session.flush()
            ids.append(str(row.id))
    return ids


async def _staff(client, sessionmaker, owner) -> object:
    customer = await register_client(client, owner.tenant_slug)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        user = await session.get(User, uuid.UUID(customer.user_id))
        user.role = Role.STAFF
    response = await client.post("/api/v1/auth/login", headers={"X-Tenant": owner.tenant_slug},
                                 json={"email": customer.email, "password": "correct-horse-battery-staple"})
    customer.access = response.json()["access_token"]
    return customer


async def test_my_inbox_lists_counts_and_marks_read(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    me = await register_client(client, owner.tenant_slug)
    other = await register_client(client, owner.tenant_slug)
    ids = await _inbox(sessionmaker, me, 3)
    [theirs] = await _inbox(sessionmaker, other, 1)

    page = (await client.get("/api/v1/me/notifications", headers=me.headers())).json()
    assert [i["title"] for i in page["items"]] == ["Note 2", "Note 1", "Note 0"]
    assert (await client.get("/api/v1/me/notifications/unread-count", headers=me.headers())).json() == {"unread": 3}

    read = await client.post(f"/api/v1/me/notifications/{ids[0]}/read", headers=me.headers())
    assert read.status_code == 200 and read.json()["read_at"]
    assert (await client.get("/api/v1/me/notifications/unread-count", headers=me.headers())).json() == {"unread": 2}
    unread = (await client.get("/api/v1/me/notifications", params={"unread": "true"}, headers=me.headers())).json()
    assert {i["id"] for i in unread["items"]} == set(ids[1:])

    # someone else's notification does not exist for me
    assert_problem(await client.post(f"/api/v1/me/notifications/{theirs}/read", headers=me.headers()),
                   404, "not-found", "notification_id")
    assert (await client.post("/api/v1/me/notifications/read-all", headers=me.headers())).json() == {"marked": 2}
    assert (await client.get("/api/v1/me/notifications/unread-count", headers=me.headers())).json() == {"unread": 0}
    assert (await client.get("/api/v1/me/notifications/unread-count",
                             headers=other.headers())).json() == {"unread": 1}
    assert_problem(await client.get("/api/v1/me/notifications"), 401, "unauthenticated")


async def test_my_preferences(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    me = await register_client(client, owner.tenant_slug)
    defaults = (await client.get("/api/v1/me/notification-preferences", headers=me.headers())).json()
    assert defaults == {"email": True, "sms": True, "whatsapp": False, "in_app": True, "announcements": True,
                        "quiet_hours": None, "timezone": "Asia/Kolkata"}
    changed = await client.patch("/api/v1/me/notification-preferences", headers=me.headers(), json={
        "sms": False, "whatsapp": True, "quiet_hours": {"start": "22:00", "end": "07:00"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    assert (changed.json()["sms"], changed.json()["whatsapp"]) == (False, True)
    again = (await client.get("/api/v1/me/notification-preferences", headers=me.headers())).json()
    assert again == changed.json()

    equal = await client.patch("/api/v1/me/notification-preferences", headers=me.headers(),
                               json={"quiet_hours": {"start": "22:00", "end": "22:00"}})
    assert_problem(equal, 422, "validation", "quiet_hours")
    bad = await client.patch("/api/v1/me/notification-preferences", headers=me.headers(),
                             json={"quiet_hours": {"start": "25:00", "end": "07:00"}})
    assert_problem(bad, 422, "validation", "quiet_hours.start")
    cleared = await client.patch("/api/v1/me/notification-preferences", headers=me.headers(),
                                 json={"quiet_hours": None})
    assert cleared.json()["quiet_hours"] is None and cleared.json()["whatsapp"] is True


async def test_templates_are_validated_against_sample_values_before_saving(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    url = "/api/v1/notification-templates/session_reminder/email/hi"
    builtin = (await client.get("/api/v1/notification-templates", headers=owner.headers(),
                                params={"event": "session_reminder", "locale": "hi"})).json()
    assert {t["channel"] for t in builtin} == {"email", "sms", "in_app"}
    assert all(t["source"] == "builtin" and t["preview"] for t in builtin)

    missing = await client.put(url, headers=owner.headers(),
                               json={"subject": "{{ service_name }}", "body": "{{ client_nickname }}"})
    body = assert_problem(missing, 422, "template-invalid", "body")
    assert "client_nickname" in body["detail"]
    syntax = await client.put(url, headers=owner.headers(), json={"subject": "{{ service_name", "body": "x"})
    assert_problem(syntax, 422, "template-invalid", "subject")
    unsafe = await client.put(url, headers=owner.headers(),
                              json={"subject": "x", "body": "{{ service_name.__class__.__mro__ }}"})
    assert_problem(unsafe, 422, "template-invalid", "body")
    assert_problem(await client.put("/api/v1/notification-templates/no_such_event/email/en", headers=owner.headers(),
                                    json={"subject": "x", "body": "y"}), 422, "validation", "event")
    assert_problem(await client.put("/api/v1/notification-templates/session_reminder/fax/en",
                                    headers=owner.headers(), json={"subject": "x", "body": "y"}),
                   422, "validation", "channel")
    assert_problem(await client.put("/api/v1/notification-templates/session_reminder/email/fr",
                                    headers=owner.headers(), json={"subject": "x", "body": "y"}),
                   422, "validation", "locale")

    saved = await client.put(url, headers=owner.headers(), json={
        "subject": "जल्द मिलते हैं: {{ service_name }}",
        "body": "{{ recipient_name }} जी, आपका सत्र {{ starts_at | local_datetime }} पर है।"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["preview"]["body"] == "Priya Sharma जी, आपका सत्र शनिवार, 28 नवंबर 2026, 18:30 IST पर है।"
    listed = (await client.get("/api/v1/notification-templates", headers=owner.headers(),
                               params={"event": "session_reminder", "channel": "email", "locale": "hi"})).json()
    assert [t["source"] for t in listed] == ["tenant"]

    assert (await client.delete(url, headers=owner.headers())).status_code == 204
    assert_problem(await client.delete(url, headers=owner.headers()), 404, "not-found")
    staff = await _staff(client, sessionmaker, owner)
    assert_problem(await client.put(url, headers=staff.headers(), json={"subject": "x", "body": "y"}),
                   403, "forbidden")
    events = (await client.get("/api/v1/notification-events", headers=staff.headers())).json()
    announcement = next(e for e in events if e["name"] == "announcement")
    assert announcement["broadcast"] and announcement["variables"] == {"title": "text", "message": "text"}


async def test_provider_keys_are_stored_encrypted_and_never_returned(client, sessionmaker, keys):
    owner = await active_consultancy(client, sessionmaker)
    url = "/api/v1/tenant/notification-settings"
    before = (await client.get(url, headers=owner.headers())).json()
    assert before["sendgrid_api_key_set"] is False
    assert before["email_sent_by"] == "the local outbox (no provider credentials)"
    assert before["twilio_status_callback_url"] == "https://app.muhurta.test/api/v1/webhooks/twilio/status"
    assert before["sendgrid_event_webhook_url"] == \
        f"https://app.muhurta.test/api/v1/webhooks/sendgrid/events?tenant={owner.tenant_slug}"

    lonely = await client.patch(url, headers=owner.headers(), json={"sendgrid_api_key": "SG.abcdefghijklmnop"})
    assert_problem(lonely, 422, "validation", "email_from_address")
    half = await client.patch(url, headers=owner.headers(), json={"twilio_account_sid": "AC" + "a" * 32})
    assert_problem(half, 422, "validation", "twilio_auth_token")
    assert_problem(await client.patch(url, headers=owner.headers(), json={"twilio_account_sid": "nope"}),
                   422, "validation", "twilio_account_sid")

    secret, token = "SG.very-secret-sendgrid-key", "b" * 32
    saved = await client.patch(url, headers=owner.headers(), json={
        "sendgrid_api_key": secret, "email_from_address": "Desk@Jyotish.Example.com", "email_from_name": "Jyotish",
        "twilio_account_sid": "AC" + "a" * 32, "twilio_auth_token": token, "twilio_sms_from": "+1 500 555 0006"})
    assert saved.status_code == 200, saved.text
    out = saved.json()
    assert secret not in saved.text and token not in saved.text
    assert out["sendgrid_api_key_set"] and out["sendgrid_api_key_hint"] == "-key" and out["twilio_auth_token_set"]
    assert out["email_from_address"] == "desk@jyotish.example.com" and out["twilio_sms_from"] == "+15005550006"
    assert out["email_sent_by"] == "sendgrid (your own account)" and out["sms_sent_by"] == "twilio (your own account)"
    read = await client.get(url, headers=owner.headers())
    assert secret not in read.text and token not in read.text and read.json() == out

    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        row = (await session.execute(select(TenantNotificationSettings))).scalar_one()
        audit = (await session.execute(select(AuditEvent).where(
            AuditEvent.action == "notifications.settings_updated"))).scalar_one()
    assert secret not in row.sendgrid_api_key_encrypted and keys.decrypt(row.sendgrid_api_key_encrypted) == secret
    assert keys.decrypt(row.twilio_auth_token_encrypted) == token
    assert "sendgrid_api_key" in audit.details["fields"] and secret not in str(audit.details)

    cleared = await client.patch(url, headers=owner.headers(),
                                 json={"sendgrid_api_key": None, "email_from_address": None})
    assert cleared.json()["sendgrid_api_key_set"] is False
    assert cleared.json()["email_sent_by"] == "the local outbox (no provider credentials)"
    customer = await register_client(client, owner.tenant_slug)
    assert_problem(await client.get(url, headers=customer.headers()), 403, "forbidden")


async def test_a_broadcast_reaches_clients_and_reports_progress(client, sessionmaker, temporal_client, keys):
    owner = await active_consultancy(client, sessionmaker)
    clients = [await register_client(client, owner.tenant_slug, f"b{i}@example.com") for i in range(3)]
    for someone in clients:  # a broadcast is marketing: only to those who agreed to it
        agreed = await client.post("/api/v1/me/consents", headers=someone.headers(),
                                   json={"kind": "marketing", "version": "2026-11", "granted": True})
        assert agreed.status_code == 201, agreed.text
    opted_out = clients[2]
    await client.patch("/api/v1/me/notification-preferences", headers=opted_out.headers(),
                       json={"announcements": False})
    staff = await _staff(client, sessionmaker, owner)

    missing = await client.post("/api/v1/broadcasts", headers=staff.headers(),
                                json={"event": "announcement", "variables": {"title": "Hello"}})
    body = assert_problem(missing, 422, "template-invalid", "variables")
    assert "'message' is undefined" in body["detail"]
    assert_problem(await client.post("/api/v1/broadcasts", headers=staff.headers(),
                                     json={"event": "reset_password", "variables": {}}), 422, "validation", "event")
    assert_problem(await client.post("/api/v1/broadcasts", headers=clients[0].headers(),
                                     json={"variables": {"title": "x", "message": "y"}}), 403, "forbidden")

    started = await client.post("/api/v1/broadcasts", headers=staff.headers(), json={
        "event": "announcement", "variables": {"title": "Holi greetings", "message": "Closed on 14 March."},
        "filter": {"q": "@example.com"}})
    assert started.status_code == 202, started.text
    broadcast = started.json()
    assert broadcast["workflow_id"] == f"broadcast-{broadcast['id']}"
    result = await temporal_client.get_workflow_handle(broadcast["workflow_id"],
                                                       result_type=BroadcastProgress).result()
    # the three clients plus the staff member (registered as a client, then made staff: not a client)
    assert (result.counts.total, result.counts.sent, result.counts.skipped) == (3, 2, 1)

    progress = (await client.get(f"/api/v1/broadcasts/{broadcast['id']}", headers=staff.headers())).json()
    assert progress["status"] == "completed"
    assert progress["counts"] == {"total": 3, "sent": 2, "skipped": 1, "failed": 0, "held": 0}
    assert progress["live"]["status"] == "completed"
    listed = (await client.get("/api/v1/broadcasts", headers=staff.headers())).json()
    assert [b["id"] for b in listed["items"]] == [broadcast["id"]]

    inbox = (await client.get("/api/v1/me/notifications", headers=clients[0].headers())).json()
    assert [(i["title"], i["body"]) for i in inbox["items"]] == [("Holi greetings", "Closed on 14 March.")]
    assert (await client.get("/api/v1/me/notifications", headers=opted_out.headers())).json()["items"] == []

    outbox = (await client.get("/api/v1/outbox", params={"template": "announcement"},
                               headers=staff.headers())).json()
    assert sorted(m["recipient"] for m in outbox["items"]) == ["b0@example.com", "b1@example.com"]
    assert outbox["items"][0]["subject"] == "Holi greetings"

    log = (await client.get("/api/v1/notifications/deliveries", params={"channel": "email", "event": "announcement"},
                            headers=staff.headers())).json()
    assert {(d["recipient"], d["status"], d["provider"]) for d in log["items"]} == {
        ("b0@example.com", "sent", "local"), ("b1@example.com", "sent", "local")}
    assert_problem(await client.get("/api/v1/notifications/deliveries", headers=clients[0].headers()),
                   403, "forbidden")
    admin, _ = await platform_admin(client, sessionmaker, keys)
    everything = (await client.get("/api/v1/admin/notification-deliveries", headers=admin.headers(),
                                   params={"tenant_id": owner.tenant_id, "event": "announcement"})).json()
    assert len(everything["items"]) == 4  # two emails, two in-app
    admin_outbox = (await client.get("/api/v1/admin/outbox", headers=admin.headers(),
                                     params={"template": "announcement"})).json()
    assert len(admin_outbox["items"]) == 2

    assert_problem(await client.post(f"/api/v1/broadcasts/{broadcast['id']}/cancel", headers=staff.headers()),
                   409, "conflict")
    other = await active_consultancy(client, sessionmaker)
    assert_problem(await client.get(f"/api/v1/broadcasts/{broadcast['id']}", headers=other.headers()),
                   404, "not-found", "broadcast_id")
