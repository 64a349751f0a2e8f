"""/auth: sign-up, registration, sign-in, tokens, sessions, email verification, passwords, TOTP."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from api.deps import Context, CurrentTenant, CurrentUser, RawSession, Session, State, suspended
from api.problems import ALREADY_EXISTS, CONFLICT, MFA_REQUIRED, NOT_FOUND, TENANT_UNKNOWN, TOKEN_INVALID, Problem
from api.ratelimit import enforce
from api.schemas.identity import (
    Accepted,
    ClientRegistration,
    ConsultantSignup,
    Login,
    PasswordForgot,
    PasswordReset,
    RecoveryCodes,
    RefreshRequest,
    RegistrationOut,
    SessionOut,
    SignupOut,
    TenantOut,
    TokenBody,
    TokenPair,
    TotpCode,
    TotpEnrolment,
    UserOut,
)
from api.services.identity import (
    LoginAttempt,
    add_user,
    authenticate,
    check_password_policy,
    consume_one_time_token,
    enable_totp,
    link_expired,
    send_one_time_link,
    set_password,
)
from api.services.sessions import (
    RefreshOutcome,
    open_session,
    revoke_all_sessions,
    revoke_session,
    rotate_refresh_token,
)
from api.workflow_starts import signal_after_commit, start_after_commit
from core.db import TenantScope, enter_scope, scoped_session
from core.security import hash_password, new_totp_secret, totp_matches, totp_uri
from domain.onboarding import OnboardingInput, onboarding_workflow_id
from models.identity import AuthSession, Role, TokenPurpose, User
from models.platform import record_audit
from models.tenancy import Tenant, TenantStatus
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=SignupOut)
async def sign_up_consultant(
    body: ConsultantSignup, request: Request, session: Session, state: State, context: Context
) -> SignupOut:
    """A consultant creates their consultancy. It stays *pending* until a platform admin
    approves it; meanwhile the owner can sign in and edit their profile."""
    check_password_policy(body.password, body.email)
    if (await session.execute(select(Tenant.id).where(Tenant.slug == body.slug))).first():
        raise Problem(ALREADY_EXISTS, f"the address '{body.slug}' is taken; choose another", field="slug")
    tenant = Tenant(slug=body.slug, name=body.business_name, timezone=body.timezone,
                    status=TenantStatus.PENDING, settings={})
    session.add(tenant)
    try:
        async with session.begin_nested():
            await session.flush()
    except Exception as exc:  # a concurrent sign-up took the slug between check and insert
        raise Problem(ALREADY_EXISTS, f"the address '{body.slug}' is taken; choose another",
                      field="slug") from exc
    await enter_scope(session, TenantScope.of(tenant.id))
    owner = await add_user(session, User(
        tenant_id=tenant.id, email=body.email, full_name=body.full_name, phone=body.phone,
        timezone=body.timezone, role=Role.OWNER, password_hash=hash_password(body.password),
    ))
    await send_one_time_link(request, session, state, user=owner, tenant=tenant, purpose=TokenPurpose.VERIFY_EMAIL)
    await record_audit(session, tenant_id=tenant.id, action="tenant.signed_up", actor_user_id=owner.id,
                       actor_role=owner.role.value, target_type="tenant", target_id=tenant.id, ip=context.ip)
    workflow_id = onboarding_workflow_id(tenant.id)
    await start_after_commit(
        request, session, state,
        workflow_type="Onboarding", workflow_id=workflow_id,
        payload=OnboardingInput(tenant_id=tenant.id, owner_user_id=owner.id),
        tenant_id=tenant.id,
        search_attributes={TENANT_ID.name: str(tenant.id), ENTITY_STATUS.name: "awaiting_verification"},
        memo={"summary": f"Onboarding of consultancy '{tenant.slug}'"},
    )
    tokens = await open_session(session, user=owner, keys=state.keys, settings=state.settings,
                                mfa=False, ip=context.ip, user_agent=context.user_agent)
    await session.refresh(tenant, ["domains"])
    return SignupOut(tenant=TenantOut.of(tenant), user=UserOut.model_validate(owner), tokens=tokens,
                     onboarding_workflow_id=workflow_id)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=RegistrationOut)
async def register_client(
    body: ClientRegistration, request: Request, session: Session, state: State, tenant: CurrentTenant, context: Context
) -> RegistrationOut:
    """A client creates their account inside one consultancy (named by X-Tenant or domain)."""
    if tenant.status != TenantStatus.ACTIVE:
        raise Problem(TENANT_UNKNOWN, f"no consultancy is called '{tenant.slug}'", field="X-Tenant")
    check_password_policy(body.password, body.email)
    user = await add_user(session, User(
        tenant_id=tenant.id, email=body.email, full_name=body.full_name, phone=body.phone,
        timezone=body.timezone or tenant.timezone, locale=body.locale, role=Role.CLIENT,
        password_hash=hash_password(body.password),
    ))
    await send_one_time_link(request, session, state, user=user, tenant=tenant, purpose=TokenPurpose.VERIFY_EMAIL)
    await record_audit(session, tenant_id=tenant.id, action="client.registered", actor_user_id=user.id,
                       actor_role=user.role.value, target_type="user", target_id=user.id, ip=context.ip)
    tokens = await open_session(session, user=user, keys=state.keys, settings=state.settings, mfa=False,
                                ip=context.ip, user_agent=context.user_agent)
    return RegistrationOut(user=UserOut.model_validate(user), tokens=tokens)


@router.post("/login", response_model=TokenPair)
async def login(body: Login, session: Session, state: State, context: Context) -> TokenPair:
    """Sign in. Name the consultancy with X-Tenant (platform admins sign in without one)."""
    if context.tenant is not None and context.tenant.status == TenantStatus.SUSPENDED:
        raise suspended(context.tenant, "X-Tenant")
    user, second_factor = await authenticate(state, LoginAttempt(
        tenant=context.tenant, email=body.email, password=body.password,
        totp_code=body.totp_code, ip=context.ip))
    user = await session.merge(user, load=True)
    tokens = await open_session(session, user=user, keys=state.keys, settings=state.settings,
                                mfa=second_factor, ip=context.ip, user_agent=context.user_agent)
    await record_audit(session, tenant_id=user.tenant_id, action="auth.login", actor_user_id=user.id,
                       actor_role=user.role.value, details={"mfa": second_factor}, ip=context.ip)
    return tokens


@router.post("/refresh", response_model=TokenPair)
async def refresh(body: RefreshRequest, state: State) -> TokenPair:
    """Swap a refresh token for a new pair. Each refresh token works once: presenting a used
    one signs the whole session out (it was copied)."""
    async with scoped_session(state.sessionmaker, TenantScope.system()) as session:
        result = await rotate_refresh_token(session, refresh_token=body.refresh_token, keys=state.keys,
                                            settings=state.settings, redis=state.redis)
    if result.outcome == RefreshOutcome.REUSED:
        raise Problem(TOKEN_INVALID, "this refresh token was used before; the session is signed out "
                      "for safety. Sign in again.", field="refresh_token")
    if result.tokens is None:
        raise Problem(TOKEN_INVALID, "the refresh token is expired, revoked or unknown; sign in again",
                      field="refresh_token")
    return result.tokens


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentUser, session: Session, state: State) -> None:
    auth_session = await session.get(AuthSession, principal.session_id)
    if auth_session is not None:
        await revoke_session(session, auth_session, reason="logout", redis=state.redis, settings=state.settings)
        await record_audit(session, tenant_id=principal.tenant_id, action="auth.logout",
                           actor_user_id=principal.user_id, target_type="session", target_id=auth_session.id)


@router.get("/sessions", response_model=list[SessionOut])
async def list_sessions(principal: CurrentUser, session: Session) -> list[SessionOut]:
    rows = (await session.execute(
        select(AuthSession).where(AuthSession.user_id == principal.user_id, AuthSession.revoked_at.is_(None),
                                  AuthSession.expires_at > datetime.now(UTC))
        .order_by(AuthSession.created_at.desc())
    )).scalars().all()
    return [SessionOut.model_validate(r).model_copy(update={"current": r.id == principal.session_id}) for r in rows]


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_one_session(session_id: UUID, principal: CurrentUser, session: Session, state: State) -> None:
    auth_session = await session.get(AuthSession, session_id)
    if auth_session is None or auth_session.user_id != principal.user_id:
        raise Problem(NOT_FOUND, "you have no session with this id", field="session_id")
    await revoke_session(session, auth_session, reason="revoked_by_user", redis=state.redis, settings=state.settings)
    await record_audit(session, tenant_id=principal.tenant_id, action="auth.session_revoked",
                       actor_user_id=principal.user_id, target_type="session", target_id=session_id)


@router.post("/verify-email", response_model=UserOut)
async def verify_email(body: TokenBody, request: Request, state: State, session: RawSession) -> UserOut:
    """Confirm an email address with the token from the verification email (single use)."""
    user = await consume_one_time_token(session, body.token, TokenPurpose.VERIFY_EMAIL)
    if user is None:
        raise link_expired()
    if user.email_verified_at is None:
        user.email_verified_at = datetime.now(UTC)
        await record_audit(session, tenant_id=user.tenant_id, action="user.email_verified",
                           actor_user_id=user.id, target_type="user", target_id=user.id)
    verified_at = user.email_verified_at
    if user.role == Role.OWNER and user.tenant_id is not None:
        await signal_after_commit(request, session, state, workflow_id=onboarding_workflow_id(user.tenant_id),
                                  signal="email_verified", payload=verified_at, tenant_id=user.tenant_id)
    return UserOut.model_validate(user)


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def resend_verification(
    principal: CurrentUser, request: Request, session: Session, state: State, context: Context
) -> Accepted:
    await enforce(state.redis, f"verify-resend:{principal.user_id}", 3, 3600, "verification emails")
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Problem(NOT_FOUND)
    if user.email_verified_at is not None:
        raise Problem(CONFLICT, "your email is verified already")
    await send_one_time_link(request, session, state, user=user, tenant=context.tenant,
                             purpose=TokenPurpose.VERIFY_EMAIL)
    return Accepted(detail=f"a new link was sent to {user.email}")


@router.post("/password/forgot", status_code=status.HTTP_202_ACCEPTED, response_model=Accepted)
async def forgot_password(
    body: PasswordForgot, request: Request, session: Session, state: State, context: Context
) -> Accepted:
    """Send a reset link if the account exists. The answer is the same either way, so it
    cannot be used to find out who has an account."""
    tenant_id = context.tenant.id if context.tenant else None
    await enforce(state.redis, f"reset:{tenant_id}:{body.email}", 3, 3600, "reset emails for this address")
    user = (await session.execute(
        select(User).where(User.tenant_id.is_not_distinct_from(tenant_id), User.email == body.email,
                           User.is_active.is_(True))
    )).scalar_one_or_none()
    if user is not None:
        await send_one_time_link(request, session, state, user=user, tenant=context.tenant,
                                 purpose=TokenPurpose.RESET_PASSWORD)
    return Accepted(detail="if an account exists for this email, a reset link is on its way")


@router.post("/password/reset", response_model=Accepted)
async def reset_password(body: PasswordReset, state: State, session: RawSession) -> Accepted:
    """Set a new password with the emailed token; every session of the account is signed out."""
    user = await consume_one_time_token(session, body.token, TokenPurpose.RESET_PASSWORD)
    if user is None:
        raise link_expired()
    await set_password(session, user, body.new_password, "new_password")
    revoked = await revoke_all_sessions(session, user.id, reason="password_reset", redis=state.redis,
                                        settings=state.settings)
    await record_audit(session, tenant_id=user.tenant_id, action="auth.password_reset", actor_user_id=user.id,
                       details={"sessions_revoked": revoked})
    return Accepted(detail="password changed; sign in with the new one")


@router.post("/totp/enrol", response_model=TotpEnrolment)
async def enrol_totp(principal: CurrentUser, session: Session, state: State) -> TotpEnrolment:
    """Start two-factor set-up: scan the otpauth URI, then confirm with a code."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Problem(NOT_FOUND)
    if user.totp_enabled:
        raise Problem(CONFLICT, "two-factor authentication is already on")
    secret = new_totp_secret()
    user.totp_secret_encrypted = state.keys.encrypt(secret)
    return TotpEnrolment(secret=secret, otpauth_uri=totp_uri(secret, user.email))


@router.post("/totp/confirm", response_model=RecoveryCodes)
async def confirm_totp(body: TotpCode, principal: CurrentUser, session: Session, state: State) -> RecoveryCodes:
    """Turn two-factor on with a first code; returns recovery codes, shown only this once."""
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Problem(NOT_FOUND)
    return RecoveryCodes(recovery_codes=await enable_totp(session, state, user, body.code))


@router.post("/totp/disable", status_code=status.HTTP_204_NO_CONTENT)
async def disable_totp(body: TotpCode, principal: CurrentUser, session: Session, state: State) -> None:
    user = await session.get(User, principal.user_id)
    if user is None:
        raise Problem(NOT_FOUND)
    if user.role == Role.PLATFORM_ADMIN:
        raise Problem(MFA_REQUIRED, "platform admins must keep two-factor authentication on")
    if not user.totp_enabled or user.totp_secret_encrypted is None:
        raise Problem(CONFLICT, "two-factor authentication is not on")
    if not totp_matches(state.keys.decrypt(user.totp_secret_encrypted), body.code):
        raise Problem(TOKEN_INVALID, "the code does not match", field="code")
    user.totp_enabled_at = None
    user.totp_secret_encrypted = None
    await record_audit(session, tenant_id=user.tenant_id, action="auth.totp_disabled", actor_user_id=user.id)
