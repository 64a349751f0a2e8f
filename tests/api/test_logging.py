"""Logs are JSON lines carrying the request id, and never what would let a reader act as someone;
CORS answers browsers as the settings say."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from httpx import ASGITransport, AsyncClient
from support import PASSWORD, active_consultancy, assert_problem, register_client

from api.app import create_app
from core.logging import JsonFormatter


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())  # formats at emit time, inside the request's context
    root, access = logging.getLogger(), logging.getLogger("muhurta.access")
    test_client = [logging.getLogger(name) for name in ("httpx", "httpcore")]  # this test's own HTTP client
    levels = [(logger, logger.level) for logger in (root, access, *test_client)]
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    access.setLevel(logging.INFO)
    for logger in test_client:
        logger.setLevel(logging.WARNING)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        for logger, level in levels:
            logger.setLevel(level)


async def test_log_lines_are_json_with_the_request_id_and_no_secrets(client, sessionmaker, log_lines):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    wrong = await client.post("/api/v1/auth/login", headers={"X-Tenant": owner.tenant_slug},
                              json={"email": customer.email, "password": "Wrong-but-secret-Passw0rd!"})
    assert wrong.status_code == 401
    right = await client.post("/api/v1/auth/login", headers={"X-Tenant": owner.tenant_slug},
                              json={"email": customer.email, "password": PASSWORD})
    assert right.status_code == 200
    capability = "v1.a-signed-manage-link-token.that-must-not-be-logged"
    link = await client.get(f"/api/v1/booking-links/{capability}")
    assert link.status_code in (401, 404, 422)

    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]  # every line is JSON
    access = {line["request_id"]: line for line in lines if line["logger"] == "muhurta.access"}
    for response in (wrong, right, link):
        assert response.headers["x-request-id"] in access
    assert access[link.headers["x-request-id"]]["msg"] == f"GET /api/v1/booking-links/<token> -> {link.status_code}"
    text = log_lines.getvalue()
    for secret in ("Wrong-but-secret-Passw0rd!", PASSWORD, capability, right.json()["access_token"],
                   right.json()["refresh_token"]):
        assert secret not in text


async def test_cors_follows_the_settings(app_state):
    """Browsers on the configured origins may call the API and read the request id; others may not."""
    settings = app_state.settings.model_copy(update={"cors_origins": ["https://app.example.com"]})
    app = create_app(settings, state=app_state)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as browser:
        preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        allowed = await browser.options("/api/v1/auth/login", headers={"Origin": "https://app.example.com",
                                                                         **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
        other = await browser.options("/api/v1/auth/login", headers={"Origin": "https://evil.example.net",
                                                                       **preflight})
        assert "access-control-allow-origin" not in other.headers
        assert_problem(other, 400, "cors-refused", "origin")
        simple = await browser.get("/health", headers={"Origin": "https://app.example.com"})
        assert simple.headers["access-control-allow-origin"] == "https://app.example.com"
        assert "X-Request-ID" in simple.headers["access-control-expose-headers"]


async def test_a_liveness_probe_answers_like_the_route_without_an_access_line(client, log_lines):
    """`/health` from a probe is answered in front of the middleware (api/liveness.py): the same
    answer and request id as through the whole stack, but no access log line; a browser's
    request (with Origin) and any other method still go through every layer."""
    probe = await client.get("/health", headers={"X-Request-ID": "probe-1"})
    browser = await client.get("/health", headers={"X-Request-ID": "browser-1", "Origin": "https://x.example"})
    for response in (probe, browser):
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert response.headers["content-type"] == "application/json"
    assert probe.headers["x-request-id"] == "probe-1" and browser.headers["x-request-id"] == "browser-1"
    assert "traceresponse" not in probe.headers and "traceresponse" in browser.headers
    assert_problem(await client.post("/health", headers={"X-Request-ID": "post-1"}), 405, "http-405")

    access = {line["request_id"] for line in map(json.loads, log_lines.getvalue().splitlines())
              if line["logger"] == "muhurta.access"}
    assert "browser-1" in access and "post-1" in access and "probe-1" not in access
