"""The demo data makes a bookable public page, and seeding twice changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from core.db import TenantScope, scoped_session
from models.bookings import Offering
from workers.seed import seed_demo


async def test_demo_consultant_is_bookable(client, sessionmaker, keys, api_settings):
    await seed_demo(sessionmaker, keys, api_settings, None)
    await seed_demo(sessionmaker, keys, api_settings, None)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Offering)) == 3
    page = (await client.get("/api/v1/public/demo")).json()
    [acharya] = page["consultants"]
    titles = {o["title"]: o for o in acharya["offerings"]}
    assert set(titles) == {"Kundli reading", "Quick question", "Saturn transit 2027 (webinar)"}
    reading = titles["Kundli reading"]
    assert [f["name"] for f in reading["intake_form"]] == ["birth_date", "birth_time", "birth_place"]
    slots = (await client.get(f"/api/v1/public/demo/consultants/acharya/offerings/{reading['id']}/slots",
                              params={"days": 14, "timezone": "Europe/London"})).json()["slots"]
    assert slots and all(s["local_start"].endswith(("Z", "+00:00", "+01:00")) for s in slots)
    webinar = titles["Saturn transit 2027 (webinar)"]
    sessions = (await client.get(f"/api/v1/public/demo/consultants/acharya/offerings/{webinar['id']}/slots",
                                 params={"days": 30})).json()["slots"]
    assert [s["seats_left"] for s in sessions] == [50]
