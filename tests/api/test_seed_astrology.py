"""The demo seed includes a birth profile with its summary, demo texts and a sade sati rule."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import TenantScope, scoped_session
from models.astrology import BirthProfile, InterpretiveText, SuggestionRule
from workers.seed import seed_demo


async def test_seed_is_idempotent_and_has_a_profile(client, sessionmaker, keys, api_settings):
    await seed_demo(sessionmaker, keys, api_settings, None)
    await seed_demo(sessionmaker, keys, api_settings, None)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        profiles = (await session.execute(select(BirthProfile))).scalars().all()
        assert len(profiles) == 1
        assert profiles[0].moon_sign and profiles[0].place_label.startswith("Jaipur")
        assert profiles[0].mahadasha_lord is not None
        assert await session.scalar(select(func.count()).select_from(InterpretiveText)) == 2
        assert await session.scalar(select(func.count()).select_from(SuggestionRule)) == 1
