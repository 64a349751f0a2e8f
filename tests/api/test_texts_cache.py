"""Each API process keeps a tenant's interpretive texts in memory (api/services/astrology.py),
keyed by `tenants.texts_version`, which PostgreSQL bumps with every change to them: a chart
queries no texts while they are unchanged, and shows a change at once, whoever made it."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from support import Statements, active_consultancy, register_client

from api.services.astrology import forget_texts
from core.db import TenantScope, scoped_session
from domain.astrology import BirthData, compute_chart
from models.astrology import InterpretiveText
from models.identity import User
from models.tenancy import Tenant

DELHI = {"latitude": 28.6139, "longitude": 77.2090, "timezone": "Asia/Kolkata"}
BIRTH = {"date": "1990-05-17", "time": "14:25", **DELHI}
CHART = "/api/v1/astrology/chart"


def _lagna_key() -> str:
    import datetime as dt
    engine = compute_chart(BirthData(date=dt.date(1990, 5, 17), time=dt.time(14, 25), **DELHI))
    return f"lagna:{engine.lagna.sign.english.lower()}"


async def _texts(client, headers, **body):  # type: ignore[no-untyped-def]
    r = await client.post(CHART, headers=headers, json={"birth": BIRTH, **body})
    assert r.status_code == 200, r.text
    return r.json()["texts"]


async def test_a_chart_reads_its_texts_once_then_from_memory_until_they_change(client, sessionmaker, app_state):
    forget_texts()
    owner = await active_consultancy(client, sessionmaker)
    key, h = _lagna_key(), owner.headers()
    assert (await client.put(f"/api/v1/astrology/texts/{key}/en", headers=h, json={"text": "One."})).status_code == 200
    assert await _texts(client, h) == {key: "One."}
    with Statements(app_state.engine) as seen:
        assert await _texts(client, h) == {key: "One."}
    assert not [s for s in seen if "interpretive_texts" in s], seen

    # changed through the API
    assert (await client.put(f"/api/v1/astrology/texts/{key}/en", headers=h, json={"text": "Two."})).status_code == 200
    assert await _texts(client, h) == {key: "Two."}
    # changed behind the API's back (another process, a script): the trigger bumps the version
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(InterpretiveText).where(
            InterpretiveText.tenant_id == uuid.UUID(owner.tenant_id or ""), InterpretiveText.key == key
        ).values(text="Three."))
    assert await _texts(client, h) == {key: "Three."}
    assert (await client.delete(f"/api/v1/astrology/texts/{key}/en", headers=h)).status_code == 204
    assert await _texts(client, h) == {}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        session.add(InterpretiveText(tenant_id=uuid.UUID(owner.tenant_id or ""), key=key, locale="en", text="Four."))
    assert await _texts(client, h) == {key: "Four."}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(delete(InterpretiveText).where(
            InterpretiveText.tenant_id == uuid.UUID(owner.tenant_id or "")))
        version = await session.scalar(select(Tenant.texts_version).where(
            Tenant.id == uuid.UUID(owner.tenant_id or "")))
    assert version == 6  # one per change: two puts, an update, a delete, an insert, a delete
    assert await _texts(client, h) == {}


async def test_the_callers_own_locale_still_chooses_among_cached_texts(client, sessionmaker):
    forget_texts()
    owner = await active_consultancy(client, sessionmaker)
    key, h = _lagna_key(), owner.headers()
    for locale, text in (("en", "Rising sign."), ("hi", "लग्न।")):
        assert (await client.put(f"/api/v1/astrology/texts/{key}/{locale}", headers=h,
                                 json={"text": text})).status_code == 200
    customer = await register_client(client, owner.tenant_slug or "")
    assert await _texts(client, customer.headers()) == {key: "Rising sign."}
    assert await _texts(client, customer.headers(), locale="hi") == {key: "लग्न।"}
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        await session.execute(update(User).where(User.id == uuid.UUID(customer.user_id)).values(locale="hi-IN"))
    assert await _texts(client, customer.headers()) == {key: "लग्न।"}
    assert await _texts(client, customer.headers(), locale="en") == {key: "Rising sign."}
