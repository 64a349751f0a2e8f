"""Issue 11's "done when", as the README's walkthrough runs it on a new install: `muhurta
create-admin` makes the first admin, who approves a consultancy; its owner invites a consultant
and a support person; a client books the consultant and the booking is held for payment; the
support person finds it, extends its hold with a reason, and the owner's audit log shows it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
from booking_support import bookable, public_slots
from support import PASSWORD, login, poll_until, register_client, sign_up, unique
from test_create_admin import _create_admin
from test_team import invite_and_join


async def test_a_new_install_from_first_admin_to_an_extended_hold(client, sessionmaker, api_settings):
    # 1. the first platform admin, from the command line; signs in with its second factor
    email = f"{unique('admin')}@example.com"
    code, out, err = await _create_admin(api_settings, email, PASSWORD)
    assert code == 0, err
    secret = re.search(r"secret: ([A-Z2-7]+)", out)
    assert secret, out
    signed_in = await login(client, email, totp_code=pyotp.TOTP(secret.group(1)).now())
    assert signed_in.status_code == 200, signed_in.text
    admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}

    # 2. a consultancy signs up and waits; the admin finds it and approves it
    owner = await sign_up(client)
    waiting = (await client.get("/api/v1/admin/tenants?status=pending", headers=admin)).json()
    assert owner.tenant_id in [t["id"] for t in waiting["items"]]
    approved = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/approve", headers=admin)
    assert approved.status_code == 200 and approved.json()["status"] == "active", approved.text

    # 3. the owner invites a consultant and a support person, who accept their emailed links
    consultant = await invite_and_join(client, sessionmaker, owner, "consultant")
    staff = await invite_and_join(client, sessionmaker, owner, "staff")
    members = (await client.get("/api/v1/team/members", headers=owner.headers())).json()
    assert {(m["id"], m["role"]) for m in members["items"]} >= {
        (consultant.user_id, "consultant"), (staff.user_id, "staff")}

    # 4. the consultant opens their diary; a client books a paid session: held until paid
    _, offering = await bookable(client, consultant, price_minor=150_000, currency="INR")
    customer = await register_client(client, owner.tenant_slug or "")
    slot = (await public_slots(client, owner.tenant_slug or "", offering["id"], start=str(
        (datetime.now(UTC) + timedelta(days=3)).date())))[0]
    booked = await client.post("/api/v1/bookings", headers=customer.headers(),
                               json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
    assert booked.status_code == 201 and booked.json()["status"] == "held", booked.text
    booking = booked.json()

    # 5. the support person finds the client's held booking through the console...
    async def workflows():
        answer = await client.get(f"/api/v1/support/clients/{customer.user_id}/workflows", headers=staff.headers())
        assert answer.status_code == 200, answer.text
        return answer.json()
    found = await poll_until(workflows, lambda listed: any(
        w["workflow_id"] == booking["workflow_id"] and w["entity_status"] == "held" for w in listed), timeout=20)
    assert found[0]["workflow_type"] in ("Consultation", "Order")

    # ...and extends its hold with a reason
    extended = await client.post(f"/api/v1/support/bookings/{booking['id']}/extend-hold", headers=staff.headers(),
                                 json={"minutes": 60, "reason": "the client pays by bank transfer"})
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["hold_expires_at"]) - datetime.fromisoformat(
        booking["hold_expires_at"]) == timedelta(minutes=60)

    # 6. the owner's audit log shows who did it, to what, and why
    audit = (await client.get("/api/v1/audit-events?action=support.hold_extended", headers=owner.headers())).json()
    [event] = audit["items"]
    assert (event["actor_user_id"], event["target_id"], event["details"]["reason"], event["details"]["minutes"]) == (
        staff.user_id, booking["id"], "the client pays by bank transfer", 60)
