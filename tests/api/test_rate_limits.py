"""API rate limits: per client address and per tenant, by class of route, 429 + Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from support import active_consultancy, assert_problem, login

from api.app import create_app
from api.rate_limits import route_class
from api.state import AppState
from core.settings import Settings

Client = Callable[[str], AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def from_address(app_state: AppState, api_settings: Settings, clean: None) -> Client:
    """Clients of one app with small public limits (3 per address, 5 per tenant a minute)."""
    settings = api_settings.model_copy(update={"rate_limit_public_per_ip": 3, "rate_limit_public_per_tenant": 5,
                                               "rate_limit_window_seconds": 60})
    app = create_app(settings, state=app_state)

    @asynccontextmanager
    async def client(ip: str) -> AsyncIterator[AsyncClient]:
        async with AsyncClient(transport=ASGITransport(app=app, client=(ip, 4000)),
                               base_url="http://testserver") as http:
            yield http

    return client


async def test_an_address_then_a_tenant_over_their_limits_wait_for_the_window(from_address: Client) -> None:
    async with from_address("198.51.100.1") as first, from_address("198.51.100.2") as second:
        for _ in range(3):  # counted whatever the answer: here, no such consultancy
            assert (await first.get("/api/v1/public/busy-jyotish")).status_code == 404
        refused = await first.get("/api/v1/public/busy-jyotish")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        retry_after = int(refused.headers["retry-after"])
        assert 1 <= retry_after <= 60
        body = refused.json()
        assert body["type"] == "/problems/rate-limited"
        assert body["retry_after"] == retry_after and body["limit"] == 3
        assert "from your address" in body["detail"]

        # Another class of route from the same address has its own budget; probes are never limited.
        assert (await first.get("/api/v1/me")).status_code == 401
        for _ in range(5):
            assert (await first.get("/health")).status_code == 200

        # Another address: its own budget, but the consultancy's (5 a minute) is now spent.
        assert (await second.get("/api/v1/public/busy-jyotish")).status_code == 404
        refused = await second.get("/api/v1/public/busy-jyotish", headers={"X-Tenant": "ignored-path-wins"})
        assert refused.status_code == 429
        assert "for this consultancy" in refused.json()["detail"]
        # ...and another consultancy's is not.
        assert (await second.get("/api/v1/public/quiet-jyotish")).status_code == 404


def test_route_classes() -> None:
    assert route_class("POST", "/api/v1/auth/login") == "auth"
    assert route_class("GET", "/api/v1/public/acme/courses") == "public"
    assert route_class("POST", "/api/v1/booking-links/abc/cancel") == "public"
    assert route_class("POST", "/api/v1/webhooks/razorpay") == "webhook"
    assert route_class("GET", "/api/v1/bookings") == "read"
    assert route_class("DELETE", "/api/v1/bookings/1") == "write"
    assert route_class("GET", "/openapi.json") == "public"
    assert route_class("GET", "/ready") is None


@pytest.mark.parametrize("limits", [True, False], ids=["looked-up-with-the-counters", "looked-up-on-its-own"])
async def test_a_signed_out_session_is_refused_either_way(
    app_state: AppState, api_settings: Settings, client: AsyncClient, sessionmaker: Any, limits: bool,
) -> None:
    """The rate limiter asks Redis whether the token's session was signed out in its own round
    trip (docs/performance.md); without limits, api.deps asks. Either way the token stops working."""
    owner = await active_consultancy(client, sessionmaker)
    second = (await login(client, owner.email, slug=owner.tenant_slug)).json()
    app = create_app(api_settings.model_copy(update={"rate_limits_enabled": limits}), state=app_state)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        stale = {"Authorization": f"Bearer {second['access_token']}"}
        assert (await http.get("/api/v1/me", headers=stale)).status_code == 200
        other = next(s for s in (await http.get("/api/v1/auth/sessions", headers=owner.headers())).json()
                     if not s["current"])
        assert (await http.delete(f"/api/v1/auth/sessions/{other['id']}", headers=owner.headers())).status_code == 204
        assert_problem(await http.get("/api/v1/me", headers=stale), 401, "token-invalid")
        assert (await http.get("/api/v1/me", headers=owner.headers())).status_code == 200


async def test_limits_still_count_after_redis_forgets_its_scripts(from_address: Client, api_settings: Settings) -> None:
    """The counters run as a Lua script sent once and then called by its hash (api.ratelimit). A
    Redis that restarted or was flushed has forgotten it: the next call sends it again."""
    from redis.asyncio import Redis

    async with from_address("198.51.100.9") as http:
        assert (await http.get("/api/v1/public/script-jyotish")).status_code == 404
        redis = Redis.from_url(api_settings.redis_url)
        try:
            await redis.script_flush()
        finally:
            await redis.aclose()
        for _ in range(2):
            assert (await http.get("/api/v1/public/script-jyotish")).status_code == 404
        assert (await http.get("/api/v1/public/script-jyotish")).status_code == 429
