"""Invitations (create, re-send, revoke, accept) and members (role, removal, ownership).

The invitation email goes through the notifications capability (`team_invitation`): a Notify
workflow started after the commit, so the person who invites never waits on the provider and a
link is never sent for an invitation that was rolled back. Every change is audited, and every
change of someone's role or membership revokes their sessions at once (an access token carries
the role it was issued with).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.problems import ALREADY_EXISTS, CONFLICT, INVALID_CREDENTIALS, NOT_FOUND, TOKEN_EXPIRED_OR_USED, Problem
from api.services.identity import add_user, check_password_policy
from api.services.sessions import revoke_all_sessions
from api.state import AppState
from api.workflow_starts import start_after_commit
from core.db import TenantScope, enter_scope
from core.security import hash_password, hash_token, verify_password
from core.signing import LinkError, sign, verify
from domain.notification_channels import Channel
from domain.notifications import NOTIFY_WORKFLOW, NotificationRequest, notify_workflow_id
from domain.team import INVITATION_PURPOSE, INVITATION_TTL, TEAM_ROLES, removal_refusal, role_change_refusal
from models.identity import Role, User
from models.platform import record_audit
from models.team import Invitation, InvitationStatus
from models.tenancy import Tenant, TenantStatus
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID


def _new_token(state: AppState, invitation: Invitation) -> str:
    token = sign(state.keys, INVITATION_PURPOSE, {"i": str(invitation.id), "n": uuid4().hex[:12]},
                 expires_at=invitation.expires_at)
    invitation.token_hash = hash_token(token)
    return token


async def _send(request: Request, session: AsyncSession, state: AppState, invitation: Invitation, token: str,
                *, inviter: User | None, tenant: Tenant | None) -> None:
    link = f"{state.settings.public_base_url}/accept-invitation?token={token}"
    key = f"invitation:{invitation.id}:{invitation.sent_count}"
    tenant_name = tenant.name if tenant else "Muhurta (platform administration)"
    await start_after_commit(
        request, session, state, workflow_type=NOTIFY_WORKFLOW, workflow_id=notify_workflow_id(key),
        payload=NotificationRequest(
            dedupe_key=key, tenant_id=invitation.tenant_id, recipient_email=invitation.email,
            recipient_name=invitation.full_name or invitation.email.split("@")[0], event="team_invitation",
            variables={"inviter_name": inviter.full_name if inviter else "Muhurta", "tenant_name": tenant_name,
                       "role": invitation.role.value.replace("_", " "), "link": link,
                       "expires": invitation.expires_at},
            channels=[Channel.EMAIL], data={"link": link, "invitation_id": str(invitation.id)}),
        tenant_id=invitation.tenant_id,
        search_attributes={ENTITY_STATUS.name: "sending",
                           **({TENANT_ID.name: str(invitation.tenant_id)} if invitation.tenant_id else {})},
        memo={"summary": f"team_invitation email for invitation {invitation.id}"},
    )


async def invite(request: Request, session: AsyncSession, state: AppState, *, tenant: Tenant | None, email: str,
                 role: Role, full_name: str | None, inviter_id: UUID) -> Invitation:
    """Invite `email` to `tenant` (None: the platform's admins) with `role`; the email leaves after the commit."""
    tenant_id = tenant.id if tenant else None
    member = (await session.execute(select(User).where(
        User.tenant_id.is_not_distinct_from(tenant_id), User.email == email, User.is_active.is_(True),
        User.role.in_(TEAM_ROLES | {Role.PLATFORM_ADMIN})))).scalar_one_or_none()
    if member is not None:
        raise Problem(ALREADY_EXISTS, f"{email} is a member already ({member.role.value})", field="email")
    pending = (await session.execute(select(Invitation.id).where(
        Invitation.tenant_id.is_not_distinct_from(tenant_id), Invitation.email == email,
        Invitation.status == InvitationStatus.PENDING, Invitation.expires_at > datetime.now(UTC)))).first()
    if pending is not None:
        raise Problem(ALREADY_EXISTS, f"{email} is invited already: re-send that invitation ({pending[0]}) "
                      "or revoke it first", field="email")
    invitation = Invitation(id=uuid4(), tenant_id=tenant_id, email=email, full_name=full_name, role=role,
                            status=InvitationStatus.PENDING, expires_at=datetime.now(UTC) + INVITATION_TTL,
                            invited_by_user_id=inviter_id, sent_count=1, token_hash="")
    token = _new_token(state, invitation)
    session.add(invitation)
    await session.flush()
    inviter = await session.get(User, inviter_id)
    await record_audit(session, tenant_id=tenant_id, action="team.invited", actor_user_id=inviter_id,
                       actor_role=inviter.role.value if inviter else None, target_type="invitation",
                       target_id=invitation.id, details={"email": email, "role": role.value})
    await _send(request, session, state, invitation, token, inviter=inviter, tenant=tenant)
    return invitation


async def resend(request: Request, session: AsyncSession, state: AppState, invitation: Invitation, *,
                 tenant: Tenant | None, actor_id: UUID) -> Invitation:
    """A new link (the old one stops working) with a fresh expiry."""
    if invitation.status != InvitationStatus.PENDING:
        raise Problem(CONFLICT, f"this invitation is {invitation.status.value}; invite again instead")
    invitation.expires_at = datetime.now(UTC) + INVITATION_TTL
    invitation.sent_count += 1
    token = _new_token(state, invitation)
    await session.flush()
    actor = await session.get(User, actor_id)
    await record_audit(session, tenant_id=invitation.tenant_id, action="team.invitation_resent",
                       actor_user_id=actor_id, actor_role=actor.role.value if actor else None,
                       target_type="invitation", target_id=invitation.id, details={"email": invitation.email})
    await _send(request, session, state, invitation, token, inviter=actor, tenant=tenant)
    return invitation


async def revoke(session: AsyncSession, invitation: Invitation, *, actor_id: UUID, actor_role: Role) -> Invitation:
    if invitation.status != InvitationStatus.PENDING:
        raise Problem(CONFLICT, f"this invitation is {invitation.status.value} already")
    invitation.status = InvitationStatus.REVOKED
    invitation.revoked_at = datetime.now(UTC)
    await record_audit(session, tenant_id=invitation.tenant_id, action="team.invitation_revoked",
                       actor_user_id=actor_id, actor_role=actor_role.value, target_type="invitation",
                       target_id=invitation.id, details={"email": invitation.email})
    return invitation


def _expired() -> Problem:
    return Problem(TOKEN_EXPIRED_OR_USED, "this invitation has expired, was used or was withdrawn; "
                   "ask for a new one", field="token")


async def accept(session: AsyncSession, state: AppState, *, token: str, password: str,
                 full_name: str | None) -> tuple[User, bool]:
    """Join with the invitation's role: a new account, or the existing one of this email there.

    The token is the credential (signed, expiring, single use); the lookup bypasses tenant
    scoping and the session is then left in the invitation's tenant scope. Returns the user and
    whether an existing account was linked.
    """
    try:
        claims = verify(state.keys, INVITATION_PURPOSE, token)
        invitation_id = UUID(str(claims["i"]))
    except (LinkError, KeyError, ValueError) as exc:
        raise _expired() from exc
    await enter_scope(session, TenantScope.system())
    invitation = (await session.execute(
        select(Invitation).where(Invitation.id == invitation_id).with_for_update())).scalar_one_or_none()
    now = datetime.now(UTC)
    if (invitation is None or invitation.token_hash != hash_token(token)
            or invitation.status != InvitationStatus.PENDING or invitation.expires_at <= now):
        raise _expired()
    tenant = await session.get(Tenant, invitation.tenant_id) if invitation.tenant_id else None
    if tenant is not None and tenant.status in (TenantStatus.REJECTED, TenantStatus.SUSPENDED):
        raise Problem(CONFLICT, f"{tenant.name} is {tenant.status.value}: this invitation cannot be used now")
    await enter_scope(session, TenantScope.of(invitation.tenant_id))
    user = (await session.execute(select(User).where(
        User.tenant_id.is_not_distinct_from(invitation.tenant_id), User.email == invitation.email
    ).with_for_update())).scalar_one_or_none()
    existing = user is not None and user.is_active and user.password_hash is not None
    previous_role = user.role if user else None
    if user is not None and existing:
        # Their account there (e.g. a client of the consultancy): the password proves it is theirs.
        if not verify_password(password, user.password_hash):
            raise Problem(INVALID_CREDENTIALS, f"an account for {user.email} exists here: enter its password",
                          field="password")
        if user.role == Role.OWNER:
            raise Problem(CONFLICT, "you are an owner here already")
        user.role = invitation.role
    elif user is not None:
        # A removed member (inactive): the emailed link proves the address; a new password is set.
        check_password_policy(password, user.email)
        user.role, user.is_active = invitation.role, True
        user.password_hash, user.password_changed_at = hash_password(password), now
        user.full_name = full_name or user.full_name
        user.email_verified_at = user.email_verified_at or now
    else:
        check_password_policy(password, invitation.email)
        user = await add_user(session, User(
            id=uuid4(), tenant_id=invitation.tenant_id, email=invitation.email,
            full_name=full_name or invitation.full_name or invitation.email.split("@")[0], role=invitation.role,
            password_hash=hash_password(password), password_changed_at=now, is_active=True,
            email_verified_at=now, locale="en"))
    invitation.status, invitation.accepted_at, invitation.accepted_user_id = InvitationStatus.ACCEPTED, now, user.id
    await session.flush()
    if existing:  # tokens issued before carry the old role
        await revoke_all_sessions(session, user.id, reason="role_changed", redis=state.redis, settings=state.settings)
    await record_audit(session, tenant_id=invitation.tenant_id, action="team.invitation_accepted",
                       actor_user_id=user.id, actor_role=invitation.role.value, target_type="invitation",
                       target_id=invitation.id,
                       details={"email": invitation.email, "role": invitation.role.value,
                                "previous_role": previous_role.value if previous_role else None,
                                "joined_existing_account": existing})
    return user, existing


# -- members ---------------------------------------------------------------------------------
async def active_owners(session: AsyncSession, tenant_id: UUID) -> int:
    return int(await session.scalar(select(func.count()).select_from(User).where(
        User.tenant_id == tenant_id, User.role == Role.OWNER, User.is_active.is_(True))) or 0)


async def member(session: AsyncSession, tenant_id: UUID, user_id: UUID, field: str = "user_id") -> User:
    user = (await session.execute(select(User).where(User.id == user_id, User.tenant_id == tenant_id)
                                  .with_for_update())).scalar_one_or_none()
    if user is None or user.role not in TEAM_ROLES or not user.is_active:
        raise Problem(NOT_FOUND, "this consultancy has no team member with this id", field=field)
    return user


async def change_role(session: AsyncSession, state: AppState, *, tenant_id: UUID, user: User, new: Role,
                      actor_id: UUID, actor_role: Role) -> User:
    if user.role == new:
        return user
    refusal = role_change_refusal(current=user.role, new=new, active_owners=await active_owners(session, tenant_id))
    if refusal:
        raise Problem(CONFLICT, refusal, field="role")
    previous, user.role = user.role, new
    await session.flush()
    revoked = await revoke_all_sessions(session, user.id, reason="role_changed", redis=state.redis,
                                        settings=state.settings)
    await record_audit(session, tenant_id=tenant_id, action="team.role_changed", actor_user_id=actor_id,
                       actor_role=actor_role.value, target_type="user", target_id=user.id,
                       details={"from": previous.value, "to": new.value, "sessions_revoked": revoked})
    return user


async def remove(session: AsyncSession, state: AppState, *, tenant_id: UUID, user: User, actor_id: UUID,
                 actor_role: Role) -> int:
    """Deactivate a member: they cannot sign in, and every token they hold stops working now."""
    refusal = removal_refusal(role=user.role, active_owners=await active_owners(session, tenant_id))
    if refusal:
        raise Problem(CONFLICT, refusal, field="user_id")
    user.is_active = False
    await session.flush()
    revoked = await revoke_all_sessions(session, user.id, reason="removed_from_team", redis=state.redis,
                                        settings=state.settings)
    await record_audit(session, tenant_id=tenant_id, action="team.member_removed", actor_user_id=actor_id,
                       actor_role=actor_role.value, target_type="user", target_id=user.id,
                       details={"email": user.email, "role": user.role.value, "sessions_revoked": revoked})
    return revoked
