"""One look at an enrolment: open what is due, record what waits and when, count progress, complete.

`sync_enrollment` is the heart of every enrolment activity: it reads the course's published
outline and the enrolment's lesson rows, runs the pure drip planner (`domain.courses.drip`) at
the workflow's time, writes `unlocked_at` for what is due (never taking one back) and `opens_at`
/ `waiting_for` for the rest, and, when every required lesson is done and the final assessment
passed, marks the enrolment completed and issues its certificate row (the PDF follows in the
background). It runs in the caller's transaction, with the enrolment row locked.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.exceptions import ApplicationError

from domain.courses.drip import (
    DripRule,
    Facts,
    OutlineLesson,
    Timeline,
    next_opening,
    percent,
    plan,
    required_of,
)
from domain.courses.enrollment import (
    LIVE,
    NEXT_UNLOCKS_SHOWN,
    EnrollmentStatus,
    OpenedLesson,
    Synced,
    UpcomingLesson,
)
from models.courses import Certificate, Cohort, Course, CourseModule, Enrollment, EnrollmentLesson, Lesson
from models.identity import User

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32: no I, L, O, U to misread


def certificate_code() -> str:
    """A random, hard-to-guess, easy-to-read code: `XXXX-XXXX-XXXX` (60 bits)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def fail(message: str, kind: str = "EnrollmentRefused", field: str | None = None) -> ApplicationError:
    return ApplicationError(message, {"field": field} if field else {}, type=kind, non_retryable=True)


async def load_enrollment(session: AsyncSession, enrollment_id: uuid.UUID, *, lock: bool = True) -> Enrollment:
    stmt = select(Enrollment).where(Enrollment.id == enrollment_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        raise fail(f"enrollment {enrollment_id} no longer exists", "EnrollmentGone")
    return found


async def outline_of(session: AsyncSession, course_id: uuid.UUID) -> list[OutlineLesson]:
    """The published lessons in course order (module position, then lesson position)."""
    rows = (await session.execute(
        select(Lesson, CourseModule).join(CourseModule, CourseModule.id == Lesson.module_id)
        .where(Lesson.course_id == course_id, Lesson.published.is_(True))
        .order_by(CourseModule.position, CourseModule.created_at, Lesson.position, Lesson.created_at))).all()
    return [OutlineLesson(
        lesson_id=lesson.id, module_id=module.id, title=lesson.title, kind=lesson.kind, required=lesson.required,
        module_rule=DripRule.model_validate(module.drip) if module.drip else None,
        rule=DripRule.model_validate(lesson.drip) if lesson.drip else None) for lesson, module in rows]


async def lesson_rows(session: AsyncSession, enrollment_id: uuid.UUID) -> dict[uuid.UUID, EnrollmentLesson]:
    rows = (await session.execute(select(EnrollmentLesson).where(
        EnrollmentLesson.enrollment_id == enrollment_id))).scalars()
    return {row.lesson_id: row for row in rows}


async def sync_enrollment(session: AsyncSession, enrollment: Enrollment, at: datetime) -> Synced:
    course = await session.get(Course, enrollment.course_id)
    if course is None:
        raise fail("the course no longer exists", "EnrollmentGone")
    lessons = await outline_of(session, course.id)
    rows = await lesson_rows(session, enrollment.id)
    facts = Facts(
        unlocked=frozenset(k for k, r in rows.items() if r.unlocked_at is not None),
        completed=frozenset(k for k, r in rows.items() if r.completed_at is not None),
        passed_quizzes=frozenset(k for k, r in rows.items() if r.completed_at is not None),
        early=frozenset(k for k, r in rows.items() if r.early_access))
    cohort = await session.get(Cohort, enrollment.cohort_id) if enrollment.cohort_id else None
    timeline = Timeline(enrolled_at=enrollment.enrolled_at, timezone=enrollment.timezone,
                        release_time=course.release_time, cohort_starts_on=cohort.starts_on if cohort else None)
    live = enrollment.status in LIVE and (enrollment.expires_at is None or at < enrollment.expires_at)
    plans = plan(lessons, timeline, facts, at)
    opened: list[OpenedLesson] = []
    for item in plans:
        row = rows.get(item.lesson_id)
        newly_open = live and item.open and (row is None or row.unlocked_at is None)
        values = {"opens_at": item.opens_at, "waiting_for": item.waiting_for}
        if newly_open:
            values = {"unlocked_at": item.opened_at or at, "opens_at": None, "waiting_for": None}
            opened.append(OpenedLesson(lesson_id=item.lesson_id, title=item.title))
        elif row is not None and row.unlocked_at is not None:
            continue
        await session.execute(insert(EnrollmentLesson).values(
            tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, lesson_id=item.lesson_id, **values,
        ).on_conflict_do_update(index_elements=["enrollment_id", "lesson_id"], set_=values))
    required = required_of(lessons)
    done_required = [lesson for lesson in required if lesson.lesson_id in facts.completed]
    final_ok = course.final_assessment_id is None or course.final_assessment_id in facts.completed
    completed_now = False
    certificate: Certificate | None = (await session.execute(
        select(Certificate).where(Certificate.enrollment_id == enrollment.id))).scalar_one_or_none()
    if (enrollment.status == EnrollmentStatus.ACTIVE and lessons and len(done_required) == len(required)
            and final_ok):
        enrollment.status = EnrollmentStatus.COMPLETED.value
        enrollment.completed_at = at
        completed_now = True
        if certificate is None:
            client = await session.get(User, enrollment.client_id)
            certificate = Certificate(tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id,
                                      code=certificate_code(), client_name=client.full_name if client else "",
                                      course_title=course.title, issued_at=at)
            session.add(certificate)
    await session.flush()
    unlocked = sum(1 for p in plans if p.open and (live or p.lesson_id in facts.unlocked))
    upcoming = [UpcomingLesson(lesson_id=p.lesson_id, title=p.title, opens_at=p.opens_at, waiting_for=p.waiting_for)
                for p in plans if not p.open][:NEXT_UNLOCKS_SHOWN]
    return Synced(
        status=EnrollmentStatus(enrollment.status), course_id=course.id, course_title=course.title,
        opened_now=opened, unlocked=unlocked, total=len(lessons), completed=len(done_required),
        percent=percent(len(done_required), len(required)), next_unlock_at=next_opening(plans) if live else None,
        upcoming=upcoming, expires_at=enrollment.expires_at, last_activity_at=enrollment.last_activity_at,
        completed_now=completed_now, certificate_code=certificate.code if certificate else None,
        all_done=all(lesson.lesson_id in facts.completed for lesson in lessons))
