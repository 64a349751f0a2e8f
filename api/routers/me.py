"""/me: the signed-in person's own profile (open even while a consultancy awaits approval)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, Principal, Session, State, require
from api.patching import apply_changes
from api.permissions import Permission
from api.problems import INVALID_CREDENTIALS, NOT_FOUND, Problem
from api.schemas.identity import Accepted, PasswordChange, ProfileUpdate, UserOut
from api.services.identity import set_password
from api.services.sessions import revoke_all_sessions
from core.security import verify_password
from models.identity import User
from models.platform import record_audit

router = APIRouter(prefix="/me", tags=["me"])


async def _me(session: Session, principal: CurrentUser) -> User:
    user = await session.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise Problem(NOT_FOUND, "your account no longer exists")
    return user


@router.get("", response_model=UserOut)
async def read_profile(principal: CurrentUser, session: Session) -> UserOut:
    return UserOut.model_validate(await _me(session, principal))


@router.patch("", response_model=UserOut)
async def update_profile(
    body: ProfileUpdate, session: Session, principal: Principal = require(Permission.EDIT_OWN_PROFILE)
) -> UserOut:
    user = await _me(session, principal)
    apply_changes(user, body.model_dump(exclude_unset=True))
    await session.flush()
    return UserOut.model_validate(user)


@router.post("/password", response_model=Accepted)
async def change_password(body: PasswordChange, principal: CurrentUser, session: Session, state: State) -> Accepted:
    """Change the password; every other session of the account is signed out."""
    user = await _me(session, principal)
    if not verify_password(body.current_password, user.password_hash):
        raise Problem(INVALID_CREDENTIALS, "the current password is wrong", field="current_password")
    await set_password(session, user, body.new_password, "new_password")
    await revoke_all_sessions(session, user.id, reason="password_changed", redis=state.redis, settings=state.settings)
    await record_audit(session, tenant_id=user.tenant_id, action="auth.password_changed", actor_user_id=user.id)
    return Accepted(detail="password changed; sign in again on your other devices")
