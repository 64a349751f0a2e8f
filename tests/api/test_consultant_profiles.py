"""Consultant profiles on the public page: photo through storage, languages, specialities,
experience, social links, and the rating from clients' feedback."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from booking_support import bookable, public_slots
from sqlalchemy import update
from support import active_consultancy, assert_problem, register_client

from core.db import TenantScope, scoped_session
from models.bookings import Booking

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def _upload(client, owner, name: str, data: bytes, kind: str) -> str:
    made = await client.post("/api/v1/files", headers=owner.headers(), files={"file": (name, data, kind)})
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


async def test_a_public_profile_shows_photo_details_and_rating(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    consultant, offering = await bookable(client, owner)
    photo = await _upload(client, owner, "me.png", PNG, "image/png")
    changed = await client.patch(f"/api/v1/consultants/{consultant['id']}", headers=owner.headers(), json={
        "photo_file_id": photo, "languages": ["Hindi", "English"], "specialities": ["Vedic astrology", "Vastu"],
        "experience_years": 12, "social_links": [{"label": "Instagram", "url": "https://instagram.com/acharya"}]})
    assert changed.status_code == 200, changed.text
    assert changed.json()["experience_years"] == 12 and changed.json()["photo_file_id"] == photo

    customer = await register_client(client, owner.tenant_slug or "")
    day = str((datetime.now(UTC) + timedelta(days=3)).date())
    slots = await public_slots(client, owner.tenant_slug or "", offering["id"], start=day)
    booked = []
    for slot in (slots[0], slots[4]):
        made = await client.post("/api/v1/bookings", headers=customer.headers(),
                                 json={"offering_id": offering["id"], "starts_at": slot["starts_at"]})
        assert made.status_code == 201, made.text
        booked.append(uuid.UUID(made.json()["id"]))
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        for booking_id, stars in zip(booked, (5, 4), strict=True):
            await session.execute(update(Booking).where(Booking.id == booking_id).values(feedback_rating=stars))

    page = (await client.get(f"/api/v1/public/{owner.tenant_slug}/consultants/{consultant['slug']}")).json()
    assert (page["languages"], page["specialities"], page["experience_years"]) == (
        ["Hindi", "English"], ["Vedic astrology", "Vastu"], 12)
    assert page["social_links"] == [{"label": "Instagram", "url": "https://instagram.com/acharya"}]
    assert page["rating"] == {"average": 4.5, "count": 2}
    image = await client.get(page["photo_url"])
    assert image.status_code == 200 and image.content == PNG and image.headers["content-type"] == "image/png"
    listed = (await client.get(f"/api/v1/public/{owner.tenant_slug}")).json()["consultants"]
    assert listed[0]["rating"]["count"] == 2


async def test_the_photo_is_an_image_of_the_consultancys_own_files(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    other = await active_consultancy(client, sessionmaker)
    consultant, _ = await bookable(client, owner)
    path = f"/api/v1/consultants/{consultant['id']}"
    pdf = await _upload(client, owner, "cv.pdf", PDF, "application/pdf")
    theirs = await _upload(client, other, "them.png", PNG, "image/png")
    assert_problem(await client.patch(path, headers=owner.headers(), json={"photo_file_id": pdf}),
                   422, "validation", "photo_file_id")
    assert_problem(await client.patch(path, headers=owner.headers(), json={"photo_file_id": theirs}),
                   404, "not-found", "photo_file_id")
    assert_problem(await client.patch(path, headers=owner.headers(), json={"social_links": [
        {"label": "x", "url": "javascript:alert(1)"}]}), 422, "validation")
    assert_problem(await client.get(f"/api/v1/public/{owner.tenant_slug}/consultants/{consultant['slug']}/photo"),
                   404, "not-found", "consultant_slug")
    page = (await client.get(f"/api/v1/public/{owner.tenant_slug}/consultants/{consultant['slug']}")).json()
    assert page["photo_url"] is None and page["rating"] == {"average": None, "count": 0}
