"""`muhurta api` with several processes (the production layout, API_WORKERS = cores): whichever
process answers a scrape, `/metrics` counts the requests every process served; and whichever
answers a public slot listing, a booking committed elsewhere has left it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from booking_support import booking_row, practice
from support import poll_until

from core.db import TenantScope, scoped_session
from core.embedded import EmbeddedTemporal, free_port, wait_until
from core.razorpay import platform_credentials, sign
from core.settings import Settings
from models.tenancy import Tenant

pytestmark = pytest.mark.e2e

HEALTH_COUNT = re.compile(r'^muhurta_http_requests_total\{method="GET",route="/health",status_class="2xx"\} (\S+)$',
                          re.MULTILINE)


@pytest.fixture(scope="module")
def two_process_api(settings, temporal_dev_server: EmbeddedTemporal, servers) -> Iterator[tuple[str, Path]]:
    port = free_port()
    env = {key: value for key, value in os.environ.items() if key != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({
        "DATABASE_URL": settings.database_url, "REDIS_URL": settings.redis_url,
        "TEMPORAL_ADDRESS": temporal_dev_server.address,
        "JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value(),
        "MUHURTA_DATA_DIR": str(servers.root / "two-process-api"), "MUHURTA_ENV": "test",
        "API_PORT": str(port), "API_WORKERS": "2", "LOG_JSON": "false",
        "RAZORPAY_KEY_ID": settings.razorpay_key_id or "",
        "RAZORPAY_KEY_SECRET": settings.razorpay_key_secret.get_secret_value() if settings.razorpay_key_secret else "",
        "RAZORPAY_WEBHOOK_SECRET": secret_of(settings),
    })
    log = servers.root / "two-process-api.log"
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "workers.cli", "api"], env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            return httpx.get(f"{base}/metrics", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(up, "the two-process API", timeout=240)  # two processes starting on a loaded 2-core machine
        yield base, log
    finally:
        process.terminate()
        process.wait(20)


def secret_of(settings: Settings) -> str:
    credentials = platform_credentials(settings)
    assert credentials is not None and credentials.webhook_secret
    return credentials.webhook_secret


def test_a_signed_delivery_is_taken_by_a_real_api_process_as_the_route_would_answer(two_process_api, settings):
    """The webhook intake (api/webhook_intake.py) under uvicorn: answered, stored once, its request
    id echoed, its trace id given, its access line written and counted under the route's template."""
    base, log = two_process_api
    event_id = f"evt_e2e{uuid.uuid4().hex[:12]}"
    body = json.dumps({"entity": "event", "event": "payment.failed", "id": event_id, "payload": {}}).encode()
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": sign(secret_of(settings), body),
               "X-Razorpay-Event-Id": event_id, "X-Request-ID": "e2e-" + event_id}
    answers = [httpx.post(f"{base}/api/v1/webhooks/razorpay", content=body, headers=headers, timeout=10)
               for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert [a.json()["duplicate"] for a in answers] == [False, True]
    assert all(a.headers["x-request-id"] == "e2e-" + event_id and a.headers["traceresponse"] for a in answers)
    counted = re.compile(r'^muhurta_http_requests_total\{method="POST",route="/api/v1/webhooks/razorpay",'
                         r'status_class="2xx"\} (\S+)$', re.MULTILINE)
    found = counted.search(httpx.get(f"{base}/metrics", timeout=5).text)
    assert found and float(found.group(1)) >= 2

    def access_lines() -> int:
        return sum("POST /api/v1/webhooks/razorpay -> 200" in line and f"req e2e-{event_id}" in line
                   for line in log.read_text().splitlines())

    try:
        wait_until(lambda: access_lines() == 2, "the two deliveries' access lines", timeout=10)
    except TimeoutError as exc:
        raise AssertionError(log.read_text()[-3000:]) from exc


def _health_count(base: str) -> float:
    found = HEALTH_COUNT.search(httpx.get(f"{base}/metrics", timeout=5).text)
    return float(found.group(1)) if found else 0.0


def test_every_scrape_counts_the_requests_of_every_process(two_process_api):
    base, _ = two_process_api
    sent = 40
    for _ in range(sent):  # a new connection each: the kernel hands them to either process
        assert httpx.get(f"{base}/health", timeout=5).status_code == 200
    # Each scrape may be answered by either process; each must see all 40.
    scrapes = [_health_count(base) for _ in range(12)]
    assert scrapes == [float(sent)] * len(scrapes), scrapes


KEPT_LISTINGS = re.compile(r'^muhurta_slot_listings_total\{source="kept"\} (\S+)$', re.MULTILINE)


async def test_a_booking_made_elsewhere_leaves_the_listings_every_process_keeps(two_process_api, sessionmaker):
    """Each API process keeps the public listings it has shown (api/slot_listings.py); a booking
    committed by another process (here, this test's) must leave the listing of both, once
    PostgreSQL's notification reaches them, not when their copies grow old (a minute)."""
    base, _ = two_process_api
    p = await practice(sessionmaker)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        slug = (await session.get(Tenant, p.tenant_id)).slug  # type: ignore[union-attr]
    path = f"{base}/api/v1/public/{slug}/consultants/acharya/offerings/{p.offering_id}/slots"

    def listing() -> list[str]:  # a new connection each: the kernel hands them to either process
        response = httpx.get(path, params={"days": 7}, timeout=5)
        assert response.status_code == 200, response.text
        return [slot["starts_at"] for slot in response.json()["slots"]]

    def kept() -> float:
        found = KEPT_LISTINGS.search(httpx.get(f"{base}/metrics", timeout=5).text)
        return float(found.group(1)) if found else 0.0

    before = kept()
    shown = listing()
    assert all(listing() == shown for _ in range(20))
    assert kept() - before >= 18  # each process read it once at most, then showed its copy
    taken = shown[3]
    await booking_row(sessionmaker, p, datetime.fromisoformat(taken), now=datetime.now(UTC))

    async def twelve_listings_without_it() -> bool:
        return all(taken not in listing() for _ in range(12))

    await poll_until(twelve_listings_without_it, bool, timeout=10)
