"""Sign-up, registration, sign-in, email verification, password reset and two-factor."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import (
    ALREADY_EXISTS,
    CONFLICT,
    INVALID_CREDENTIALS,
    RATE_LIMITED,
    TOKEN_EXPIRED_OR_USED,
    TOTP_REQUIRED,
    WEAK_PASSWORD,
    Problem,
)
from api.ratelimit import count, enforce, locked_for
from api.state import AppState
from api.workflow_starts import start_after_commit
from core.db import TenantScope, enter_scope, scoped_session
from core.security import (
    hash_password,
    hash_token,
    new_opaque_token,
    new_recovery_codes,
    password_problems,
    totp_matches,
    verify_password,
)
from domain.notification_channels import Channel
from domain.notifications import NOTIFY_WORKFLOW, NotificationRequest, notify_workflow_id
from models.identity import OneTimeToken, RecoveryCode, TokenPurpose, User
from models.platform import record_audit
from models.tenancy import Tenant
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

log = logging.getLogger(__name__)


def check_password_policy(password: str, email: str, field: str = "password") -> None:
    problems = password_problems(password, email=email)
    if problems:
        raise Problem(WEAK_PASSWORD, "; ".join(problems).capitalize() + ".", field=field)


async def email_taken(session: AsyncSession, tenant_id: UUID | None, email: str) -> bool:
    stmt = select(User.id).where(User.tenant_id.is_not_distinct_from(tenant_id), User.email == email)
    return (await session.execute(stmt)).first() is not None


async def add_user(session: AsyncSession, user: User) -> User:
    """Insert a user; a concurrent duplicate email becomes the same 409 as a sequential one."""
    try:
        async with session.begin_nested():
            session.add(user)
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, "an account with this email exists already; sign in instead",
                      field="email") from exc
    return user


async def send_one_time_link(
    request: Request,
    session: AsyncSession,
    state: AppState,
    *,
    user: User,
    tenant: Tenant | None,
    purpose: TokenPurpose,
) -> None:
    """Create a single-use token and send its link, in the caller's transaction.

    The email goes through the notifications capability (`verify_email` / `reset_password`:
    the reader's language, the consultancy's own wording, the delivery log): a `NotifyWorkflow`
    started after the commit, so the link is never sent for a token that was rolled back, and a
    crash between the commit and the start is recovered by the relay. Both events are urgent
    and mandatory: quiet hours and the email opt-out never hold or silence them.
    """
    settings = state.settings
    token = new_opaque_token()
    ttl = (timedelta(hours=settings.email_token_hours) if purpose == TokenPurpose.VERIFY_EMAIL
           else timedelta(minutes=settings.password_reset_minutes))
    record = OneTimeToken(
        id=uuid4(), tenant_id=user.tenant_id, user_id=user.id, purpose=purpose,
        token_hash=hash_token(token), expires_at=datetime.now(UTC) + ttl,
    )
    session.add(record)
    await session.flush()
    path = "verify-email" if purpose == TokenPurpose.VERIFY_EMAIL else "reset-password"
    link = f"{settings.public_base_url}/{path}?token={token}"
    tenant_name = tenant.name if tenant else "Muhurta"
    if purpose == TokenPurpose.VERIFY_EMAIL:
        event = "verify_email"
        variables: dict[str, Any] = {"full_name": user.full_name, "tenant_name": tenant_name, "link": link,
                                     "hours": settings.email_token_hours}
    else:
        event = "reset_password"
        variables = {"full_name": user.full_name, "link": link, "minutes": settings.password_reset_minutes}
    key = f"{purpose.value}:{record.id}"
    await start_after_commit(
        request, session, state, workflow_type=NOTIFY_WORKFLOW, workflow_id=notify_workflow_id(key),
        payload=NotificationRequest(dedupe_key=key, tenant_id=user.tenant_id, recipient_user_id=user.id,
                                    event=event, variables=variables, channels=[Channel.EMAIL],
                                    data={"link": link}),
        tenant_id=user.tenant_id,
        search_attributes={ENTITY_STATUS.name: "sending",
                           **({TENANT_ID.name: str(user.tenant_id)} if user.tenant_id else {})},
        memo={"summary": f"{event} email to user {user.id}"},
    )


async def consume_one_time_token(
    session: AsyncSession, token: str, purpose: TokenPurpose
) -> User | None:
    """Mark a link's token used, in the caller's transaction; None if unknown, expired or used.

    The lookup bypasses tenant scoping (the token itself is the credential), so the session is
    left in the user's own tenant scope afterwards. If the caller's work then fails, the
    rollback leaves the token unused and the link still works.
    """
    await enter_scope(session, TenantScope.system())
    record = (await session.execute(
        select(OneTimeToken).where(OneTimeToken.token_hash == hash_token(token),
                                   OneTimeToken.purpose == purpose).with_for_update()
    )).scalar_one_or_none()
    if record is None or record.used_at is not None or record.expires_at <= datetime.now(UTC):
        return None
    record.used_at = datetime.now(UTC)
    user = await session.get(User, record.user_id, with_for_update=True)
    await session.flush()
    if user is not None:
        await enter_scope(session, TenantScope.of(user.tenant_id))
    return user


def link_expired() -> Problem:
    return Problem(TOKEN_EXPIRED_OR_USED, field="token")


@dataclass
class LoginAttempt:
    tenant: Tenant | None
    email: str
    password: str
    totp_code: str | None
    ip: str | None


async def authenticate(state: AppState, attempt: LoginAttempt) -> tuple[User, bool]:
    """Check credentials with throttling; return the user and whether a second factor was used.

    Failures are counted per account in Redis and audited in their own transaction (the
    request's own rolls back with the error).
    """
    settings = state.settings
    redis = state.redis
    await enforce(redis, f"login-ip:{attempt.ip}", settings.login_max_per_ip_per_minute, 60,
                  "sign-in attempts from your network")
    tenant_id = attempt.tenant.id if attempt.tenant else None
    failures_key = f"login-fail:{tenant_id or 'platform'}:{attempt.email}"
    locked = await locked_for(redis, failures_key, settings.login_max_failures)
    if locked:
        raise Problem(
            RATE_LIMITED,
            f"too many failed sign-ins for this account; try again in {locked} seconds",
            headers={"Retry-After": str(locked)}, extra={"retry_after": locked},
        )
    async with scoped_session(state.sessionmaker, TenantScope.of(tenant_id)) as session:
        user = (await session.execute(
            select(User).where(User.tenant_id.is_not_distinct_from(tenant_id), User.email == attempt.email)
        )).scalar_one_or_none()
        password_ok = verify_password(attempt.password, user.password_hash if user else None)
        totp_used = False
        failure: Problem | None = None
        if user is None or not password_ok or not user.is_active:
            failure = Problem(INVALID_CREDENTIALS, field="password")
        elif user.totp_enabled:
            if not attempt.totp_code:
                # Not counted as a failure: the password was right, the client asks for the code next.
                raise Problem(TOTP_REQUIRED, field="totp_code")
            if await _second_factor_ok(session, state, user, attempt.totp_code):
                totp_used = True
            else:
                failure = Problem(TOTP_REQUIRED, "the two-factor code is wrong or expired", field="totp_code")
        if failure is None and user is not None:
            await redis.delete(failures_key)
            return user, totp_used
        await record_audit(session, tenant_id=tenant_id, action="auth.login_failed",
                           actor_user_id=user.id if user else None,
                           details={"email": attempt.email}, ip=attempt.ip)
    await count(redis, failures_key, settings.login_failure_window_seconds)
    assert failure is not None
    raise failure


async def _second_factor_ok(session: AsyncSession, state: AppState, user: User, code: str) -> bool:
    assert user.totp_secret_encrypted is not None
    if totp_matches(state.keys.decrypt(user.totp_secret_encrypted), code):
        return True
    cleaned = code.strip().lower()
    recovery = (await session.execute(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                   RecoveryCode.code_hash == hash_token(cleaned),
                                   RecoveryCode.used_at.is_(None)).with_for_update()
    )).scalar_one_or_none()
    if recovery is None:
        return False
    recovery.used_at = datetime.now(UTC)
    await record_audit(session, tenant_id=user.tenant_id, action="auth.recovery_code_used",
                       actor_user_id=user.id)
    return True


async def enable_totp(session: AsyncSession, state: AppState, user: User, code: str) -> list[str]:
    if user.totp_enabled:
        raise Problem(CONFLICT, "two-factor authentication is already on", field="code")
    if user.totp_secret_encrypted is None:
        raise Problem(CONFLICT, "start with POST /api/v1/auth/totp/enrol", field="code")
    if not totp_matches(state.keys.decrypt(user.totp_secret_encrypted), code):
        raise Problem(TOTP_REQUIRED, "the code does not match; check your authenticator's clock",
                      field="code")
    user.totp_enabled_at = datetime.now(UTC)
    codes = new_recovery_codes()
    for code_value in codes:
        session.add(RecoveryCode(tenant_id=user.tenant_id, user_id=user.id, code_hash=hash_token(code_value)))
    await record_audit(session, tenant_id=user.tenant_id, action="auth.totp_enabled", actor_user_id=user.id)
    return codes


async def set_password(session: AsyncSession, user: User, password: str, field: str) -> None:
    check_password_policy(password, user.email, field)
    user.password_hash = hash_password(password)
    user.password_changed_at = datetime.now(UTC)
    await session.flush()


async def create_tenant_owner_scope(session: AsyncSession, tenant: Tenant) -> None:
    """After inserting a tenant, act inside it (row-level security checks inserts too)."""
    await enter_scope(session, TenantScope.of(tenant.id))


