"""API conventions every endpoint shares: problem+json, request ids, idempotency, pagination,
tenant resolution, health and readiness."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from httpx import ASGITransport, AsyncClient
from redis.asyncio import Redis
from sqlalchemy import func, select, update
from support import active_consultancy, assert_problem, register_client

from api.app import create_app
from core.db import TenantScope, scoped_session
from domain.housekeeping import IDEMPOTENCY_KEEP
from models.identity import Role, User
from models.platform import IdempotencyRecord


async def test_health_and_ready(client):
    assert (await client.get("/health")).json() == {"status": "ok"}
    ready = await client.get("/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"postgres": "up", "redis": "up", "temporal": "up"}


async def test_ready_says_which_server_is_down_without_naming_hosts(app_state):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    broken = replace(app_state, redis=Redis.from_url(f"redis://127.0.0.1:{port}/0"))
    async with AsyncClient(transport=ASGITransport(app=create_app(state=broken)), base_url="http://t") as client:
        ready = await client.get("/ready")
    await broken.redis.aclose()
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready"
    assert body["checks"]["postgres"] == body["checks"]["temporal"] == "up"
    assert body["checks"]["redis"].startswith("down: ")
    assert "127.0.0.1" not in ready.text and str(port) not in ready.text


async def test_problem_types_are_documented_and_an_unknown_one_is_a_problem(client):
    listed = (await client.get("/problems")).json()
    assert {"/problems/validation", "/problems/not-found"} <= {p["type"] for p in listed}
    doc = await client.get("/problems/validation")
    assert doc.status_code == 200 and doc.json()["status"] == 422
    assert_problem(await client.get("/problems/no-such-type"), 404, "not-found", "slug")


async def test_unknown_route_and_malformed_json_are_problems(client):
    assert_problem(await client.get("/api/v1/no-such-thing"), 404, "not-found")
    bad = await client.post("/api/v1/auth/login", content=b"{not json",
                            headers={"content-type": "application/json"})
    assert_problem(bad, 400, "malformed-json", "body")


async def test_problem_types_are_documented_at_their_type_uri(client):
    response = await client.post("/api/v1/auth/login", json={})
    problem_type = response.json()["type"]
    doc = await client.get(problem_type)
    assert doc.status_code == 200
    assert doc.json()["title"] == response.json()["title"]


async def test_request_id_is_echoed_or_made(client):
    mine = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
    assert mine.headers["x-request-id"] == "trace-abc.123"
    made = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert made.headers["x-request-id"] != "bad id with spaces" and len(made.headers["x-request-id"]) == 32
    problem = await client.get("/api/v1/me", headers={"X-Request-ID": "req-42"})
    assert problem.json()["request_id"] == "req-42"


async def _client_count(sessionmaker) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return await session.scalar(select(func.count()).select_from(User).where(User.role == Role.CLIENT)) or 0


async def test_idempotency_key_replays_the_first_answer(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    body = {"full_name": "Walk-in Client", "email": "walkin@example.com"}
    headers = owner.headers(**{"Idempotency-Key": "create-walkin-1"})
    first = await client.post("/api/v1/clients", json=body, headers=headers)
    second = await client.post("/api/v1/clients", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _client_count(sessionmaker) == 1
    reused = await client.post("/api/v1/clients", json={**body, "email": "other@example.com"}, headers=headers)
    assert_problem(reused, 422, "idempotency-key-reused", "Idempotency-Key")
    assert await _client_count(sessionmaker) == 1


async def test_concurrent_repeats_of_one_key_create_once(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    body = {"full_name": "Race Client", "email": "race@example.com"}
    headers = owner.headers(**{"Idempotency-Key": "race-key"})
    responses = await asyncio.gather(*[client.post("/api/v1/clients", json=body, headers=headers)
                                       for _ in range(8)])
    assert {r.status_code for r in responses} <= {201, 409}
    created = [r.json()["id"] for r in responses if r.status_code == 201]
    assert created and len(set(created)) == 1  # replays carry the first answer
    assert await _client_count(sessionmaker) == 1


async def test_idempotency_keys_are_per_caller(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    body = {"full_name": "Same Key", "email": "samekey@example.com"}
    ra = await client.post("/api/v1/clients", json=body, headers=a.headers(**{"Idempotency-Key": "k"}))
    rb = await client.post("/api/v1/clients", json=body, headers=b.headers(**{"Idempotency-Key": "k"}))
    assert ra.status_code == rb.status_code == 201
    assert ra.json()["id"] != rb.json()["id"]


async def test_cursor_pagination_walks_every_item_once(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    emails = [f"c{i}@example.com" for i in range(7)]
    for email in emails:
        assert (await client.post("/api/v1/clients", headers=owner.headers(),
                                  json={"full_name": email, "email": email})).status_code == 201
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3, "sort": "email", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/clients", params=params, headers=owner.headers())).json()
        seen += [item["email"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(emails) and pages == 3
    filtered = (await client.get("/api/v1/clients", params={"q": "c3@"}, headers=owner.headers())).json()
    assert [i["email"] for i in filtered["items"]] == ["c3@example.com"]


async def test_bad_paging_parameters_are_clear(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    assert_problem(await client.get("/api/v1/clients", params={"limit": 0}, headers=owner.headers()),
                   422, "validation", "limit")
    assert_problem(await client.get("/api/v1/clients", params={"sort": "password_hash"}, headers=owner.headers()),
                   422, "validation", "sort")
    assert_problem(await client.get("/api/v1/clients", params={"cursor": "garbage"}, headers=owner.headers()),
                   422, "validation", "cursor")


async def test_tenant_found_by_header_subdomain_and_custom_domain(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    added = await client.post("/api/v1/tenant/domains", headers=owner.headers(),
                              json={"domain": "Bookings.Example.COM"})
    assert added.status_code == 201 and added.json()["domains"] == ["bookings.example.com"]
    body = {"full_name": "Sub", "password": "correct-horse-battery-staple"}
    by_sub = await client.post("/api/v1/auth/register", headers={"Host": f"{owner.tenant_slug}.muhurta.test"},
                               json={**body, "email": "sub@example.com"})
    by_domain = await client.post("/api/v1/auth/register", headers={"Host": "bookings.example.com"},
                                  json={**body, "email": "dom@example.com"})
    assert by_sub.status_code == by_domain.status_code == 201
    assert by_sub.json()["user"]["tenant_id"] == by_domain.json()["user"]["tenant_id"] == owner.tenant_id
    unknown = await client.post("/api/v1/auth/register", headers={"X-Tenant": "no-such-tenant"},
                                json={**body, "email": "x@example.com"})
    assert_problem(unknown, 404, "tenant-unknown", "X-Tenant")
    missing = await client.post("/api/v1/auth/register", json={**body, "email": "y@example.com"})
    assert_problem(missing, 400, "tenant-required", "X-Tenant")
    taken = await client.post("/api/v1/tenant/domains", headers=owner.headers(),
                              json={"domain": "bookings.example.com"})
    assert_problem(taken, 409, "already-exists", "domain")


async def test_a_token_cannot_be_used_with_another_tenant(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    crossed = await client.get("/api/v1/clients", headers=a.headers(**{"X-Tenant": b.tenant_slug}))
    assert_problem(crossed, 403, "tenant-mismatch", "X-Tenant")
    customer = await register_client(client, a.tenant_slug)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {customer.access}"})).status_code == 200


async def test_platform_hosts_name_no_tenant(client):
    for host in ("api.muhurta.test", "www.muhurta.test", "muhurta.test", "10.0.0.5", "internal-lb"):
        response = await client.post("/api/v1/auth/login", headers={"Host": host},
                                     json={"email": "nobody@example.com", "password": "whatever-password"})
        assert_problem(response, 401, "invalid-credentials")


async def test_stored_answers_are_encrypted_and_a_key_expires_after_a_day(client, sessionmaker):
    """A sign-up's answer carries tokens: the replay store keeps it encrypted, and for a day only."""
    signup = {"business_name": "Keyed Consultancy", "slug": "keyed", "full_name": "Keyed Owner",
              "email": "owner@keyed.example.com", "password": "a-long-enough-passphrase-42",
              "timezone": "Asia/Kolkata"}
    headers = {"Idempotency-Key": "signup-once"}
    first = await client.post("/api/v1/auth/signup", json=signup, headers=headers)
    assert first.status_code == 201, first.text
    refresh_token = first.json()["tokens"]["refresh_token"]
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        [stored] = (await session.execute(select(IdempotencyRecord))).scalars().all()
        assert stored.response_body and refresh_token not in stored.response_body
        assert "owner@keyed.example.com" not in stored.response_body
    replayed = await client.post("/api/v1/auth/signup", json=signup, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true" and replayed.json() == first.json()

    async with scoped_session(sessionmaker, TenantScope.system()) as session:  # a day and a minute later
        await session.execute(update(IdempotencyRecord).values(
            created_at=datetime.now(UTC) - IDEMPOTENCY_KEEP - timedelta(minutes=1)))
    other = {**signup, "slug": "keyed-two", "email": "owner@keyed-two.example.com"}
    again = await client.post("/api/v1/auth/signup", json=other, headers=headers)
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers  # the key is free again
    assert again.json()["tenant"]["slug"] == "keyed-two"


def test_every_post_declares_the_idempotency_key_header():
    paths = create_app().openapi()["paths"]
    posts = {path: item["post"] for path, item in paths.items() if "post" in item}
    assert len(posts) > 40
    for path, operation in posts.items():
        declared = [p for p in operation.get("parameters", [])
                    if p["in"] == "header" and p["name"].lower() == "idempotency-key"]
        assert len(declared) == 1, path
        assert declared[0]["required"] is False
