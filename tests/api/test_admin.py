"""Platform admins review consultancies through the onboarding workflow; every decision is audited."""

from __future__ import annotations

from support import assert_problem, platform_admin, poll_until, sign_up


async def test_admin_lists_pending_and_rejects_with_a_reason(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    owner = await sign_up(client)
    pending = (await client.get("/api/v1/admin/tenants", params={"status": "pending"}, headers=admin.headers())).json()
    assert [t["slug"] for t in pending["items"]] == [owner.tenant_slug]

    detail = (await client.get(f"/api/v1/admin/tenants/{owner.tenant_id}", headers=admin.headers())).json()
    assert detail["onboarding"]["workflow"]["status"] == "awaiting_verification"

    blank = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/reject", headers=admin.headers(),
                              json={"reason": "  "})
    assert_problem(blank, 422, "validation", "reason")
    rejected = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/reject", headers=admin.headers(),
                                 json={"reason": "No qualifications listed"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["status_reason"] == "No qualifications listed"

    again = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/approve", headers=admin.headers())
    assert_problem(again, 409, "conflict")
    assert_problem(await client.get("/api/v1/clients", headers=owner.headers()), 403, "tenant-inactive")

    audit = (await client.get("/api/v1/admin/audit-events", params={"action": "tenant.rejected"},
                              headers=admin.headers())).json()["items"]
    assert [(e["actor_user_id"], e["target_id"]) for e in audit] == [(admin.user_id, owner.tenant_id)]
    assert audit[0]["request_id"] == rejected.headers["x-request-id"]
    assert audit[0]["ip"] == "203.0.113.7"  # the admin's address (the test client's), though a worker wrote it
    query = {"recipient": owner.email, "template": "onboarding_rejected"}

    async def outbox() -> list[dict]:
        return (await client.get("/api/v1/admin/outbox", params=query, headers=admin.headers())).json()["items"]
    told = await poll_until(outbox, bool)  # the email goes out after the answer, in the background
    assert len(told) == 1 and "No qualifications listed" in told[0]["body"]


async def test_unknown_tenant_is_404(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    missing = await client.post("/api/v1/admin/tenants/00000000-0000-0000-0000-000000000000/approve",
                                headers=admin.headers())
    assert_problem(missing, 404, "not-found", "tenant_id")
    assert_problem(await client.get("/api/v1/admin/tenants/not-a-uuid", headers=admin.headers()),
                   422, "validation", "tenant_id")


async def test_tenant_staff_see_their_own_outbox_and_audit(client, sessionmaker):
    from support import activate, sent_message

    owner = await sign_up(client)
    await activate(sessionmaker, owner.tenant_id)
    await sent_message(sessionmaker, owner.email, "verify_email")
    outbox = (await client.get("/api/v1/outbox", headers=owner.headers())).json()["items"]
    assert [m["template"] for m in outbox] == ["verify_email"]
    audit = (await client.get("/api/v1/audit-events", headers=owner.headers())).json()["items"]
    assert {e["action"] for e in audit} >= {"tenant.signed_up"}
