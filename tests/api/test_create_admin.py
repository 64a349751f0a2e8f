"""`muhurta create-admin` on a production install: the first admin signs in with two-factor and acts."""

from __future__ import annotations

import asyncio
import os
import re
import sys

import pyotp
from support import PASSWORD, assert_problem, login, sign_up, unique

from core.settings import Settings


async def _create_admin(settings: Settings, email: str, password: str) -> tuple[int, str, str]:
    env = {**os.environ, "MUHURTA_ENV": "production", "DATABASE_URL": settings.database_url,
           "JWT_SECRET": settings.jwt_secret.get_secret_value() if settings.jwt_secret else "",
           "ENCRYPTION_KEYS": settings.encryption_keys.get_secret_value() if settings.encryption_keys else "",
           "REDIS_URL": settings.redis_url, "LOG_JSON": "false"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "workers.cli", "create-admin", "--email", email, "--name", "First Admin",
        "--password-stdin", env=env, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(process.communicate(f"{password}\n".encode()), 120)
    return process.returncode or 0, out.decode(), err.decode()


async def test_create_admin_makes_the_first_admin_of_a_production_install(client, api_settings):
    email = f"{unique('first-admin')}@example.com"
    code, out, err = await _create_admin(api_settings, email, PASSWORD)
    assert code == 0, err
    assert "otpauth://totp/" in out and "Recovery codes" in out
    secret = re.search(r"secret: ([A-Z2-7]+)", out)
    assert secret, out
    # TOTP is on from the start: without a code the password alone does not sign in
    assert_problem(await login(client, email), 401, "totp-required", "totp_code")
    signed_in = await login(client, email, totp_code=pyotp.TOTP(secret.group(1)).now())
    assert signed_in.status_code == 200 and signed_in.json()["mfa"] is True
    admin = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    # ...and approves a consultancy that signed up
    owner = await sign_up(client)
    approved = await client.post(f"/api/v1/admin/tenants/{owner.tenant_id}/approve", headers=admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "active"
    audit = (await client.get("/api/v1/admin/audit-events?action=platform.admin_created", headers=admin)).json()
    assert [e["details"]["email"] for e in audit["items"]] == [email]

    # the same email twice, and a weak password, are refused with a reason
    code, _, err = await _create_admin(api_settings, email, PASSWORD)
    assert code == 1 and "platform admin already" in err
    code, _, err = await _create_admin(api_settings, f"{unique('weak')}@example.com", "short")
    assert code == 1 and "choose another password" in err
