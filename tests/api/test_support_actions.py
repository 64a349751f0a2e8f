"""The support console's actions through the API, on the Temporal dev server with the worker:
resend a message, pause and resume reminders, retry a failing step, record an outcome, an
order's time to pay; each with a required reason, audited, refused where it means nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import active_consultancy, assert_problem, eventually, poll_until, register_client
from test_support import _held_booking
from test_team import invite_and_join

REASON = {"reason": "asked by the client on the phone"}


async def _view(client, who, workflow_id):
    answer = await client.get(f"/api/v1/support/workflows/{workflow_id}", headers=who.headers())
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_resend_pause_and_resume_on_a_held_booking(client, sessionmaker):
    owner, _, booking = await _held_booking(client, sessionmaker)
    staff = await invite_and_join(client, sessionmaker, owner, "staff")
    workflow_id = booking["workflow_id"]
    base = f"/api/v1/support/workflows/{workflow_id}"

    page = await poll_until(lambda: _view(client, staff, workflow_id), lambda v: any(
        m["event"] == "consultation.held.client" and m["channel"] == "email" for m in v["messages"]), timeout=20)
    [held] = [m for m in page["messages"] if m["event"] == "consultation.held.client" and m["channel"] == "email"]

    # a reason is required; another consultancy's staff cannot even see the message
    assert_problem(await client.post(f"{base}/resend", headers=staff.headers(),
                                     json={"delivery_id": held["delivery_id"]}), 422, "validation", "reason")
    other = await invite_and_join(client, sessionmaker, await active_consultancy(client, sessionmaker), "staff")
    assert_problem(await client.post(f"{base}/resend", headers=other.headers(),
                                     json={"delivery_id": held["delivery_id"], **REASON}), 404, "not-found")

    resent = await client.post(f"{base}/resend", headers=staff.headers(),
                               json={"delivery_id": held["delivery_id"], **REASON})
    assert resent.status_code == 202, resent.text
    assert resent.json()["action"] == "support.message_resent" and resent.json()["follow_up_workflow_id"]
    page = await poll_until(lambda: _view(client, staff, workflow_id), lambda v: len(
        [m for m in v["messages"] if m["event"] == "consultation.held.client" and m["channel"] == "email"
         and m["status"] in ("sent", "delivered")]) == 2, timeout=20)
    again = [m for m in page["messages"] if m["delivery_id"] != held["delivery_id"]
             and m["event"] == "consultation.held.client" and m["channel"] == "email"]
    assert again[0]["recipient"] == held["recipient"]

    # reminders: paused, refused twice, resumed; the workflow's state says so
    paused = await client.post(f"{base}/reminders/pause", headers=staff.headers(), json=REASON)
    assert paused.status_code == 200, paused.text
    assert paused.json()["state"]["reminders_paused"] is True
    assert_problem(await client.post(f"{base}/reminders/pause", headers=staff.headers(), json=REASON),
                   409, "workflow-rejected")
    resumed = await client.post(f"{base}/reminders/resume", headers=staff.headers(), json=REASON)
    assert resumed.status_code == 200 and resumed.json()["state"]["reminders_paused"] is False

    # what means nothing here is refused, and changes nothing
    order_workflow = f"order-{booking['order_id']}"
    assert_problem(await client.post(f"/api/v1/support/workflows/{order_workflow}/reminders/pause",
                                     headers=staff.headers(), json=REASON), 409, "conflict")
    assert_problem(await client.post(f"{base}/retry", headers=staff.headers(), json=REASON), 409, "conflict")
    assert_problem(await client.post(f"/api/v1/support/bookings/{booking['id']}/outcome", headers=staff.headers(),
                                     json={"outcome": "completed", **REASON}), 409, "conflict")
    assert_problem(await client.post(f"/api/v1/support/orders/{booking['order_id']}/extend-payment",
                                     headers=staff.headers(), json={"minutes": 30, **REASON}), 409, "conflict")
    # a consultant is not support
    consultant = await invite_and_join(client, sessionmaker, owner, "consultant")
    assert_problem(await client.post(f"{base}/reminders/pause", headers=consultant.headers(), json=REASON),
                   403, "forbidden")

    # cancel: a reason is required; onboarding cannot be cancelled; the booking is, by the consultancy
    assert_problem(await client.post(f"{base}/cancel", headers=staff.headers(), json={}), 422, "validation", "reason")
    assert_problem(await client.post(f"/api/v1/support/workflows/onboarding-{owner.tenant_id}/cancel",
                                     headers=staff.headers(), json=REASON), 409, "conflict")
    cancelled = await client.post(f"{base}/cancel", headers=staff.headers(), json=REASON)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["state"]["status"] == "cancelled"
    shown = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=owner.headers())).json()
    assert (shown["status"], shown["cancel_reason"]) == ("cancelled", REASON["reason"])
    assert (await client.post(f"{base}/cancel", headers=staff.headers(), json=REASON)).status_code == 409

    for action in ("support.message_resent", "support.reminders_paused", "support.reminders_resumed",
                   "support.cancelled"):
        audit = (await client.get(f"/api/v1/audit-events?action={action}", headers=owner.headers())).json()
        assert [(e["actor_user_id"], e["target_id"], e["details"]["reason"]) for e in audit["items"]] == [
            (staff.user_id, workflow_id, REASON["reason"])]


async def test_retry_tries_a_failing_message_again_now(client, sessionmaker, temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    # the consultancy's own SendGrid key, unreachable here: its emails keep failing and are retried
    settings = await client.patch("/api/v1/tenant/notification-settings", headers=owner.headers(), json={
        "sendgrid_api_key": "SG.support-retry-key", "email_from_address": "desk@retry.example.com"})
    assert settings.status_code == 200, settings.text
    _, _, booking = await _held_booking(client, sessionmaker, owner=owner)
    handle = temporal_client.get_workflow_handle(booking["workflow_id"])

    async def failing():
        described = await handle.describe()
        return [p for p in described.raw_description.pending_activities if p.attempt >= 2]
    [pending] = await poll_until(failing, lambda found: len(found) == 1, timeout=30)
    asked = datetime.now(UTC)
    retried = await client.post(f"/api/v1/support/workflows/{booking['workflow_id']}/retry", headers=owner.headers(),
                                json={"reason": "the SendGrid key was fixed"})
    assert retried.status_code == 200, retried.text
    assert retried.json()["action"] == "support.step_retried"
    assert pending.activity_type.name in retried.json()["detail"]

    async def started_again():
        described = await handle.describe()
        return [p.last_started_time.ToDatetime().replace(tzinfo=UTC)
                for p in described.raw_description.pending_activities if p.activity_id == pending.activity_id]
    # tried again at once, not after its backoff (the next natural attempt is ten seconds away)
    await poll_until(started_again, lambda times: bool(times) and times[0] >= asked, timeout=6)


async def test_an_unpaid_order_gets_more_time_then_is_cancelled(client, sessionmaker, temporal_client):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    made = await client.post("/api/v1/orders", headers=owner.headers(), json={"client_id": customer.user_id, "lines": [
        {"kind": "product", "description": "Gemstone guide (PDF)", "unit_amount": 50_000}]})
    assert made.status_code == 201, made.text
    order = made.json()
    handle = temporal_client.get_workflow_handle(f"order-{order['id']}")
    before = await poll_until(lambda: handle.query("state"), lambda s: s.get("pay_by"), timeout=20)

    extended = await client.post(f"/api/v1/support/orders/{order['id']}/extend-payment", headers=owner.headers(),
                                 json={"minutes": 90, **REASON})
    assert extended.status_code == 200, extended.text
    # the workflow's pay-by moves 90 minutes (it was computed by the workflow, within a second of the row's)
    was = datetime.fromisoformat(before["pay_by"])
    moved = await poll_until(lambda: _pay_by(handle), lambda at: at and at - was > timedelta(minutes=89), timeout=20)
    assert abs(moved - was - timedelta(minutes=90)) < timedelta(seconds=2)

    cancelled = await client.post(f"/api/v1/support/workflows/order-{order['id']}/cancel", headers=owner.headers(),
                                  json=REASON)
    assert cancelled.status_code == 200, cancelled.text

    async def status():
        return (await client.get(f"/api/v1/orders/{order['id']}", headers=owner.headers())).json()["status"]
    assert await eventually(status, "cancelled") == "cancelled"
    actions = [e["action"] for e in (await client.get("/api/v1/audit-events", headers=owner.headers())).json()["items"]]
    assert {"support.payment_extended", "support.cancelled"} <= set(actions)


async def _pay_by(handle):
    state = await handle.query("state")
    return datetime.fromisoformat(state["pay_by"]) if state.get("pay_by") else None
