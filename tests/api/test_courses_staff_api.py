"""Staff build a course through the API: content, order, media, publishing, cohorts; bad input changes nothing."""

from __future__ import annotations

from course_support import MP4, QUIZ, build_course
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, register_client

from core.db import TenantScope, scoped_session
from models.courses import Course, CourseModule, Lesson
from models.platform import AuditEvent


async def _counts(sessionmaker) -> tuple[int, int, int]:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return tuple([await session.scalar(select(func.count()).select_from(t)) or 0  # type: ignore[return-value]
                      for t in (Course, CourseModule, Lesson)])


async def test_staff_build_order_and_publish_a_course(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    course = await build_course(client, owner, publish=False)
    cid = course["id"]

    detail = (await client.get(f"/api/v1/courses/{cid}", headers=h)).json()
    assert detail["status"] == "draft"
    assert [m["title"] for m in detail["modules"]] == ["Basics", "Deeper"]
    intro = detail["modules"][0]["lessons"][0]
    assert "<script>" not in intro["body_html"] and "&lt;script&gt;" in intro["body_html"]
    assert detail["modules"][0]["lessons"][1]["quiz"]["questions"][0]["correct"] == ["b"]  # staff see the key

    # a video lesson: not publishable before its media; the media is checked by content
    video = (await client.post(f"/api/v1/course-modules/{course['modules'][1]}/lessons", headers=h, json={
        "title": "Watch: the grid", "kind": "video", "duration_seconds": 600})).json()
    assert_problem(await client.patch(f"/api/v1/lessons/{video['id']}", headers=h, json={"published": True}),
                   422, "validation", "published")
    wrong = await client.post(f"/api/v1/lessons/{video['id']}/media", headers=h,
                              files={"file": ("grid.mp4", b"%PDF-1.7\n%%EOF\n", "video/mp4")})
    assert_problem(wrong, 415, "unsupported-file-type", "file")
    uploaded = await client.post(f"/api/v1/lessons/{video['id']}/media", headers=h,
                                 files={"file": ("grid.mp4", MP4, "video/mp4")})
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["file_id"]
    published = await client.patch(f"/api/v1/lessons/{video['id']}", headers=h, json={"published": True})
    assert published.status_code == 200, published.text

    # order: the video first in module 1, the text lesson moved to the end of module 2
    order = {"modules": [
        {"module_id": course["modules"][1], "lesson_ids": [video["id"], course["deeper"], course["intro"]]},
        {"module_id": course["modules"][0], "lesson_ids": [course["quiz"]]}]}
    reordered = await client.put(f"/api/v1/courses/{cid}/outline", headers=h, json=order)
    assert reordered.status_code == 200, reordered.text
    modules = reordered.json()["modules"]
    assert [m["title"] for m in modules] == ["Deeper", "Basics"]
    assert [x["title"] for x in modules[0]["lessons"]] == ["Watch: the grid", "Master numbers", "What numbers say"]

    # publishing: the final assessment must be a quiz of this course
    assert_problem(await client.patch(f"/api/v1/courses/{cid}", headers=h, json={
        "final_assessment_id": course["intro"]}), 422, "validation", "final_assessment_id")
    done = await client.patch(f"/api/v1/courses/{cid}", headers=h, json={
        "status": "published", "final_assessment_id": course["quiz"]})
    assert done.status_code == 200 and done.json()["status"] == "published"
    listed = (await client.get("/api/v1/courses", headers=h, params={"status": "published"})).json()
    assert [c["id"] for c in listed["items"]] == [cid]

    cohort = await client.post(f"/api/v1/courses/{cid}/cohorts", headers=h, json={
        "name": "January batch", "starts_on": "2027-01-04"})
    assert cohort.status_code == 201, cohort.text
    moved = await client.patch(f"/api/v1/course-cohorts/{cohort.json()['id']}", headers=h, json={
        "starts_on": "2027-01-11", "reason": "teacher travelling"})
    assert moved.status_code == 200 and moved.json()["starts_on"] == "2027-01-11"
    figures = (await client.get(f"/api/v1/courses/{cid}/completion", headers=h)).json()
    assert figures["enrolments"] == 0 and len(figures["lessons"]) == 4

    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = set((await session.execute(select(AuditEvent.action).where(
            AuditEvent.target_type.in_(["course", "lesson", "course_cohort", "course_module"])))).scalars())
    assert {"course.created", "course.reordered", "course.media_uploaded", "course.cohort_moved"} <= actions

    # an empty module goes; one with lessons does not; a course goes while nobody enrolled
    assert_problem(await client.delete(f"/api/v1/course-modules/{course['modules'][0]}", headers=h),
                   409, "conflict", "module_id")
    assert (await client.delete(f"/api/v1/lessons/{course['quiz']}", headers=h)).status_code == 204
    assert (await client.get(f"/api/v1/courses/{cid}", headers=h)).json()["final_assessment_id"] is None
    assert (await client.delete(f"/api/v1/course-modules/{course['modules'][0]}", headers=h)).status_code == 204


async def test_bad_course_input_is_a_422_that_changes_nothing(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    course = await build_course(client, owner, publish=False)
    before = await _counts(sessionmaker)
    bad_courses = [
        {"slug": "numerology", "title": None},
        {"slug": "Not a slug!", "title": "X"},
        {"slug": "ok", "title": "X", "price_minor": -1},
        {"slug": "ok", "title": "X", "access_days": 0},
        {"slug": "ok", "title": "X" * 201},
    ]
    for body in bad_courses:
        assert_problem(await client.post("/api/v1/courses", headers=h, json=body), 422, "validation")
    assert_problem(await client.post("/api/v1/courses", headers=h, json={"slug": "numerology", "title": "Again"}),
                   409, "already-exists", "slug")
    module = course["modules"][0]
    bad_lessons = [
        ({"title": "Q", "kind": "quiz"}, None),                              # a quiz without questions
        ({"title": "T", "kind": "text", "quiz": QUIZ}, None),                # a quiz on a text lesson
        ({"title": "Q", "kind": "quiz", "quiz": {**QUIZ, "questions": [
            {**QUIZ["questions"][0], "correct": ["z"]}]}}, "quiz.questions.0"),  # the key names no option
        ({"title": "T", "kind": "text", "drip": {"days_after_enrolment": 3, "on_date": "2027-01-01"}}, "drip"),
        ({"title": "T", "kind": "podcast"}, "kind"),
    ]
    for body, field in bad_lessons:
        problem = assert_problem(await client.post(f"/api/v1/course-modules/{module}/lessons", headers=h, json=body),
                                 422, "validation")
        if field:
            assert problem["field"].startswith(field), problem
    assert_problem(await client.patch(f"/api/v1/courses/{course['id']}", headers=h, json={"title": None}),
                   422, "validation", "title")
    assert_problem(await client.patch(f"/api/v1/courses/{course['id']}", headers=h, json={"status": "published",
                                                                                         "slug": None}),
                   422, "validation", "slug")
    assert_problem(await client.put(f"/api/v1/courses/{course['id']}/outline", headers=h, json={
        "modules": [{"module_id": module, "lesson_ids": []}]}), 422, "validation", "modules")
    assert_problem(await client.patch(f"/api/v1/lessons/{course['intro']}", headers=h, json={"quiz": QUIZ}),
                   422, "validation", "quiz")
    assert_problem(await client.post(f"/api/v1/lessons/{course['intro']}/media", headers=h,
                                     files={"file": ("a.mp4", MP4, "video/mp4")}), 422, "validation", "file")
    assert await _counts(sessionmaker) == before
    detail = (await client.get(f"/api/v1/courses/{course['id']}", headers=h)).json()
    assert detail["status"] == "draft" and detail["title"] == "Numerology in 12 weeks"


async def test_clients_cannot_edit_courses(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    course = await build_course(client, owner, publish=False)
    customer = await register_client(client, owner.tenant_slug or "")
    assert_problem(await client.post("/api/v1/courses", headers=customer.headers(), json={
        "slug": "mine", "title": "Mine"}), 403, "forbidden")
    assert_problem(await client.get(f"/api/v1/courses/{course['id']}", headers=customer.headers()), 403, "forbidden")
    assert_problem(await client.get(f"/api/v1/lessons/{course['quiz']}", headers=customer.headers()), 403,
                   "forbidden")
