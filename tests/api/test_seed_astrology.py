"""The demo seed includes a birth profile with its summary, demo texts and a sade sati rule that
suggests the demo consultant's Kundli reading."""

from __future__ import annotations

from sqlalchemy import func, select, update

from core.db import TenantScope, scoped_session
from models.astrology import BirthProfile, InterpretiveText, SuggestionRule
from models.bookings import Offering
from workers.seed import DEMO_PASSWORD, LEGACY_SADE_SATI_KEY, seed_demo


async def _demo_client(client) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", headers={"X-Tenant": "demo"},
                                 json={"email": "client@demo.example.com", "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}", "X-Tenant": "demo"}


async def _rule_and_reading(sessionmaker) -> tuple[SuggestionRule, Offering]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        rule = (await session.execute(select(SuggestionRule))).scalar_one()
        reading = (await session.execute(select(Offering).where(Offering.title == "Kundli reading"))).scalar_one()
        return rule, reading


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
    rule, reading = await _rule_and_reading(sessionmaker)
    assert rule.offering_key == str(reading.id)


async def test_demo_clients_suggestion_is_the_kundli_reading(client, sessionmaker, keys, api_settings):
    await seed_demo(sessionmaker, keys, api_settings, None)
    headers = await _demo_client(client)
    [profile] = (await client.get("/api/v1/birth-profiles", headers=headers)).json()["items"]
    # Priya's Moon is in Meena; Saturn transits Meena until June 2027: sade sati.
    r = await client.get(f"/api/v1/birth-profiles/{profile['id']}/suggestions",
                         params={"at": "2026-06-01T00:00:00Z"}, headers=headers)
    assert r.status_code == 200, r.text
    [suggestion] = r.json()["suggestions"]
    _, reading = await _rule_and_reading(sessionmaker)
    assert suggestion["offering_key"] == str(reading.id)
    assert suggestion["offering"] == {
        "id": str(reading.id), "title": "Kundli reading", "kind": "one_to_one", "price_minor": 150_000,
        "currency": "INR", "consultant_slug": "acharya",
        "slots_url": f"/api/v1/public/demo/consultants/acharya/offerings/{reading.id}/slots"}
    assert suggestion["reason"].startswith("Saturn is in the 1st from your Moon (Meena) from 2026-06-01")
    assert (await client.get(suggestion["offering"]["slots_url"])).status_code == 200

    # A demo seeded before the rule named a real offering is pointed at the Kundli reading.
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(SuggestionRule).values(offering_key=LEGACY_SADE_SATI_KEY))
    await seed_demo(sessionmaker, keys, api_settings, None)
    rule, reading = await _rule_and_reading(sessionmaker)
    assert rule.offering_key == str(reading.id)
