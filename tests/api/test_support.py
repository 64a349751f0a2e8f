"""The support console through the API, as the issue's scenario runs: a support person of the
consultancy finds a client's held booking, reads its workflow, extends its hold with a reason,
and the audit log shows it. Real PostgreSQL, Redis, the Temporal dev server and the worker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from support import active_consultancy, assert_problem, eventually, poll_until, register_client
from test_team import invite_and_join

PRICE = 150_000


async def _held_booking(client, sessionmaker, owner=None):
    owner = owner or await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=PRICE, currency="INR")
    customer = await register_client(client, owner.tenant_slug or "")
    slot = (await public_slots(client, owner.tenant_slug or "", offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=4)).date())))[0]
    made = await client.post("/api/v1/bookings", headers=customer.headers(),
                             json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
    assert made.status_code == 201 and made.json()["status"] == "held", made.text
    return owner, customer, made.json()


async def test_a_support_person_finds_a_held_booking_and_extends_its_hold(client, sessionmaker, temporal_client):
    owner, customer, booking = await _held_booking(client, sessionmaker)
    staff = await invite_and_join(client, sessionmaker, owner, "staff")

    async def listed():
        answer = await client.get(f"/api/v1/support/clients/{customer.user_id}/workflows", headers=staff.headers())
        assert answer.status_code == 200, answer.text
        return {w["workflow_id"]: w for w in answer.json()}
    workflows = await poll_until(listed, lambda found: booking["workflow_id"] in found and any(
        w["workflow_type"] == "Order" for w in found.values()), timeout=20)
    held = workflows[booking["workflow_id"]]
    assert (held["workflow_type"], held["execution_status"], held["entity_status"]) == (
        "Consultation", "running", "held")

    async def view():
        return (await client.get(f"/api/v1/support/workflows/{booking['workflow_id']}",
                                 headers=staff.headers())).json()
    page = await poll_until(view, lambda v: "held" in (v.get("state") or {}).get("steps_notified", []), timeout=20)
    assert page["state"]["status"] == "held" and page["client_id"] == customer.user_id
    assert any(line["what"].startswith("waiting until") for line in page["history"])
    assert page["next"] and page["next"][0].startswith("waiting until")
    assert {m["event"] for m in page["messages"]} >= {"consultation.held.client"}

    # the action needs a reason; the booking's hold and its order's time to pay both move
    assert_problem(await client.post(f"/api/v1/support/bookings/{booking['id']}/extend-hold",
                                     headers=staff.headers(), json={"minutes": 30}), 422, "validation", "reason")
    before = datetime.fromisoformat(booking["hold_expires_at"])
    extended = await client.post(f"/api/v1/support/bookings/{booking['id']}/extend-hold", headers=staff.headers(),
                                 json={"minutes": 30, "reason": "client's bank transfer is on its way"})
    assert extended.status_code == 200, extended.text
    until = datetime.fromisoformat(extended.json()["hold_expires_at"])
    assert until - before == timedelta(minutes=30)
    assert datetime.fromisoformat(extended.json()["order_pay_by"]) == until
    shown = (await client.get(f"/api/v1/bookings/{booking['id']}", headers=customer.headers())).json()
    assert datetime.fromisoformat(shown["hold_expires_at"]) == until

    async def live_hold():
        state = await temporal_client.get_workflow_handle(booking["workflow_id"]).query("state")
        return state["hold_expires_at"] and datetime.fromisoformat(state["hold_expires_at"]) == until
    assert await eventually(live_hold, True)

    async def order_pay_by():
        state = await temporal_client.get_workflow_handle(f"order-{booking['order_id']}").query("state")
        return state["pay_by"] and datetime.fromisoformat(state["pay_by"]) == until
    assert await eventually(order_pay_by, True)

    note = await client.post(f"/api/v1/support/workflows/{booking['workflow_id']}/notes", headers=staff.headers(),
                             json={"note": "called the client, they pay tonight"})
    assert note.status_code == 201, note.text
    audit = (await client.get("/api/v1/audit-events?action=support.hold_extended", headers=owner.headers())).json()
    [event] = audit["items"]
    assert (event["actor_user_id"], event["target_id"], event["details"]["reason"]) == (
        staff.user_id, booking["id"], "client's bank transfer is on its way")
    page = await view()
    assert [a["action"] for a in page["actions"]][:2] == ["support.note", "support.hold_extended"]
    assert any(line["what"] == "signal extend_hold received" for line in page["history"])


async def test_support_permission_boundaries(client, sessionmaker):
    owner, customer, booking = await _held_booking(client, sessionmaker)
    other = await active_consultancy(client, sessionmaker)
    other_staff = await invite_and_join(client, sessionmaker, other, "staff")
    consultant = await invite_and_join(client, sessionmaker, owner, "consultant")
    path = f"/api/v1/support/workflows/{booking['workflow_id']}"
    extend = f"/api/v1/support/bookings/{booking['id']}/extend-hold"
    body = {"minutes": 30, "reason": "trying from elsewhere"}
    # staff of another consultancy: nothing of this one, not even whether it exists
    assert_problem(await client.get(path, headers=other_staff.headers()), 404, "not-found", "workflow_id")
    assert_problem(await client.post(extend, headers=other_staff.headers(), json=body), 404, "not-found", "booking_id")
    assert_problem(await client.get(f"/api/v1/support/clients/{customer.user_id}/workflows",
                                    headers=other_staff.headers()), 404, "not-found", "client_id")
    assert_problem(await client.get(path, headers=other_staff.headers(**{"X-Tenant": owner.tenant_slug})),
                   403, "tenant-mismatch")
    # the client and a consultant are not support
    for who in (customer, consultant):
        assert_problem(await client.post(extend, headers=who.headers(), json=body), 403, "forbidden")
    assert_problem(await client.get("/api/v1/support/workflows/consultation-nothing-here", headers=owner.headers()),
                   404, "not-found", "workflow_id")
    # a removed support person's token stops working at once
    staff = await invite_and_join(client, sessionmaker, owner, "staff")
    assert (await client.get(path, headers=staff.headers())).status_code == 200
    assert (await client.delete(f"/api/v1/team/members/{staff.user_id}", headers=owner.headers())).status_code == 204
    assert_problem(await client.post(extend, headers=staff.headers(), json=body), 401, "token-invalid")
