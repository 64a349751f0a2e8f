"""Membership plans through the API: staff define them (credits of an offering, courses, or both),
clients see the active ones, bad input is a problem naming the field and changes nothing, and
another consultancy's offering or course cannot be named. Real PostgreSQL and Redis."""

from __future__ import annotations

from booking_support import bookable
from course_support import build_course
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, register_client

from core.db import TenantScope, scoped_session
from models.memberships import MembershipPlan


async def _plans(sessionmaker) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return int(await session.scalar(select(func.count()).select_from(MembershipPlan)) or 0)


async def test_staff_define_plans_and_clients_see_the_active_ones(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    course = await build_course(client, owner, price=300_000)
    customer = await register_client(client, owner.tenant_slug)

    made = await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Monthly guidance", "price_minor": 149_900, "offering_id": offering["id"],
        "credits_per_period": 2, "course_ids": [course["id"]]})
    assert made.status_code == 201, made.text
    plan = made.json()
    assert (plan["period"], plan["credits_per_period"], plan["course_ids"], plan["currency"], plan["active"]) == (
        "monthly", 2, [course["id"]], "INR", True)
    courses_only = await client.post("/api/v1/membership-plans", headers=owner.headers(), json={
        "title": "Library", "price_minor": 49_900, "course_ids": [course["id"]]})
    assert courses_only.status_code == 201, courses_only.text

    listed = await client.get("/api/v1/membership-plans", headers=customer.headers())
    assert [p["title"] for p in listed.json()["items"]] == ["Library", "Monthly guidance"]
    retired = await client.patch(f"/api/v1/membership-plans/{courses_only.json()['id']}", headers=owner.headers(),
                                 json={"active": False})
    assert retired.status_code == 200 and retired.json()["active"] is False
    listed = await client.get("/api/v1/membership-plans", headers=customer.headers())
    assert [p["title"] for p in listed.json()["items"]] == ["Monthly guidance"]
    assert_problem(await client.get(f"/api/v1/membership-plans/{courses_only.json()['id']}",
                                    headers=customer.headers()), 404, "not-found", "plan_id")
    staff_view = await client.get("/api/v1/membership-plans", headers=owner.headers())
    assert len(staff_view.json()["items"]) == 2

    # A client neither makes plans nor lists memberships; the staff list starts empty.
    assert (await client.post("/api/v1/membership-plans", headers=customer.headers(), json={
        "title": "Mine", "price_minor": 100, "course_ids": [course["id"]]})).status_code == 403
    assert (await client.get("/api/v1/memberships", headers=customer.headers())).status_code == 403
    assert (await client.get("/api/v1/memberships", headers=owner.headers())).json()["items"] == []


async def test_bad_plans_are_problems_naming_the_field_and_change_nothing(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    _, offering = await bookable(client, owner, price_minor=200_000, currency="INR")
    other = await active_consultancy(client, sessionmaker)
    _, others_offering = await bookable(client, other, price_minor=200_000, currency="INR")
    others_course = await build_course(client, other, price=0)
    before = await _plans(sessionmaker)
    cases = [
        ({"title": "x", "price_minor": 100_000, "credits_per_period": 2}, 422, "validation", "credits_per_period"),
        ({"title": "x", "price_minor": 100_000}, 422, "validation", "course_ids"),
        ({"title": "x", "price_minor": 99, "offering_id": offering["id"], "credits_per_period": 1},
         422, "validation", "price_minor"),
        ({"title": "x", "price_minor": "100000", "offering_id": offering["id"], "credits_per_period": 1},
         422, "validation", "price_minor"),
        ({"title": "x", "price_minor": 100_000, "period": "weekly", "offering_id": offering["id"],
          "credits_per_period": 1}, 422, "validation", "period"),
        ({"title": None, "price_minor": 100_000, "offering_id": offering["id"], "credits_per_period": 1},
         422, "validation", "title"),
        ({"title": "x", "price_minor": 100_000, "offering_id": others_offering["id"], "credits_per_period": 1},
         404, "not-found", "offering_id"),
        ({"title": "x", "price_minor": 100_000, "course_ids": [others_course["id"]]},
         404, "not-found", "course_ids.0"),
    ]
    for body, status, slug, field in cases:
        assert_problem(await client.post("/api/v1/membership-plans", headers=owner.headers(), json=body),
                       status, slug, field)
    assert await _plans(sessionmaker) == before
