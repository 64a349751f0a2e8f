"""`muhurta rotate-keys`: re-encrypt every stored secret with the newest encryption key."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import TenantScope, scoped_session
from core.security import Keys
from models.encrypted import ENCRYPTED_COLUMNS


async def rotate_encrypted_columns(sessionmaker: async_sessionmaker[AsyncSession], keys: Keys) -> int:
    """Re-encrypt in batches of one table at a time; returns the number of values rewritten."""
    rewritten = 0
    for column in ENCRYPTED_COLUMNS:
        model = column.class_
        primary_key = model.__mapper__.primary_key[0]
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            rows = (await session.execute(select(primary_key, column).where(column.is_not(None)))).all()
            for row_id, value in rows:
                rotated = {column.key: keys.rotate(value)}
                await session.execute(update(model).where(primary_key == row_id).values(rotated))
                rewritten += 1
    return rewritten
