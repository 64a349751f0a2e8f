"""Team rules without I/O: who may be invited to what, how long a link lives, the last owner."""

from __future__ import annotations

from datetime import timedelta

from models.identity import Role

INVITATION_TTL = timedelta(days=7)
INVITATION_PURPOSE = "invitation"          # core.signing purpose of an invitation's token
TEAM_ROLES = frozenset({Role.OWNER, Role.CONSULTANT, Role.STAFF})


def role_change_refusal(*, current: Role, new: Role, active_owners: int) -> str | None:
    """Why a member's role cannot change so, or None. A consultancy always keeps one owner."""
    if current not in TEAM_ROLES:
        return "only team members (owner, consultant, staff) have team roles"
    if current == Role.OWNER and new != Role.OWNER and active_owners <= 1:
        return "this is the consultancy's last owner: transfer ownership first"
    return None


def removal_refusal(*, role: Role, active_owners: int) -> str | None:
    if role not in TEAM_ROLES:
        return "only team members can be removed here (clients are managed under /clients)"
    if role == Role.OWNER and active_owners <= 1:
        return "this is the consultancy's last owner: transfer ownership first"
    return None
