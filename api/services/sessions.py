"""Sign-in sessions: issuing token pairs, rotating refresh tokens, detecting their reuse."""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from cryptography.fernet import Fernet, InvalidToken
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.schemas.identity import TokenPair
from core.security import Keys, hash_token, new_opaque_token
from core.settings import Settings
from models.identity import AuthSession, RetiredRefreshToken, User
from models.platform import record_audit

log = logging.getLogger(__name__)


def _split(refresh_token: str) -> tuple[UUID, str] | None:
    session_part, _, secret = refresh_token.partition(".")
    try:
        return UUID(session_part), secret
    except ValueError:
        return None


async def open_session(
    session: AsyncSession,
    *,
    user: User,
    keys: Keys,
    settings: Settings,
    mfa: bool,
    ip: str | None,
    user_agent: str | None,
) -> TokenPair:
    """Start a new refresh-token family for `user` and return its first token pair."""
    now = datetime.now(UTC)
    secret = new_opaque_token()
    auth_session = AuthSession(
        id=uuid4(),
        tenant_id=user.tenant_id,
        user_id=user.id,
        current_token_hash=hash_token(secret),
        mfa=mfa,
        expires_at=now + timedelta(days=settings.refresh_token_days),
        last_used_at=now,
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
    )
    session.add(auth_session)
    await session.flush()
    return _pair(auth_session, user, secret, keys, settings, now)


def _pair(
    auth_session: AuthSession, user: User, secret: str, keys: Keys, settings: Settings, now: datetime
) -> TokenPair:
    access, access_expires = keys.issue_access_token(
        user_id=user.id,
        tenant_id=user.tenant_id,
        role=user.role.value,
        session_id=auth_session.id,
        mfa=auth_session.mfa,
        ttl=timedelta(minutes=settings.access_token_minutes),
        now=now,
    )
    return TokenPair(
        access_token=access,
        access_token_expires_at=access_expires,
        refresh_token=f"{auth_session.id}.{secret}",
        refresh_token_expires_at=auth_session.expires_at,
        mfa=auth_session.mfa,
    )


class RefreshOutcome(enum.Enum):
    ROTATED = "rotated"
    INVALID = "invalid"
    REUSED = "reused"


@dataclass
class RefreshResult:
    outcome: RefreshOutcome
    tokens: TokenPair | None = None


async def rotate_refresh_token(
    session: AsyncSession, *, refresh_token: str, keys: Keys, settings: Settings, redis: Redis
) -> RefreshResult:
    """Swap a refresh token for a new pair. A token seen before revokes its whole family,
    unless it comes back within the grace window of its rotation (two tabs refreshing at once):
    then it gets the very pair it was swapped for.

    Runs in a system-scoped session (the token itself is the credential); the caller commits
    whatever the outcome, so that a detected reuse stays revoked.
    """
    parts = _split(refresh_token)
    if parts is None:
        return RefreshResult(RefreshOutcome.INVALID)
    session_id, secret = parts
    token_hash = hash_token(secret)
    auth_session = (await session.execute(
        select(AuthSession).where(AuthSession.id == session_id).with_for_update()
    )).scalar_one_or_none()
    now = datetime.now(UTC)
    if auth_session is None or auth_session.revoked_at is not None or auth_session.expires_at <= now:
        return RefreshResult(RefreshOutcome.INVALID)
    if auth_session.current_token_hash != token_hash:
        retired = await session.get(RetiredRefreshToken, token_hash)
        if retired is not None and retired.session_id == auth_session.id:
            # Two tabs refreshing at once: the one that came second gets the pair the first got.
            again = await _pair_given_for(redis, token_hash, secret)
            user = await session.get(User, auth_session.user_id)
            if again is not None and user is not None and user.is_active:
                return RefreshResult(RefreshOutcome.ROTATED, again)
            await revoke_session(session, auth_session, reason="refresh_token_reuse",
                                 redis=redis, settings=settings)
            await record_audit(session, tenant_id=auth_session.tenant_id, action="auth.refresh_token_reuse",
                               actor_user_id=auth_session.user_id, target_type="session",
                               target_id=auth_session.id)
            return RefreshResult(RefreshOutcome.REUSED)
        return RefreshResult(RefreshOutcome.INVALID)
    user = await session.get(User, auth_session.user_id)
    if user is None or not user.is_active:
        return RefreshResult(RefreshOutcome.INVALID)
    new_secret = new_opaque_token()
    session.add(RetiredRefreshToken(token_hash=token_hash, session_id=auth_session.id,
                                    tenant_id=auth_session.tenant_id))
    auth_session.current_token_hash = hash_token(new_secret)
    auth_session.last_used_at = now
    await session.flush()
    pair = _pair(auth_session, user, new_secret, keys, settings, now)
    # Written before the commit releases the row lock, so a concurrent refresh with the same
    # token, waiting on that lock, finds it.
    await _remember_pair(redis, token_hash, secret, pair, settings.refresh_reuse_grace_seconds)
    return RefreshResult(RefreshOutcome.ROTATED, pair)


def _grace_key(token_hash: str) -> str:
    return f"refresh-grace:{token_hash}"


def _grace_cipher(secret: str) -> Fernet:
    """Keyed by the old token itself: only someone holding it can read the pair it was swapped for."""
    digest = hmac.new(secret.encode(), b"muhurta refresh grace", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


async def _remember_pair(redis: Redis, token_hash: str, secret: str, pair: TokenPair, seconds: int) -> None:
    if seconds <= 0:
        return
    sealed = _grace_cipher(secret).encrypt(pair.model_dump_json().encode())
    try:
        await redis.set(_grace_key(token_hash), sealed, ex=seconds)
    except RedisError:  # no grace window then: a second tab's refresh counts as a replay
        log.warning("refresh grace window not recorded: Redis unavailable")


async def _pair_given_for(redis: Redis, token_hash: str, secret: str) -> TokenPair | None:
    """The pair a token was swapped for, while its grace window lasts (else None: a replay)."""
    try:
        sealed = await redis.get(_grace_key(token_hash))
    except RedisError:
        return None
    if sealed is None:
        return None
    try:
        return TokenPair.model_validate_json(_grace_cipher(secret).decrypt(sealed))
    except (InvalidToken, ValueError):
        return None


async def revoke_session(
    session: AsyncSession, auth_session: AuthSession, *, reason: str, redis: Redis, settings: Settings
) -> None:
    """Revoke a session now: its refresh tokens stop working, and its access tokens too."""
    if auth_session.revoked_at is None:
        auth_session.revoked_at = datetime.now(UTC)
        auth_session.revoked_reason = reason
        await session.flush()
    # Access tokens are stateless; a short-lived marker stops them before they expire.
    await redis.set(Keys.revoked_key(auth_session.id), reason,
                    ex=settings.access_token_minutes * 60 + 60)


async def revoke_all_sessions(
    session: AsyncSession, user_id: UUID, *, reason: str, redis: Redis, settings: Settings
) -> int:
    active = (await session.execute(
        select(AuthSession).where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
    )).scalars().all()
    for auth_session in active:
        await revoke_session(session, auth_session, reason=reason, redis=redis, settings=settings)
    return len(active)


