"""The team: members and invitations of a consultancy; accepting an invitation; platform admins' invitations.

Owners invite, change roles, remove and transfer ownership; consultants and staff see who is on
the team. A consultancy always keeps an owner. See docs/team.md.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import select

from api.deps import CurrentTenant, PlatformSession, Principal, RawSession, Session, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import NOT_FOUND, Problem
from api.schemas.team import (
    AcceptedInvitation,
    AcceptInvitation,
    AdminInvitationIn,
    InvitationIn,
    InvitationOut,
    MemberOut,
    OwnershipTransfer,
    RoleChange,
)
from api.services import team
from api.services.sessions import open_session
from domain.team import TEAM_ROLES
from models.base import utcnow
from models.identity import Role, User
from models.platform import record_audit
from models.team import Invitation, InvitationStatus

router = APIRouter(tags=["team"])


def _out(invitation: Invitation) -> InvitationOut:
    out = InvitationOut.model_validate(invitation)
    out.expired = invitation.status == InvitationStatus.PENDING and invitation.expires_at <= utcnow()
    return out


async def _invitation(session: Session, tenant_id: UUID | None, invitation_id: UUID) -> Invitation:
    invitation = await session.get(Invitation, invitation_id, with_for_update=True)
    if invitation is None or invitation.tenant_id != tenant_id:
        raise Problem(NOT_FOUND, "no invitation has this id here", field="invitation_id")
    return invitation


async def _invitations(session: Session, paging: Paging, tenant_id: UUID | None,
                       status_: InvitationStatus | None) -> Page[InvitationOut]:
    stmt = select(Invitation).where(Invitation.tenant_id.is_not_distinct_from(tenant_id))
    if status_:
        stmt = stmt.where(Invitation.status == status_)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Invitation.created_at},
                                  default_sort="-created_at", id_column=Invitation.id)
    return Page[InvitationOut](items=[_out(i) for i in rows], next_cursor=cursor)


# -- members -----------------------------------------------------------------------------------
@router.get("/team/members", response_model=Page[MemberOut])
async def list_members(
    session: Session, tenant: CurrentTenant, paging: Paging,
    role: Annotated[Role | None, Query()] = None,
    include_removed: Annotated[bool, Query(description="also members who were removed")] = False,
    principal: Principal = require(Permission.VIEW_TEAM),
) -> Page[MemberOut]:
    """Owners, consultants and support staff of the consultancy (clients are under /clients)."""
    stmt = select(User).where(User.tenant_id == tenant.id, User.role.in_(TEAM_ROLES))
    if role:
        stmt = stmt.where(User.role == role)
    if not include_removed:
        stmt = stmt.where(User.is_active.is_(True))
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": User.created_at, "email": User.email},
                                  default_sort="created_at", id_column=User.id)
    return Page[MemberOut](items=[MemberOut.model_validate(u) for u in rows], next_cursor=cursor)


@router.patch("/team/members/{user_id}", response_model=MemberOut)
async def change_member_role(
    user_id: UUID, body: RoleChange, session: Session, tenant: CurrentTenant, state: State,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> MemberOut:
    """Give a member another role (owner makes a co-owner). Their sessions end at once: the
    new role applies from their next sign-in. The last owner cannot step down."""
    user = await team.member(session, tenant.id, user_id)
    await team.change_role(session, state, tenant_id=tenant.id, user=user, new=Role(body.role),
                           actor_id=principal.user_id, actor_role=principal.role)
    return MemberOut.model_validate(user)


@router.delete("/team/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: UUID, session: Session, tenant: CurrentTenant, state: State,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> None:
    """Remove a member: the account is deactivated and every token it holds stops working now.
    Their bookings, notes and history stay. Inviting the address again brings them back."""
    user = await team.member(session, tenant.id, user_id)
    await team.remove(session, state, tenant_id=tenant.id, user=user, actor_id=principal.user_id,
                      actor_role=principal.role)


@router.post("/team/ownership-transfer", response_model=MemberOut)
async def transfer_ownership(
    body: OwnershipTransfer, session: Session, tenant: CurrentTenant, state: State,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> MemberOut:
    """Make another member the owner; you become a consultant (sign in again to continue)."""
    target = await team.member(session, tenant.id, body.user_id)
    if target.id == principal.user_id:
        raise Problem(NOT_FOUND, "you own the consultancy already; name another member", field="user_id")
    me = await team.member(session, tenant.id, principal.user_id)
    await team.change_role(session, state, tenant_id=tenant.id, user=target, new=Role.OWNER,
                           actor_id=principal.user_id, actor_role=principal.role)
    await team.change_role(session, state, tenant_id=tenant.id, user=me, new=Role.CONSULTANT,
                           actor_id=principal.user_id, actor_role=principal.role)
    await record_audit(session, tenant_id=tenant.id, action="team.ownership_transferred",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="user",
                       target_id=target.id, details={"from_user_id": str(principal.user_id)})
    return MemberOut.model_validate(target)


# -- invitations -------------------------------------------------------------------------------
@router.post("/team/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationOut)
async def invite_member(
    body: InvitationIn, request: Request, session: Session, tenant: CurrentTenant, state: State,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> InvitationOut:
    """Invite a consultant or a support person by email: a signed link valid for 7 days. The
    answer does not wait for the email, which is in the outbox a moment later."""
    invitation = await team.invite(request, session, state, tenant=tenant, email=str(body.email),
                                   role=Role(body.role), full_name=body.full_name, inviter_id=principal.user_id)
    return _out(invitation)


@router.get("/team/invitations", response_model=Page[InvitationOut])
async def list_invitations(
    session: Session, tenant: CurrentTenant, paging: Paging,
    status_: Annotated[InvitationStatus | None, Query(alias="status")] = None,
    principal: Principal = require(Permission.VIEW_TEAM),
) -> Page[InvitationOut]:
    return await _invitations(session, paging, tenant.id, status_)


@router.post("/team/invitations/{invitation_id}/resend", response_model=InvitationOut)
async def resend_invitation(
    invitation_id: UUID, request: Request, session: Session, tenant: CurrentTenant, state: State,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> InvitationOut:
    """A new link with a new expiry; the previous link stops working."""
    invitation = await _invitation(session, tenant.id, invitation_id)
    return _out(await team.resend(request, session, state, invitation, tenant=tenant, actor_id=principal.user_id))


@router.delete("/team/invitations/{invitation_id}", response_model=InvitationOut)
async def revoke_invitation(
    invitation_id: UUID, session: Session, tenant: CurrentTenant,
    principal: Principal = require(Permission.MANAGE_TEAM),
) -> InvitationOut:
    invitation = await _invitation(session, tenant.id, invitation_id)
    return _out(await team.revoke(session, invitation, actor_id=principal.user_id, actor_role=principal.role))


@router.post("/auth/accept-invitation", response_model=AcceptedInvitation, tags=["auth"])
async def accept_invitation(body: AcceptInvitation, request: Request, session: RawSession,
                            state: State) -> AcceptedInvitation:
    """Accept an invitation with the token from its email: choose a password (a new account),
    or give the password of your existing account at that consultancy. Answers with tokens:
    you are signed in. Invited platform admins then enrol two-factor (POST /auth/totp/enrol)."""
    user, existing = await team.accept(session, state, token=body.token, password=body.password,
                                       full_name=body.full_name)
    client = request.client
    tokens = await open_session(session, user=user, keys=state.keys, settings=state.settings, mfa=False,
                                ip=client.host if client else None, user_agent=request.headers.get("user-agent"))
    return AcceptedInvitation(user_id=user.id, tenant_id=user.tenant_id, role=user.role,
                              joined_existing_account=existing, tokens=tokens)


# -- platform admins ---------------------------------------------------------------------------
@router.post("/admin/invitations", status_code=status.HTTP_201_CREATED, response_model=InvitationOut,
             tags=["admin"])
async def invite_admin(
    body: AdminInvitationIn, request: Request, session: PlatformSession, state: State,
    admin: Principal = require(Permission.ADMIN_ADMINS),
) -> InvitationOut:
    """Invite another platform admin (they enrol two-factor before they can act)."""
    invitation = await team.invite(request, session, state, tenant=None, email=str(body.email),
                                   role=Role.PLATFORM_ADMIN, full_name=body.full_name, inviter_id=admin.user_id)
    return _out(invitation)


@router.get("/admin/invitations", response_model=Page[InvitationOut], tags=["admin"])
async def list_admin_invitations(
    session: PlatformSession, paging: Paging,
    status_: Annotated[InvitationStatus | None, Query(alias="status")] = None,
    admin: Principal = require(Permission.ADMIN_ADMINS),
) -> Page[InvitationOut]:
    return await _invitations(session, paging, None, status_)


@router.delete("/admin/invitations/{invitation_id}", response_model=InvitationOut, tags=["admin"])
async def revoke_admin_invitation(
    invitation_id: UUID, session: PlatformSession, admin: Principal = require(Permission.ADMIN_ADMINS),
) -> InvitationOut:
    invitation = await _invitation(session, None, invitation_id)
    return _out(await team.revoke(session, invitation, actor_id=admin.user_id, actor_role=admin.role))
