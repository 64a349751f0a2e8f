"""Consultant sign-up and the approval gate."""

from __future__ import annotations

import re
import uuid
from typing import Any

from openapi_samples import sample_body, sample_value
from sqlalchemy import func, select
from support import PASSWORD, Account, assert_problem, outbox_for, sent_message, sign_up, unique

from api.app import create_app
from core.db import TenantScope, scoped_session
from models.tenancy import Tenant

SPEC = create_app().openapi()
PENDING = "tenant-pending-approval"
# What the owner of a consultancy that waits for approval may use. The issue: "a pending
# consultant can log in and edit their profile but cannot use the dashboard endpoints". Every
# other route must answer 403 tenant-pending-approval, so a new dashboard route is gated or fails.
OWN_ACCOUNT_AND_BUSINESS = {  # must work (not gated)
    ("GET", "/api/v1/me"), ("PATCH", "/api/v1/me"), ("POST", "/api/v1/me/password"),
    ("GET", "/api/v1/me/notifications"), ("GET", "/api/v1/me/notifications/unread-count"),
    ("POST", "/api/v1/me/notifications/{notification_id}/read"), ("POST", "/api/v1/me/notifications/read-all"),
    ("GET", "/api/v1/me/notification-preferences"), ("PATCH", "/api/v1/me/notification-preferences"),
    ("GET", "/api/v1/tenant"), ("PATCH", "/api/v1/tenant"), ("GET", "/api/v1/tenant/onboarding"),
}
# Not the dashboard at all: signing in, health, the public pages, signed links, webhooks.
NOT_THE_DASHBOARD = ("/health", "/ready", "/api/v1/auth/", "/api/v1/public/", "/api/v1/booking-links/",
                     "/api/v1/calendar-feeds/", "/api/v1/webhooks/", "/api/v1/quotation-links/",
                     "/api/v1/remedy-links/", "/api/v1/privacy-exports/")
# the token is the permission
SIGNED_LINKS = {("GET", "/api/v1/files/{file_id}/content"), ("GET", "/api/v1/course-media/{file_id}/content")}
PLATFORM = "/api/v1/admin/"  # platform admins only: 403 forbidden for any consultant


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


def _request_for(owner: Account, method: str, path: str) -> dict[str, Any]:
    """A valid request to `method path` (its body from the OpenAPI schema; ids are random)."""
    operation = SPEC["paths"][path][method.lower()]
    values: dict[str, str] = {}
    query: dict[str, Any] = {}
    headers = owner.headers()
    for param in operation.get("parameters", []):
        if param["in"] == "path":
            values[param["name"]] = str(sample_value(SPEC, param["schema"], param["name"]))
        elif param["in"] == "query" and param.get("required"):
            query[param["name"]] = sample_value(SPEC, param["schema"], param["name"])
        elif param["in"] == "header" and param.get("required"):
            headers[param["name"]] = str(sample_value(SPEC, param["schema"], param["name"]))
    values["tenant_slug"] = owner.tenant_slug or ""
    request: dict[str, Any] = {"url": re.sub(r"{(\w+)}", lambda m: values[m.group(1)], path), "params": query,
                               "headers": headers}
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        request["json"] = sample_body(SPEC, content["application/json"]["schema"], lambda _: str(uuid.uuid4())).body
    elif "multipart/form-data" in content:
        request["files"] = {"file": ("report.pdf", b"%PDF-1.7\n%%EOF\n", "application/pdf")}
    return request


async def test_every_dashboard_route_is_closed_to_a_consultancy_waiting_for_approval(client):
    owner = await sign_up(client)
    gated, open_to_owner = [], set()
    for path, item in SPEC["paths"].items():
        for method in (m.upper() for m in item):
            if path.endswith("/logout") or path.startswith("/api/v1/auth/password") or path == "/api/v1/me/password":
                continue  # would end or change the walker's own sign-in (all on the allowlist)
            response = await client.request(method, **_request_for(owner, method, path))
            where = f"{method} {path}: {response.status_code} {response.text[:300]}"
            problem = response.json().get("type") if response.headers.get("content-type", "").startswith(
                "application/problem+json") else None
            assert response.status_code != 500, where
            if (method, path) in OWN_ACCOUNT_AND_BUSINESS:
                assert problem != f"/problems/{PENDING}", f"the owner's own profile must stay open: {where}"
                open_to_owner.add((method, path))
            elif path.startswith(NOT_THE_DASHBOARD) or (method, path) in SIGNED_LINKS:
                assert problem != f"/problems/{PENDING}", where  # not the dashboard: never the gate
            elif path.startswith(PLATFORM):
                assert_problem(response, 403, "forbidden")
            else:
                assert response.status_code == 403 and problem == f"/problems/{PENDING}", (
                    f"a dashboard route answered a consultancy waiting for approval: {where}")
                gated.append((method, path))
    assert len(gated) >= 90, gated
    assert open_to_owner == OWN_ACCOUNT_AND_BUSINESS - {("POST", "/api/v1/me/password")}  # (not walked)

    # What stays open works: the owner edits their profile and their business while they wait.
    me = await client.patch("/api/v1/me", headers=owner.headers(), json={"full_name": "Pandit R. Sharma",
                                                                       "timezone": "Asia/Kolkata"})
    assert me.status_code == 200, me.text
    business = await client.patch("/api/v1/tenant", headers=owner.headers(), json={"name": "Sharma Jyotish"})
    assert business.status_code == 200, business.text
    assert (await client.get("/api/v1/me", headers=owner.headers())).json()["full_name"] == "Pandit R. Sharma"
    tenant = (await client.get("/api/v1/tenant", headers=owner.headers())).json()
    assert (tenant["name"], tenant["status"]) == ("Sharma Jyotish", "pending")
