"""End to end: the real `muhurta api` and `muhurta worker` processes on the Temporal dev server,
driven over HTTP as a frontend and an admin would."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from support import PASSWORD, assert_problem, eventually, link_token, platform_admin, sent_message
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from core.embedded import EmbeddedTemporal, free_port, wait_until
from domain.onboarding import OnboardingState

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def product(settings, temporal_dev_server: EmbeddedTemporal, servers) -> Iterator[str]:
    """Start the API and a worker as separate processes; yield the API's base URL."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "TEMPORAL_ADDRESS": temporal_dev_server.address,
        "TEMPORAL_TASK_QUEUE": f"e2e-{uuid.uuid4().hex[:8]}",
        "JWT_SECRET": settings.jwt_secret.get_secret_value(),
        "ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value(),
        "MUHURTA_DATA_DIR": str(servers.root / "e2e"),
        "MUHURTA_ENV": "test",
        "API_PORT": str(port),
        "LOG_JSON": "false",
    }
    logs = Path(servers.root / "e2e-logs")
    logs.mkdir(exist_ok=True)
    processes = []
    for name in ("worker", "api"):
        out = (logs / f"{name}.log").open("wb")
        processes.append(subprocess.Popen([sys.executable, "-m", "workers.cli", name], env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    base = f"http://127.0.0.1:{port}"

    def api_up() -> bool:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError((logs / "api.log").read_text() + (logs / "worker.log").read_text())
        try:
            return httpx.get(f"{base}/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(api_up, "the API", timeout=60)
        yield base
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)


@pytest.fixture
async def http(product: str, clean) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=product, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def temporal(temporal_dev_server: EmbeddedTemporal) -> Client:
    return await Client.connect(temporal_dev_server.address, data_converter=pydantic_data_converter)


async def test_consultant_signs_up_verifies_and_is_approved(http, sessionmaker, keys_for_e2e, temporal):
    slug = f"e2e-{uuid.uuid4().hex[:6]}"
    email = f"owner@{slug}.example.com"
    signup = await http.post("/api/v1/auth/signup", headers={"Idempotency-Key": f"signup-{slug}"}, json={
        "business_name": "E2E Jyotish", "slug": slug, "full_name": "Owner", "email": email,
        "password": PASSWORD, "timezone": "Asia/Kolkata"})
    assert signup.status_code == 201, signup.text
    body = signup.json()
    tenant_id, workflow_id = body["tenant"]["id"], body["onboarding_workflow_id"]
    owner = {"Authorization": f"Bearer {body['tokens']['access_token']}", "X-Tenant": slug}

    # The admin finds the workflow in Temporal by tenant, as in the UI's search box.
    async def by_tenant() -> list[str]:
        return [w.id async for w in temporal.list_workflows(
            f"TenantId = '{tenant_id}' AND WorkflowType = 'Onboarding'")]

    assert await eventually(by_tenant, [workflow_id]) == [workflow_id]

    assert_problem(await http.get("/api/v1/clients", headers=owner), 403, "tenant-pending-approval")
    message = await sent_message(sessionmaker, email, "verify_email")
    assert (await http.post("/api/v1/auth/verify-email", json={"token": link_token(message)})).status_code == 200

    async def onboarding() -> str:  # the workflow is signalled after the commit, which follows the answer
        return str((await http.get("/api/v1/tenant/onboarding", headers=owner)).json()["workflow"]["status"])
    assert await eventually(onboarding, "awaiting_approval") == "awaiting_approval"

    admin, _ = await platform_admin_over_http(http, sessionmaker, keys_for_e2e)
    approved = await http.post(f"/api/v1/admin/tenants/{tenant_id}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    assert approved.json()["onboarding"]["workflow"]["status"] == "approved"

    assert (await http.get("/api/v1/clients", headers=owner)).status_code == 200
    result = await temporal.get_workflow_handle(workflow_id, result_type=OnboardingState).result()
    assert result.status == "approved"

    async def approved_in_index() -> list[str]:
        return [w.id async for w in temporal.list_workflows(
            f"TenantId = '{tenant_id}' AND EntityStatus = 'approved' AND ExecutionStatus = 'Completed'")]

    assert await eventually(approved_in_index, [workflow_id]) == [workflow_id]


@pytest.fixture
def keys_for_e2e(settings):
    from core.security import Keys

    return Keys.from_settings(settings)


async def platform_admin_over_http(http, sessionmaker, keys) -> tuple[dict[str, str], str]:
    account, secret = await platform_admin(_Adapter(http), sessionmaker, keys)
    return {"Authorization": f"Bearer {account.access}"}, secret


class _Adapter:
    """support.platform_admin signs in through a client; hand it the live HTTP one."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.post = http.post


