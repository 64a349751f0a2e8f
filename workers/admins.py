"""`muhurta create-admin`: the first platform admin of any install (production included).

No demo seed runs in production, so without this nobody could approve a consultancy there. The
admin is created with two-factor authentication already on (platform actions require it): the
enrolment URI and recovery codes are printed once, and only hashes and the encrypted secret are
kept. Further admins are invited by an admin (POST /api/v1/admin/invitations).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import TenantScope, scoped_session
from core.security import (
    Keys,
    hash_password,
    hash_token,
    new_recovery_codes,
    new_totp_secret,
    password_problems,
    totp_uri,
)
from models.identity import RecoveryCode, Role, User
from models.platform import record_audit


class AdminNotCreated(Exception):
    """The email is taken by a platform admin already, or the password is too weak (the message says)."""


@dataclass(frozen=True)
class CreatedAdmin:
    user_id: uuid.UUID
    email: str
    totp_secret: str
    otpauth_uri: str
    recovery_codes: list[str]


async def create_admin(sessionmaker: async_sessionmaker[AsyncSession], keys: Keys, *, email: str,
                       full_name: str, password: str) -> CreatedAdmin:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320:
        raise AdminNotCreated(f"'{email}' is not an email address")
    problems = password_problems(password, email=email)
    if problems:
        raise AdminNotCreated("choose another password: " + "; ".join(problems))
    secret, codes = new_totp_secret(), new_recovery_codes()
    now = datetime.now(UTC)
    async with scoped_session(sessionmaker, TenantScope.of(None)) as session:
        taken = (await session.execute(select(User.id).where(User.tenant_id.is_(None), User.email == email))).first()
        if taken:
            raise AdminNotCreated(f"{email} is a platform admin already; to regain access use the password "
                                  "reset or a recovery code")
        user = User(id=uuid.uuid4(), tenant_id=None, email=email, full_name=full_name.strip() or "Platform Admin",
                    role=Role.PLATFORM_ADMIN, password_hash=hash_password(password), password_changed_at=now,
                    email_verified_at=now, is_active=True, locale="en",
                    totp_secret_encrypted=keys.encrypt(secret), totp_enabled_at=now)
        session.add(user)
        await session.flush()
        for code in codes:
            session.add(RecoveryCode(tenant_id=None, user_id=user.id, code_hash=hash_token(code)))
        await record_audit(session, tenant_id=None, action="platform.admin_created", actor_user_id=None,
                           target_type="user", target_id=user.id, details={"email": email, "via": "cli"})
    return CreatedAdmin(user.id, email, secret, totp_uri(secret, email), codes)
