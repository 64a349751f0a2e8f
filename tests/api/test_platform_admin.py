"""Platform administration: suspending and reactivating a consultancy; people across consultancies."""

from __future__ import annotations

from support import PASSWORD, active_consultancy, assert_problem, login, platform_admin, register_client, sent_message


async def test_a_suspended_consultancy_is_closed_until_reactivated(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    suspend = f"/api/v1/admin/tenants/{owner.tenant_id}/suspend"
    assert_problem(await client.post(suspend, headers=owner.headers(), json={"reason": "not mine to do"}),
                   403, "forbidden")
    assert_problem(await client.post(suspend, headers=admin.headers(), json={}), 422, "validation", "reason")
    done = await client.post(suspend, headers=admin.headers(), json={"reason": "unpaid platform invoices"})
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["status_reason"]) == ("suspended", "unpaid platform invoices")
    # everyone of it is signed out at once; sign-in, public pages and registration are refused, with the reason
    for who in (owner, customer):
        assert_problem(await client.get("/api/v1/me", headers=who.headers()), 401, "token-invalid")
    refused = assert_problem(await login(client, owner.email, slug=owner.tenant_slug), 403, "tenant-suspended",
                             "X-Tenant")
    assert "unpaid platform invoices" in refused["detail"]
    assert_problem(await client.get(f"/api/v1/public/{owner.tenant_slug}"), 403, "tenant-suspended", "tenant_slug")
    listed = (await client.get("/api/v1/admin/tenants?status=suspended", headers=admin.headers())).json()
    assert [t["id"] for t in listed["items"]] == [owner.tenant_id]
    assert_problem(await client.post(suspend, headers=admin.headers(), json={"reason": "again"}), 409, "conflict")
    # the owner is told by email, though the consultancy's own messages are paused (a platform message)
    told = await sent_message(sessionmaker, owner.email, "tenant_suspended")
    assert "unpaid platform invoices" in told.body and told.channel == "email"

    back = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/reactivate", headers=admin.headers(),
                             json={"reason": "invoices paid"})
    assert back.status_code == 200 and back.json()["status"] == "active"
    assert "invoices paid" in (await sent_message(sessionmaker, owner.email, "tenant_reactivated")).body
    again = await login(client, owner.email, slug=owner.tenant_slug)
    assert again.status_code == 200
    token = {"Authorization": f"Bearer {again.json()['access_token']}", "X-Tenant": owner.tenant_slug or ""}
    assert (await client.get("/api/v1/clients", headers=token)).status_code == 200
    assert (await client.get(f"/api/v1/public/{owner.tenant_slug}")).status_code == 200
    actions = {e["action"] for e in (await client.get(f"/api/v1/admin/audit-events?tenant_id={owner.tenant_id}",
                                                      headers=admin.headers())).json()["items"]}
    assert {"platform.tenant_suspended", "platform.tenant_reactivated"} <= actions


async def test_admins_find_lock_unlock_and_sign_out_people_across_consultancies(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    email = "same.person@example.com"
    in_a = await register_client(client, a.tenant_slug or "", email)
    in_b = await register_client(client, b.tenant_slug or "", email)
    found = (await client.get("/api/v1/admin/users?email=same.person@", headers=admin.headers())).json()["items"]
    assert {(u["tenant_id"], u["role"]) for u in found} == {(a.tenant_id, "client"), (b.tenant_id, "client")}

    locked = await client.post(f"/api/v1/admin/users/{in_a.user_id}/lock", headers=admin.headers(),
                               json={"reason": "reported fraud"})
    assert locked.status_code == 200 and locked.json()["is_active"] is False
    assert_problem(await client.get("/api/v1/me", headers=in_a.headers()), 401, "token-invalid")
    assert_problem(await login(client, email, slug=a.tenant_slug), 401, "invalid-credentials")
    assert (await client.get("/api/v1/me", headers=in_b.headers())).status_code == 200  # the other account: untouched
    assert (await client.post(f"/api/v1/admin/users/{in_a.user_id}/unlock", headers=admin.headers(),
                              json={"reason": "cleared"})).json()["is_active"] is True
    assert (await login(client, email, PASSWORD, slug=a.tenant_slug)).status_code == 200

    out = await client.post(f"/api/v1/admin/users/{in_b.user_id}/revoke-sessions", headers=admin.headers(),
                            json={"reason": "lost phone"})
    assert out.status_code == 200 and out.json()["sessions_revoked"] == 1
    assert_problem(await client.get("/api/v1/me", headers=in_b.headers()), 401, "token-invalid")
    assert_problem(await client.post(f"/api/v1/admin/users/{admin.user_id}/lock", headers=admin.headers(),
                                     json={"reason": "oops"}), 409, "conflict", "user_id")
    assert_problem(await client.get("/api/v1/admin/users", headers=a.headers()), 403, "forbidden")
    actions = {e["action"] for e in (await client.get("/api/v1/admin/audit-events", headers=admin.headers())
                                     ).json()["items"]}
    assert {"platform.user_locked", "platform.user_unlocked", "platform.sessions_revoked"} <= actions
