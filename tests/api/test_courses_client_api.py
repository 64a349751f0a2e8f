"""A client takes a course through the API, on the real worker: enrol, lessons as they open,
progress, notes, quizzes (answers never sent before submission), completion and certificate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from course_support import MP4, build_course
from sqlalchemy import func, select
from support import active_consultancy, assert_problem, poll_until, register_client

from core.db import TenantScope, scoped_session
from models.courses import Enrollment, LessonNote, QuizAttempt
from models.notifications import InAppNotification
from models.platform import AuditEvent

RIGHT = {"q1": ["b"], "q2": ["false"]}
WRONG = {"q1": ["a"], "q2": ["true"]}


async def _view(client, account, enrollment_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/course-enrollments/{enrollment_id}", headers=account.headers())
    assert response.status_code == 200, response.text
    return response.json()


def _lesson(view: dict[str, Any], lesson_id: str) -> dict[str, Any]:
    return next(x for m in view["modules"] for x in m["lessons"] if x["lesson_id"] == lesson_id)


async def _until(client, account, enrollment_id: str, done, timeout: float = 20.0) -> dict[str, Any]:
    """Poll the enrolment until `done` (an enrolment bought by an order exists once the order is fulfilled)."""
    async def probe() -> dict[str, Any]:
        response = await client.get(f"/api/v1/course-enrollments/{enrollment_id}", headers=account.headers())
        return response.json() if response.status_code == 200 else {}

    view = await poll_until(probe, lambda v: bool(v) and done(v), timeout)
    assert view and done(view), json.dumps(view, indent=1)[:2000]
    return view


async def _count(sessionmaker, table) -> int:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        return await session.scalar(select(func.count()).select_from(table)) or 0


async def test_a_client_takes_a_free_course_to_its_certificate(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    course = await build_course(client, owner)
    me = await register_client(client, owner.tenant_slug or "")
    h = me.headers()

    catalogue = await client.get("/api/v1/course-catalogue", headers=h)
    assert catalogue.status_code == 200 and catalogue.json()[0]["enrollment_id"] is None
    assert '"correct"' not in catalogue.text
    enrolled = await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=h, json={})
    assert enrolled.status_code == 201, enrolled.text
    eid = enrolled.json()["enrollment_id"]
    assert_problem(await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=h, json={}),
                   409, "already-exists")
    view = await _until(client, me, eid, lambda v: _lesson(v, course["quiz"])["state"] == "open")
    deeper = _lesson(view, course["deeper"])
    assert deeper["state"] == "locked" and "Check yourself" in deeper["waiting_for"]

    base = f"/api/v1/course-enrollments/{eid}/lessons"
    intro = (await client.get(f"{base}/{course['intro']}", headers=h)).json()
    assert "<h1>Hello</h1>" in intro["body_html"] and "<script>" not in intro["body_html"]
    locked = assert_problem(await client.get(f"{base}/{course['deeper']}", headers=h), 403, "lesson-locked",
                            "lesson_id")
    assert "Check yourself" in locked["detail"] and locked["waiting_for"]

    # the quiz: questions only; bad answers are a 422 that stores no attempt
    quiz = await client.get(f"{base}/{course['quiz']}", headers=h)
    assert quiz.status_code == 200
    for secret in ('"correct"', "explanation", "11, 22 and 33"):
        assert secret not in quiz.text
    assert quiz.json()["attempts_left"] == 2
    for bad, field in (({"q9": ["a"]}, "answers.q9"), ({"q1": ["zz"]}, "answers.q1"),
                       ({"q1": ["a", "b"]}, "answers.q1")):
        assert_problem(await client.post(f"{base}/{course['quiz']}/attempts", headers=h, json={"answers": bad}),
                       422, "validation", field)
    assert_problem(await client.post(f"{base}/{course['quiz']}/attempts", headers=h, json={"answers": None}),
                   422, "validation", "answers")
    assert await _count(sessionmaker, QuizAttempt) == 0

    first = await client.post(f"{base}/{course['quiz']}/attempts", headers=h, json={"answers": WRONG})
    assert first.status_code == 201, first.text
    assert first.json()["graded"]["passed"] is False and first.json()["attempts_left"] == 1
    assert "right_options\": [" not in first.text and "11, 22 and 33" not in first.text
    second = await client.post(f"{base}/{course['quiz']}/attempts", headers=h, json={"answers": RIGHT})
    assert second.status_code == 201 and second.json()["graded"]["passed"] is True
    assert second.json()["graded"]["questions"][1]["explanation"] == "11, 22 and 33 stay as they are."
    assert_problem(await client.post(f"{base}/{course['quiz']}/attempts", headers=h, json={"answers": RIGHT}),
                   409, "no-attempts-left")

    # passing the quiz opened the gated lesson at once; notes; completion
    assert_problem(await client.post(f"{base}/{course['intro']}/notes", headers=h, json={
        "body": "at 10 s", "position_seconds": 10}), 422, "validation", "position_seconds")
    note = await client.post(f"{base}/{course['intro']}/notes", headers=h, json={"body": "7 is the seeker"})
    assert note.status_code == 201, note.text
    assert [n["body"] for n in (await client.get(f"{base}/{course['intro']}/notes", headers=h)).json()] == [
        "7 is the seeker"]
    assert (await client.delete(f"/api/v1/course-enrollments/{eid}/notes/{note.json()['id']}",
                                headers=h)).status_code == 204
    assert (await client.post(f"{base}/{course['intro']}/complete", headers=h)).status_code == 200
    done = await client.post(f"{base}/{course['deeper']}/complete", headers=h)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["percent"] == 100
    mine = (await client.get("/api/v1/course-enrollments", headers=h)).json()["items"]
    assert [(m["id"], m["percent"]) for m in mine] == [(eid, 100)]

    # the certificate: its PDF follows in the background; anyone may verify its code
    async def certificate() -> dict[str, Any]:
        return (await client.get(f"/api/v1/course-enrollments/{eid}/certificate", headers=h)).json()
    cert = await poll_until(certificate, lambda c: c.get("download_url"), 30)
    assert cert["download_url"], cert
    pdf = await client.get(cert["download_url"].split("testserver", 1)[-1].replace("http://", ""))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    check = await client.get(f"/api/v1/public/{owner.tenant_slug}/certificates/{cert['code'].lower()}")
    assert check.status_code == 200 and check.json()["status"] == "valid" and check.json()["valid"] is True
    assert cert["verify_url"].endswith(f"/api/v1/public/{owner.tenant_slug}/certificates/{cert['code']}")

    # revoked by staff (audited): verification says so; unknown and another tenant's codes are unknown
    assert_problem(await client.post(f"/api/v1/course-enrollments/{eid}/certificate/revoke", headers=h,
                                     json={"reason": "mine"}), 403, "forbidden")
    assert_problem(await client.post(f"/api/v1/course-enrollments/{eid}/certificate/revoke",
                                     headers=owner.headers(), json={"reason": ""}), 422, "validation", "reason")
    revoked = await client.post(f"/api/v1/course-enrollments/{eid}/certificate/revoke", headers=owner.headers(),
                                json={"reason": "copied the final assessment"})
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    check = (await client.get(f"/api/v1/public/{owner.tenant_slug}/certificates/{cert['code']}")).json()
    assert check["status"] == "revoked" and check["valid"] is False
    assert_problem(await client.get(f"/api/v1/public/{owner.tenant_slug}/certificates/ZZZZ-ZZZZ-ZZZZ"),
                   404, "certificate-unknown", "code")
    other = await active_consultancy(client, sessionmaker)
    unknown = assert_problem(await client.get(f"/api/v1/public/{other.tenant_slug}/certificates/{cert['code']}"),
                             404, "certificate-unknown", "code")
    assert "Client Person" not in json.dumps(unknown)
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = set((await session.execute(select(AuditEvent.action))).scalars())
    assert {"enrollment.created", "certificate.revoked"} <= actions

    figures = (await client.get(f"/api/v1/courses/{course['id']}/completion", headers=owner.headers())).json()
    assert figures["completed"] == 1 and figures["completion_rate_percent"] == 100
    assert figures["certificates_issued"] == 1 and figures["certificates_revoked"] == 1


async def test_video_media_is_served_in_ranges_to_who_may_watch(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    course = await build_course(client, owner)
    video = (await client.post(f"/api/v1/course-modules/{course['modules'][0]}/lessons", headers=owner.headers(),
                               json={"title": "Watch", "kind": "video", "duration_seconds": 300})).json()
    assert (await client.post(f"/api/v1/lessons/{video['id']}/media", headers=owner.headers(),
                              files={"file": ("w.mp4", MP4, "video/mp4")})).status_code == 200
    assert (await client.patch(f"/api/v1/lessons/{video['id']}", headers=owner.headers(),
                               json={"published": True})).status_code == 200
    me = await register_client(client, owner.tenant_slug or "")
    eid = (await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=me.headers(), json={})).json()[
        "enrollment_id"]
    await _until(client, me, eid, lambda v: _lesson(v, video["id"])["state"] == "open")
    base = f"/api/v1/course-enrollments/{eid}/lessons/{video['id']}"
    content = (await client.get(base, headers=me.headers())).json()
    url = content["media"]["url"].split("testserver", 1)[-1]
    size = len(MP4)

    whole = await client.get(url)
    assert whole.status_code == 200 and whole.content == MP4 and whole.headers["accept-ranges"] == "bytes"
    part = await client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == MP4[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{size}"
    assert (await client.get(url, headers={"Range": "bytes=100-"})).content == MP4[100:]
    assert (await client.get(url, headers={"Range": "bytes=-10"})).content == MP4[-10:]
    beyond = await client.get(url, headers={"Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.headers["content-range"] == f"bytes */{size}"
    forged = url.rsplit("token=", 1)[0] + "token=" + "x" * 40
    assert_problem(await client.get(forged), 403, "download-link-invalid", "token")

    # resume position and timestamped notes
    assert_problem(await client.put(f"{base}/position", headers=me.headers(), json={"position_seconds": 301}),
                   422, "validation", "position_seconds")
    assert_problem(await client.put(f"{base}/position", headers=me.headers(), json={"position_seconds": -1}),
                   422, "validation", "position_seconds")
    saved = await client.put(f"{base}/position", headers=me.headers(), json={"position_seconds": 125})
    assert saved.status_code == 200, saved.text
    view = await _view(client, me, eid)
    assert view["resume"] == {"lesson_id": video["id"], "title": "Watch", "position_seconds": 125}
    for at, text in ((90, "the grid"), (30, "the intro")):
        assert (await client.post(f"{base}/notes", headers=me.headers(), json={
            "body": text, "position_seconds": at})).status_code == 201
    assert [n["position_seconds"] for n in (await client.get(f"{base}/notes", headers=me.headers())).json()] == [30, 90]

    # access ends (staff, audited): the link stops working, lessons are refused
    assert_problem(await client.post(f"/api/v1/course-enrollments/{eid}/revoke", headers=owner.headers(),
                                     json={}), 422, "validation", "reason")
    ended = await client.post(f"/api/v1/course-enrollments/{eid}/revoke", headers=owner.headers(),
                              json={"reason": "chargeback"})
    assert ended.status_code == 200 and ended.json()["status"] == "revoked"
    assert_problem(await client.get(url, headers={"Range": "bytes=0-9"}), 403, "download-link-invalid")
    assert_problem(await client.get(base, headers=me.headers()), 403, "not-enrolled")


async def test_locks_early_access_extension_and_a_cohort_move(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    h = owner.headers()
    course = await build_course(client, owner, publish=False)
    later = (await client.post(f"/api/v1/course-modules/{course['modules'][0]}/lessons", headers=h, json={
        "title": "Day 10", "kind": "text", "body_md": "x", "published": True, "drip": {"cohort_day": 10}})).json()
    assert (await client.patch(f"/api/v1/courses/{course['id']}", headers=h, json={
        "status": "published", "access_days": 30})).status_code == 200
    starts = datetime.now(UTC).date() + timedelta(days=5)
    cohort = (await client.post(f"/api/v1/courses/{course['id']}/cohorts", headers=h, json={
        "name": "Batch", "starts_on": starts.isoformat()})).json()
    me = await register_client(client, owner.tenant_slug or "")
    assert_problem(await client.post("/api/v1/course-enrollments", headers=h, json={
        "client_id": me.user_id, "course_id": course["id"], "cohort_id": owner.user_id}), 422, "validation",
        "cohort_id")
    assert await _count(sessionmaker, Enrollment) == 0
    made = await client.post("/api/v1/course-enrollments", headers=h, json={
        "client_id": me.user_id, "course_id": course["id"], "cohort_id": cohort["id"]})
    assert made.status_code == 201, made.text
    eid = made.json()["id"]
    view = await _until(client, me, eid, lambda v: _lesson(v, later["id"])["opens_at"] is not None)
    first_opening = datetime.fromisoformat(_lesson(view, later["id"])["opens_at"])
    assert first_opening.date() in (starts + timedelta(days=10), starts + timedelta(days=9))  # 08:00 IST is 02:30 UTC
    locked = assert_problem(await client.get(f"/api/v1/course-enrollments/{eid}/lessons/{later['id']}",
                                             headers=me.headers()), 403, "lesson-locked", "lesson_id")
    assert locked["opens_at"] and "opens on" in locked["detail"] and "IST" in locked["detail"]

    # the cohort moves a week: the enrolment re-plans
    moved = await client.patch(f"/api/v1/course-cohorts/{cohort['id']}", headers=h, json={
        "starts_on": (starts + timedelta(days=7)).isoformat(), "reason": "festival week"})
    assert moved.status_code == 200 and moved.json()["enrolments"] == 1
    view = await _until(client, me, eid, lambda v: _lesson(v, later["id"])["opens_at"] is not None and datetime.
                        fromisoformat(_lesson(v, later["id"])["opens_at"]) == first_opening + timedelta(days=7))

    # early access for this one client, and a longer access (validated here, audited by the workflow)
    assert_problem(await client.post(f"/api/v1/course-enrollments/{eid}/early-access", headers=h, json={
        "lesson_ids": [owner.user_id]}), 422, "validation", "lesson_ids")
    opened = await client.post(f"/api/v1/course-enrollments/{eid}/early-access", headers=h, json={
        "lesson_ids": [later["id"]], "reason": "travelling"})
    assert opened.status_code == 200, opened.text
    assert _lesson(opened.json(), later["id"])["state"] == "open"
    assert (await client.get(f"/api/v1/course-enrollments/{eid}/lessons/{later['id']}",
                             headers=me.headers())).status_code == 200
    expires = datetime.fromisoformat(view["expires_at"])
    assert_problem(await client.post(f"/api/v1/course-enrollments/{eid}/extend", headers=h, json={
        "expires_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()}), 422, "validation", "expires_at")
    extended = await client.post(f"/api/v1/course-enrollments/{eid}/extend", headers=h, json={
        "expires_at": (expires + timedelta(days=60)).isoformat(), "reason": "illness"})
    assert extended.status_code == 200, extended.text
    assert datetime.fromisoformat(extended.json()["expires_at"]) == expires + timedelta(days=60)
    assert extended.json()["workflow"]["expires_at"] is not None
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        actions = set((await session.execute(select(AuditEvent.action))).scalars())
    assert {"course.cohort_moved", "enrollment.early_access", "enrollment.access_extended"} <= actions


async def test_paid_course_by_order_or_coupon_and_the_discussion(client, sessionmaker):
    owner = await active_consultancy(client, sessionmaker)
    course = await build_course(client, owner, price=50_000)
    coupon = await client.post("/api/v1/coupons", headers=owner.headers(), json={
        "code": "GIFT100", "kind": "percent", "percent_bp": 10_000})
    assert coupon.status_code == 201, coupon.text
    buyer = await register_client(client, owner.tenant_slug or "")
    gifted = await register_client(client, owner.tenant_slug or "")
    assert_problem(await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=buyer.headers(), json={
        "coupon_code": "NOPE1"}), 422, "coupon-not-applicable", "coupon_code")
    assert await _count(sessionmaker, Enrollment) == 0
    bought = await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=buyer.headers(), json={})
    assert bought.status_code == 201 and bought.json()["status"] == "awaiting_payment"
    assert bought.json()["amount_due"] == 50_000 and bought.json()["order_id"]
    free = await client.post(f"/api/v1/courses/{course['id']}/enrol", headers=gifted.headers(),
                             json={"coupon_code": "gift100"})
    assert free.status_code == 201 and free.json()["status"] == "enrolled", free.text
    eid = free.json()["enrollment_id"]
    view = await _until(client, gifted, eid, lambda v: _lesson(v, course["intro"])["state"] == "open", 30)
    assert view["source"] == "order"

    # staff sell it on an order of their own: the line must name this consultancy's course or cohort
    line = {"kind": "enrollment", "description": "Numerology", "unit_amount": 50_000}
    assert_problem(await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "lines": [{**line, "ref_id": owner.user_id}]}), 404, "not-found", "lines.0.ref_id")
    sold = await client.post("/api/v1/orders", headers=owner.headers(), json={
        "client_id": buyer.user_id, "lines": [{**line, "ref_id": course["id"]}]})
    assert sold.status_code == 201, sold.text

    # the discussion: a question notifies the consultant, a reply the client
    thread = f"/api/v1/courses/{course['id']}/lessons/{course['intro']}/discussion"
    assert_problem(await client.post(thread, headers=buyer.headers(), json={"body": "hi"}), 403, "not-enrolled")
    assert_problem(await client.post(thread, headers=gifted.headers(), json={"body": " "}), 422, "validation",
                   "body")
    asked = await client.post(thread, headers=gifted.headers(), json={"body": "Is 11 reduced to 2?"})
    assert asked.status_code == 201, asked.text
    answer = await client.post(thread, headers=owner.headers(), json={"body": "No: 11 is a master number.",
                                                                      "parent_id": asked.json()["id"]})
    assert answer.status_code == 201, answer.text
    posts = (await client.get(thread, headers=gifted.headers())).json()
    assert [(p["body"], p["mine"]) for p in posts] == [("Is 11 reduced to 2?", True),
                                                        ("No: 11 is a master number.", False)]

    async def told() -> set[str]:
        async with scoped_session(sessionmaker, TenantScope.system()) as session:
            return set((await session.execute(select(InAppNotification.event).where(
                InAppNotification.event.in_(["course.question", "course.reply"])))).scalars())
    assert await poll_until(told, lambda seen: seen == {"course.question", "course.reply"}, 20) == {
        "course.question", "course.reply"}
    assert await _count(sessionmaker, LessonNote) == 0
