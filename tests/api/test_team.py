"""The team: invitations by signed, expiring links; roles; removal; ownership; platform admins' invitations."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from support import (
    PASSWORD,
    Account,
    active_consultancy,
    assert_problem,
    login,
    outbox_for,
    platform_admin,
    poll_until,
    register_client,
    sent_message,
    unique,
)

from core.db import TenantScope, scoped_session
from models.platform import AuditEvent
from models.team import Invitation


async def invite_and_join(client, sessionmaker, owner: Account, role: str, email: str | None = None) -> Account:
    """Invite `email` with `role`, take the link from the outbox, accept it with a new password."""
    email = email or f"{unique(role)}@example.com"
    made = await client.post("/api/v1/team/invitations", headers=owner.headers(),
                             json={"email": email, "role": role, "full_name": "Invited Person"})
    assert made.status_code == 201, made.text
    message = await sent_message(sessionmaker, email, "team_invitation")
    token = str(message.data["link"]).split("token=", 1)[1]
    joined = await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    body = joined.json()
    assert body["role"] == role and body["joined_existing_account"] is False
    return Account(body["user_id"], email, owner.tenant_slug, owner.tenant_id,
                   body["tokens"]["access_token"], body["tokens"]["refresh_token"])


async def actions(sessionmaker, tenant_id: str) -> list[str]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rows = await session.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == uuid.UUID(tenant_id))
                                     .order_by(AuditEvent.at))
        return list(rows.scalars())


async def test_owner_invites_a_consultant_and_a_support_person_who_join(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    email = f"{unique('staff')}@example.com"
    made = await client.post("/api/v1/team/invitations", headers=owner.headers(),
                             json={"email": email, "role": "staff"})
    assert made.status_code == 201, made.text
    invitation = made.json()
    assert invitation["status"] == "pending" and invitation["role"] == "staff"
    message = await sent_message(sessionmaker, email, "team_invitation")
    assert "as staff" in message.body and owner.tenant_slug in message.subject
    token = str(message.data["link"]).split("token=", 1)[1]
    # Inviting the same address twice is refused while the first is pending.
    assert_problem(await client.post("/api/v1/team/invitations", headers=owner.headers(),
                                     json={"email": email, "role": "consultant"}), 409, "already-exists", "email")
    # A weak password is refused and the link still works afterwards.
    assert_problem(await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": "short"}),
                   422, "weak-password", "password")
    joined = await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    staff = Account(joined.json()["user_id"], email, owner.tenant_slug, owner.tenant_id,
                    joined.json()["tokens"]["access_token"], "")
    # used once only
    assert_problem(await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD}),
                   410, "link-expired", "token")
    assert (await login(client, email, slug=owner.tenant_slug)).status_code == 200
    consultant = await invite_and_join(client, sessionmaker, owner, "consultant")

    members = (await client.get("/api/v1/team/members", headers=staff.headers())).json()["items"]
    assert {(m["email"], m["role"]) for m in members} == {
        (owner.email, "owner"), (email, "staff"), (consultant.email, "consultant")}
    # Staff see the team but do not manage it; consultants neither.
    for who in (staff, consultant):
        assert_problem(await client.post("/api/v1/team/invitations", headers=who.headers(),
                                         json={"email": "x@example.com", "role": "staff"}), 403, "forbidden")
    listed = (await client.get("/api/v1/team/invitations?status=accepted", headers=owner.headers())).json()
    assert {i["email"] for i in listed["items"]} == {email, consultant.email}
    assert {"team.invited", "team.invitation_accepted"} <= set(await actions(sessionmaker, owner.tenant_id or ""))


async def test_a_client_joins_with_their_existing_account(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    customer = await register_client(client, owner.tenant_slug or "")
    assert (await client.post("/api/v1/team/invitations", headers=owner.headers(),
                              json={"email": customer.email, "role": "consultant"})).status_code == 201
    token = str((await sent_message(sessionmaker, customer.email, "team_invitation")).data["link"]).split("=", 1)[1]
    assert_problem(await client.post("/api/v1/auth/accept-invitation",
                                     json={"token": token, "password": "not-their-password-123"}),
                   401, "invalid-credentials", "password")
    joined = await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    assert joined.json() | {"tokens": None} == {"user_id": customer.user_id, "tenant_id": owner.tenant_id,
                                                 "role": "consultant", "joined_existing_account": True, "tokens": None}
    # The client tokens carried the old role: they stop working at once.
    assert_problem(await client.get("/api/v1/me", headers=customer.headers()), 401, "token-invalid")


async def test_expired_revoked_and_replaced_links_do_not_work(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)

    async def invited(email: str) -> tuple[str, str]:
        made = await client.post("/api/v1/team/invitations", headers=owner.headers(),
                                 json={"email": email, "role": "staff"})
        assert made.status_code == 201, made.text
        return made.json()["id"], str((await sent_message(sessionmaker, email, "team_invitation")).data["link"])

    def accept(link: str):
        return client.post("/api/v1/auth/accept-invitation",
                           json={"token": link.split("token=", 1)[1], "password": PASSWORD})

    expiring_id, expiring = await invited(f"{unique('late')}@example.com")
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(Invitation).where(Invitation.id == uuid.UUID(expiring_id))
                              .values(expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    assert_problem(await accept(expiring), 410, "link-expired", "token")

    revoked_id, revoked = await invited(f"{unique('gone')}@example.com")
    assert (await client.delete(f"/api/v1/team/invitations/{revoked_id}", headers=owner.headers())).json()[
        "status"] == "revoked"
    assert_problem(await accept(revoked), 410, "link-expired", "token")

    email = f"{unique('again')}@example.com"
    first_id, first = await invited(email)
    again = await client.post(f"/api/v1/team/invitations/{first_id}/resend", headers=owner.headers())
    assert again.status_code == 200 and again.json()["sent_count"] == 2
    sent = await poll_until(lambda: outbox_for(sessionmaker, email), lambda rows: len(rows) == 2)
    second = str(sent[-1].data["link"])
    assert second != first
    assert_problem(await accept(first), 410, "link-expired", "token")
    assert (await accept(second)).status_code == 200
    assert_problem(await client.post("/api/v1/auth/accept-invitation", json={"token": "x" * 40, "password": PASSWORD}),
                   410, "link-expired", "token")


async def test_roles_removal_and_ownership_never_leave_a_consultancy_without_an_owner(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    staff = await invite_and_join(client, sessionmaker, owner, "staff")
    colleague = await invite_and_join(client, sessionmaker, owner, "consultant")
    # the last owner cannot step down nor be removed
    assert_problem(await client.patch(f"/api/v1/team/members/{owner.user_id}", headers=owner.headers(),
                                      json={"role": "staff"}), 409, "conflict", "role")
    assert_problem(await client.delete(f"/api/v1/team/members/{owner.user_id}", headers=owner.headers()),
                   409, "conflict", "user_id")
    # a role change ends the member's sessions at once (their token carried the old role)
    changed = await client.patch(f"/api/v1/team/members/{staff.user_id}", headers=owner.headers(),
                                 json={"role": "consultant"})
    assert changed.status_code == 200 and changed.json()["role"] == "consultant"
    assert_problem(await client.get("/api/v1/team/members", headers=staff.headers()), 401, "token-invalid")
    # removal: tokens stop working now, sign-in is refused, and the refresh token is dead
    relogged = (await login(client, colleague.email, slug=owner.tenant_slug)).json()
    assert (await client.delete(f"/api/v1/team/members/{colleague.user_id}", headers=owner.headers())).status_code \
        == 204
    for access in (colleague.access, relogged["access_token"]):
        assert_problem(await client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}",
                                                               "X-Tenant": owner.tenant_slug or ""}),
                       401, "token-invalid")
    assert_problem(await login(client, colleague.email, slug=owner.tenant_slug), 401, "invalid-credentials")
    assert (await client.post("/api/v1/auth/refresh", json={"refresh_token": relogged["refresh_token"]})
            ).status_code == 401
    members = (await client.get("/api/v1/team/members", headers=owner.headers())).json()["items"]
    assert colleague.user_id not in {m["id"] for m in members}
    # ownership moves; the former owner is a consultant and signs in again
    staff_again = (await login(client, staff.email, slug=owner.tenant_slug)).json()
    moved = await client.post("/api/v1/team/ownership-transfer", headers=owner.headers(),
                              json={"user_id": staff.user_id})
    assert moved.status_code == 200 and moved.json()["role"] == "owner"
    assert_problem(await client.get("/api/v1/team/members", headers=owner.headers()), 401, "token-invalid")
    new_owner = (await login(client, staff.email, slug=owner.tenant_slug)).json()
    assert staff_again["access_token"] != new_owner["access_token"]
    roles = {m["email"]: m["role"] for m in (await client.get(
        "/api/v1/team/members", headers={"Authorization": f"Bearer {new_owner['access_token']}",
                                         "X-Tenant": owner.tenant_slug or ""})).json()["items"]}
    assert roles == {owner.email: "consultant", staff.email: "owner"}
    assert {"team.role_changed", "team.member_removed", "team.ownership_transferred"} <= set(
        await actions(sessionmaker, owner.tenant_id or ""))


async def test_a_member_of_one_consultancy_can_do_nothing_in_another(client, sessionmaker):
    a = await active_consultancy(client, sessionmaker)
    b = await active_consultancy(client, sessionmaker)
    a_staff = await invite_and_join(client, sessionmaker, a, "staff")
    b_staff = await invite_and_join(client, sessionmaker, b, "staff")
    assert_problem(await client.get("/api/v1/team/members", headers=a_staff.headers(**{"X-Tenant": b.tenant_slug})),
                   403, "tenant-mismatch")
    assert_problem(await client.patch(f"/api/v1/team/members/{b_staff.user_id}", headers=a.headers(),
                                      json={"role": "consultant"}), 404, "not-found", "user_id")
    assert_problem(await client.delete(f"/api/v1/team/members/{b_staff.user_id}", headers=a.headers()),
                   404, "not-found", "user_id")
    assert_problem(await client.post("/api/v1/team/ownership-transfer", headers=a.headers(),
                                     json={"user_id": b_staff.user_id}), 404, "not-found", "user_id")


async def test_platform_admins_invite_admins_who_must_enrol_two_factor(client, sessionmaker, keys):
    admin, _ = await platform_admin(client, sessionmaker, keys)
    email = f"{unique('admin2')}@example.com"
    made = await client.post("/api/v1/admin/invitations", headers=admin.headers(), json={"email": email})
    assert made.status_code == 201, made.text
    assert made.json()["role"] == "platform_admin" and made.json()["tenant_id"] is None
    token = str((await sent_message(sessionmaker, email, "team_invitation")).data["link"]).split("token=", 1)[1]
    joined = await client.post("/api/v1/auth/accept-invitation", json={"token": token, "password": PASSWORD})
    assert joined.status_code == 200, joined.text
    assert joined.json()["role"] == "platform_admin" and joined.json()["tenant_id"] is None
    new_admin = {"Authorization": f"Bearer {joined.json()['tokens']['access_token']}"}
    assert_problem(await client.get("/api/v1/admin/tenants", headers=new_admin), 403, "mfa-required")
    owner = await active_consultancy(client, sessionmaker)
    assert_problem(await client.post("/api/v1/admin/invitations", headers=owner.headers(),
                                     json={"email": "x@example.com"}), 403, "forbidden")
