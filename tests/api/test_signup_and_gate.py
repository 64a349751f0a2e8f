"""Consultant sign-up and the approval gate."""

from __future__ import annotations

from sqlalchemy import func, select
from support import PASSWORD, assert_problem, outbox_for, sent_message, sign_up, unique

from core.db import TenantScope, scoped_session
from models.tenancy import Tenant


async def test_signup_creates_pending_tenant_and_starts_onboarding(client, sessionmaker, temporal_client):
    owner = await sign_up(client)
    me = await client.get("/api/v1/me", headers=owner.headers())
    assert me.status_code == 200
    assert me.json()["role"] == "owner"
    tenant = await client.get("/api/v1/tenant", headers=owner.headers())
    assert tenant.json()["status"] == "pending"
    message = await sent_message(sessionmaker, owner.email, "verify_email")
    assert [m.template for m in await outbox_for(sessionmaker, owner.email)] == ["verify_email"]
    assert "token=" in message.data["link"]
    handle = temporal_client.get_workflow_handle(f"onboarding-{owner.tenant_id}")
    description = await handle.describe()
    assert description.status is not None
    onboarding = await client.get("/api/v1/tenant/onboarding", headers=owner.headers())
    assert onboarding.json()["workflow"]["status"] == "awaiting_verification"


async def test_pending_consultant_can_edit_profile_but_not_use_dashboard(client):
    owner = await sign_up(client)
    profile = await client.patch("/api/v1/me", headers=owner.headers(), json={"full_name": "Pandit R. Sharma"})
    assert profile.status_code == 200
    assert profile.json()["full_name"] == "Pandit R. Sharma"
    business = await client.patch("/api/v1/tenant", headers=owner.headers(), json={"name": "Sharma Jyotish"})
    assert business.status_code == 200
    for method, path in [("GET", "/api/v1/clients"), ("POST", "/api/v1/clients"),
                         ("GET", "/api/v1/audit-events"), ("GET", "/api/v1/outbox"),
                         ("POST", "/api/v1/tenant/domains")]:
        body = {"full_name": "X", "email": "x@example.com"} if method == "POST" else None
        response = await client.request(method, path, headers=owner.headers(), json=body)
        assert_problem(response, 403, "tenant-pending-approval")


async def test_duplicate_slug_is_a_conflict_and_changes_nothing(client, sessionmaker):
    first = await sign_up(client)
    response = await client.post("/api/v1/auth/signup", json={
        "business_name": "Other", "slug": first.tenant_slug, "full_name": "Other",
        "email": "other@example.com", "password": PASSWORD})
    assert_problem(response, 409, "already-exists", "slug")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 1


async def test_signup_rejects_bad_input_with_the_field_at_fault(client):
    base = {"business_name": "Biz", "slug": unique("ok"), "full_name": "Name",
            "email": "a@example.com", "password": PASSWORD}
    cases = [
        ({"slug": "Bad Slug!"}, 422, "validation", "slug"),
        ({"slug": "admin"}, 422, "validation", "slug"),
        ({"email": "not-an-email"}, 422, "validation", "email"),
        ({"timezone": "Mars/Olympus"}, 422, "validation", "timezone"),
        ({"password": "short"}, 422, "weak-password", "password"),
        ({"password": "a@example.com"}, 422, "weak-password", "password"),
        ({"phone": "12345"}, 422, "validation", "phone"),
        ({"unexpected": True}, 422, "validation", "unexpected"),
    ]
    for change, status, slug, field in cases:
        response = await client.post("/api/v1/auth/signup", json={**base, **change})
        assert_problem(response, status, slug, field)
    missing = await client.post("/api/v1/auth/signup", json={"slug": unique("x")})
    body = assert_problem(missing, 422, "validation")
    assert {e["field"] for e in body["errors"]} >= {"business_name", "full_name", "email", "password"}
