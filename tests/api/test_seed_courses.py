"""The demo seed has a free drip mini-course with the demo client enrolled, as the README says."""

from __future__ import annotations

from sqlalchemy import func, select
from support import poll_until

from core.db import TenantScope, scoped_session
from models.courses import Course, Enrollment, Lesson
from workers.seed import DEMO_PASSWORD, seed_demo
from workers.seed_courses import DEMO_COURSE_SLUG


async def test_demo_course_is_seeded_once_and_its_enrolment_runs(client, sessionmaker, keys, api_settings,
                                                                 temporal_client):
    await seed_demo(sessionmaker, keys, api_settings, None)
    await seed_demo(sessionmaker, keys, api_settings, temporal_client)  # the relay starts the enrolment
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        assert await session.scalar(select(func.count()).select_from(Course)) == 1
        assert await session.scalar(select(func.count()).select_from(Lesson)) == 4
        assert await session.scalar(select(func.count()).select_from(Enrollment)) == 1

    page = await client.get("/api/v1/public/demo/courses")
    assert page.status_code == 200, page.text
    [course] = page.json()["courses"]
    assert course["slug"] == DEMO_COURSE_SLUG and course["free"] and course["cohorts"]
    assert '"correct"' not in page.text
    preview = course["modules"][0]["lessons"][0]
    assert preview["preview"] is True
    shown = await client.get(f"/api/v1/public/demo/courses/{DEMO_COURSE_SLUG}/lessons/{preview['id']}")
    assert shown.status_code == 200 and "<strong>rhythms</strong>" in shown.json()["body_html"]

    login = await client.post("/api/v1/auth/login", headers={"X-Tenant": "demo"},
                              json={"email": "client@demo.example.com", "password": DEMO_PASSWORD})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}", "X-Tenant": "demo"}
    [mine] = (await client.get("/api/v1/course-enrollments", headers=headers)).json()["items"]

    async def welcome_state() -> str:
        view = (await client.get(f"/api/v1/course-enrollments/{mine['id']}", headers=headers)).json()
        return view["modules"][0]["lessons"][0]["state"]
    assert await poll_until(welcome_state, lambda s: s == "open", 20) == "open"
