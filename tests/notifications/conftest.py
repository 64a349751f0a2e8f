"""Fixtures of the notification tests."""

from __future__ import annotations

import pytest
from notify_support import People, make_people

from core.security import Keys


@pytest.fixture
async def people(sessionmaker, clean) -> People:
    return await make_people(sessionmaker)


@pytest.fixture
def keys(settings) -> Keys:
    return Keys.from_settings(settings)
