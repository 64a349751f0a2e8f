"""Sign-in, throttling, token rotation, sessions, email verification, passwords and TOTP."""

from __future__ import annotations

import pyotp
from support import (
    PASSWORD,
    active_consultancy,
    assert_problem,
    end_refresh_grace,
    link_token,
    login,
    platform_admin,
    register_client,
    sent_message,
    sign_up,
)


async def test_login_returns_tokens_that_open_the_api(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    response = await login(client, owner.email, slug=owner.tenant_slug)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "bearer" and tokens["mfa"] is False
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["email"] == owner.email


async def test_wrong_password_and_unknown_email_look_the_same(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    wrong = await login(client, owner.email, "not-the-password", slug=owner.tenant_slug)
    unknown = await login(client, "nobody@example.com", slug=owner.tenant_slug)
    assert_problem(wrong, 401, "invalid-credentials", "password")
    assert_problem(unknown, 401, "invalid-credentials", "password")
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_account_is_locked_after_repeated_failures_with_retry_after(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    for _ in range(5):
        assert (await login(client, owner.email, "wrong-password!", slug=owner.tenant_slug)).status_code == 401
    locked = await login(client, owner.email, slug=owner.tenant_slug)  # even the right password
    body = assert_problem(locked, 429, "rate-limited")
    assert 0 < int(locked.headers["Retry-After"]) <= 900
    assert body["retry_after"] == int(locked.headers["Retry-After"])
    # Another account is not affected.
    other = await active_consultancy(client, sessionmaker)
    assert (await login(client, other.email, slug=other.tenant_slug)).status_code == 200


async def test_same_email_in_two_tenants_are_two_separate_clients(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    in_a = await register_client(client, a.tenant_slug, "shared@example.com")
    in_b = await register_client(client, b.tenant_slug, "shared@example.com")
    assert in_a.user_id != in_b.user_id
    change = await client.post("/api/v1/me/password", headers=in_a.headers(),
                               json={"current_password": PASSWORD, "new_password": "a-new-long-password"})
    assert change.status_code == 200
    assert (await login(client, "shared@example.com", "a-new-long-password", slug=a.tenant_slug)).status_code == 200
    assert (await login(client, "shared@example.com", "a-new-long-password", slug=b.tenant_slug)).status_code == 401
    assert (await login(client, "shared@example.com", slug=b.tenant_slug)).status_code == 200


async def test_registering_in_a_pending_tenant_is_refused(client):
    owner = await sign_up(client)
    response = await client.post("/api/v1/auth/register", headers={"X-Tenant": owner.tenant_slug},
                                 json={"full_name": "C", "email": "c@example.com", "password": PASSWORD})
    assert_problem(response, 404, "tenant-unknown", "X-Tenant")


async def test_refresh_rotates_and_reuse_revokes_the_family(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != owner.refresh
    await end_refresh_grace(app_state.redis, owner.refresh)  # (test_refresh_grace.py: within it)
    # The old token again, past the grace window: someone copied it. The whole session is signed out.
    replay = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert_problem(replay, 401, "token-invalid", "refresh_token")
    after = await client.post("/api/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert_problem(after, 401, "token-invalid", "refresh_token")
    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert_problem(me, 401, "token-invalid")


async def test_garbage_refresh_token_is_refused(client):
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-token-at-all"})
    assert_problem(response, 401, "token-invalid", "refresh_token")


async def test_logout_ends_the_session_and_its_access_token(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    assert (await client.post("/api/v1/auth/logout", headers=owner.headers())).status_code == 204
    assert_problem(await client.get("/api/v1/me", headers=owner.headers()), 401, "token-invalid")
    refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": owner.refresh})
    assert refresh.status_code == 401


async def test_sessions_are_listed_and_can_be_revoked(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    second = (await login(client, owner.email, slug=owner.tenant_slug)).json()
    listed = (await client.get("/api/v1/auth/sessions", headers=owner.headers())).json()
    assert len(listed) == 2
    assert sum(s["current"] for s in listed) == 1
    other = next(s for s in listed if not s["current"])
    revoked = await client.delete(f"/api/v1/auth/sessions/{other['id']}", headers=owner.headers())
    assert revoked.status_code == 204
    stale = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert_problem(stale, 401, "token-invalid")
    assert len((await client.get("/api/v1/auth/sessions", headers=owner.headers())).json()) == 1


async def test_email_verification_link_works_once(client, sessionmaker):
    owner = await sign_up(client)
    message = await sent_message(sessionmaker, owner.email, "verify_email")
    token = link_token(message)
    verified = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert verified.status_code == 200
    assert verified.json()["email_verified_at"] is not None
    again = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert_problem(again, 410, "link-expired", "token")


async def test_password_reset_flow(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    unknown = await client.post("/api/v1/auth/password/forgot", headers={"X-Tenant": owner.tenant_slug},
                                json={"email": "nobody@example.com"})
    known = await client.post("/api/v1/auth/password/forgot", headers={"X-Tenant": owner.tenant_slug},
                              json={"email": owner.email})
    assert unknown.status_code == known.status_code == 202
    assert unknown.json() == known.json()
    message = await sent_message(sessionmaker, owner.email, "reset_password")
    token = link_token(message)
    weak = await client.post("/api/v1/auth/password/reset", json={"token": token, "new_password": "short"})
    assert_problem(weak, 422, "weak-password", "new_password")
    done = await client.post("/api/v1/auth/password/reset",
                             json={"token": token, "new_password": "brand-new-passphrase"})
    assert done.status_code == 200, "a rejected weak password must not burn the link"
    assert (await login(client, owner.email, slug=owner.tenant_slug)).status_code == 401
    assert (await login(client, owner.email, "brand-new-passphrase", slug=owner.tenant_slug)).status_code == 200
    assert_problem(await client.get("/api/v1/me", headers=owner.headers()), 401, "token-invalid")
    reused = await client.post("/api/v1/auth/password/reset",
                               json={"token": token, "new_password": "another-passphrase"})
    assert_problem(reused, 410, "link-expired", "token")


async def test_totp_enrolment_login_and_recovery_codes(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    enrol = (await client.post("/api/v1/auth/totp/enrol", headers=owner.headers())).json()
    assert enrol["otpauth_uri"].startswith("otpauth://totp/")
    totp = pyotp.TOTP(enrol["secret"])
    wrong = await client.post("/api/v1/auth/totp/confirm", headers=owner.headers(), json={"code": "000000"})
    assert_problem(wrong, 401, "totp-required", "code")
    codes = (await client.post("/api/v1/auth/totp/confirm", headers=owner.headers(),
                               json={"code": totp.now()})).json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert_problem(await login(client, owner.email, slug=owner.tenant_slug), 401, "totp-required", "totp_code")
    with_code = await login(client, owner.email, slug=owner.tenant_slug, totp_code=totp.now())
    assert with_code.status_code == 200 and with_code.json()["mfa"] is True
    recovery = await login(client, owner.email, slug=owner.tenant_slug, totp_code=codes[0])
    assert recovery.status_code == 200
    assert_problem(await login(client, owner.email, slug=owner.tenant_slug, totp_code=codes[0]),
                   401, "totp-required", "totp_code")


async def test_platform_admin_needs_totp_for_admin_endpoints(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    ok = await client.get("/api/v1/admin/tenants", headers=admin.headers())
    assert ok.status_code == 200
    # The same admin signed in without a second factor (a recovery scenario) is turned away.
    from datetime import timedelta
    from uuid import UUID

    token, _ = keys.issue_access_token(user_id=UUID(admin.user_id), tenant_id=None, role="platform_admin",
                                       session_id=UUID(int=1), mfa=False, ttl=timedelta(minutes=5))
    refused = await client.get("/api/v1/admin/tenants", headers={"Authorization": f"Bearer {token}"})
    assert_problem(refused, 403, "mfa-required")


async def test_clients_and_consultants_cannot_reach_admin_endpoints(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug)
    for account in (owner, customer):
        assert_problem(await client.get("/api/v1/admin/tenants", headers=account.headers()), 403, "forbidden")
    assert_problem(await client.get("/api/v1/clients", headers=customer.headers()), 403, "forbidden")


async def test_sign_in_attempts_are_limited_per_network(client, sessionmaker, app_state):
    owner = await active_consultancy(client, sessionmaker)
    limit = app_state.settings.login_max_per_ip_per_minute
    statuses = [(await login(client, f"guess{i}@example.com", slug=owner.tenant_slug)).status_code
                for i in range(limit + 1)]
    assert statuses[:limit] == [401] * limit
    blocked = await login(client, owner.email, slug=owner.tenant_slug)
    assert_problem(blocked, 429, "rate-limited")
    assert 0 < int(blocked.headers["Retry-After"]) <= 60


async def test_an_expired_verification_link_is_refused_and_changes_nothing(client, sessionmaker):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from core.db import TenantScope, scoped_session
    from models.identity import OneTimeToken

    owner = await sign_up(client)
    message = await sent_message(sessionmaker, owner.email, "verify_email")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(OneTimeToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await client.post("/api/v1/auth/verify-email", json={"token": link_token(message)})
    assert_problem(expired, 410, "link-expired", "token")
    assert (await client.get("/api/v1/me", headers=owner.headers())).json()["email_verified_at"] is None


async def test_what_is_stored_cannot_be_used_and_tokens_live_as_documented(client, sessionmaker, keys):
    """Passwords are argon2id hashes, refresh tokens only their SHA-256; access tokens last 15 minutes
    and a session (its refresh tokens) 7 days."""
    import hashlib
    from datetime import UTC, datetime, timedelta

    import jwt
    from sqlalchemy import select

    from core.db import TenantScope, scoped_session
    from models.identity import AuthSession, User

    owner = await active_consultancy(client, sessionmaker)
    before = datetime.now(UTC)
    tokens = (await login(client, owner.email, slug=owner.tenant_slug)).json()
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        user = (await session.execute(select(User).where(User.email == owner.email))).scalar_one()
        sessions = (await session.execute(select(AuthSession).where(AuthSession.user_id == user.id))).scalars().all()
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    session_id, secret = tokens["refresh_token"].split(".", 1)  # "<session id>.<secret>"
    [current] = [s for s in sessions if str(s.id) == session_id]
    assert current.current_token_hash == hashlib.sha256(secret.encode()).hexdigest()  # only its hash is kept
    assert timedelta(days=7) - timedelta(minutes=1) < current.expires_at - before <= timedelta(days=7, minutes=1)
    claims = jwt.decode(tokens["access_token"], keys.jwt_secret, algorithms=["HS256"])
    lifetime = claims["exp"] - claims["iat"]
    assert lifetime == 15 * 60


async def test_an_expired_reset_link_is_refused_and_changes_nothing(client, sessionmaker):
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from core.db import TenantScope, scoped_session
    from models.identity import OneTimeToken

    owner = await active_consultancy(client, sessionmaker)
    await client.post("/api/v1/auth/password/forgot", headers={"X-Tenant": owner.tenant_slug},
                      json={"email": owner.email})
    message = await sent_message(sessionmaker, owner.email, "reset_password")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(OneTimeToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await client.post("/api/v1/auth/password/reset",
                                json={"token": link_token(message), "new_password": "brand-new-passphrase"})
    assert_problem(expired, 410, "link-expired", "token")
    assert (await login(client, owner.email, slug=owner.tenant_slug)).status_code == 200  # old password still works
