"""The demo course: a free, published mini-course with drip, a quiz as final assessment, a cohort,
and the demo client enrolled (its Enrollment workflow is started by the relay, like every start).

Ids are derived from the tenant's (uuid5), so a second run finds everything and adds nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from domain.courses.enrollment import (
    ENROLLMENT_WORKFLOW,
    EnrollmentInput,
    EnrollmentSource,
    EnrollmentStatus,
    enrollment_workflow_id,
)
from domain.courses.markdown import render_markdown
from models.courses import Cohort, Course, CourseModule, Enrollment, Lesson
from models.platform import PendingWorkflowStart
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

DEMO_COURSE_SLUG = "numerology-basics"
QUIZ: dict[str, Any] = {"questions": [
    {"id": "q1", "kind": "single", "prompt": "What is the life path number of someone born on 1990-05-20?",
     "options": [{"id": "a", "text": "8"}, {"id": "b", "text": "9"}, {"id": "c", "text": "11"}], "correct": ["a"],
     "explanation": "Add every digit: 1+9+9+0+0+5+2+0 = 26, then 2+6 = 8."},
    {"id": "q2", "kind": "true_false", "prompt": "Master numbers (11, 22, 33) are reduced to one digit.",
     "correct": ["false"], "explanation": "Master numbers are kept as they are."},
    {"id": "q3", "kind": "multiple", "prompt": "Which of these are master numbers?",
     "options": [{"id": "x", "text": "11"}, {"id": "y", "text": "12"}, {"id": "z", "text": "22"}],
     "correct": ["x", "z"]}],
    "pass_mark_percent": 60, "max_attempts": 3}
OUTLINE: list[tuple[str, dict[str, Any] | None, list[tuple[str, str, dict[str, Any] | None, str]]]] = [
    ("Week 1: your numbers", None, [
        ("Welcome", "text", None, "# Welcome\nNumbers describe **rhythms**, not fate. Start here."),
        ("Your life path number", "text", {"days_after_enrolment": 1},
         "Add every digit of your birth date until one digit (or a master number) is left."),
    ]),
    ("Week 2: names", {"days_after_enrolment": 7}, [
        ("The destiny number", "text", None, "Each letter has a value (Pythagorean table: A=1 … I=9, J=1 …)."),
        ("Check yourself", "quiz", {"after_previous": True}, "Three questions on weeks 1 and 2."),
    ]),
]


def _id(tenant_id: uuid.UUID, what: str) -> uuid.UUID:
    return uuid.uuid5(tenant_id, f"demo-course/{what}")


async def seed_course(session: AsyncSession, settings: Settings, tenant_id: uuid.UUID, consultant_id: uuid.UUID,
                      client_id: uuid.UUID) -> uuid.UUID:
    """The demo course and Priya's enrolment (returns the enrolment's id)."""
    course_id = _id(tenant_id, "course")
    if await session.get(Course, course_id) is None:
        session.add(Course(
            id=course_id, tenant_id=tenant_id, slug=DEMO_COURSE_SLUG, title="Numerology basics (free mini-course)",
            summary="Two weeks, four lessons: your life path and destiny numbers.",
            description_md="A free taster of the **12-week numerology course**. Lessons open day by day.",
            status="draft", consultant_user_id=consultant_id, price_minor=0, currency="INR", access_days=365,
            discussions_enabled=True, release_time=time(8, 0)))
        await session.flush()
        quiz_id = None
        for m, (title, rule, lessons) in enumerate(OUTLINE):
            module = CourseModule(id=_id(tenant_id, f"module/{m}"), tenant_id=tenant_id, course_id=course_id,
                                  title=title, position=m, drip=rule)
            session.add(module)
            await session.flush()
            for n, (lesson_title, kind, lesson_rule, body) in enumerate(lessons):
                lesson = Lesson(id=_id(tenant_id, f"lesson/{m}/{n}"), tenant_id=tenant_id, course_id=course_id,
                                module_id=module.id, title=lesson_title, kind=kind, position=n, published=True,
                                preview=(m, n) == (0, 0), required=True, drip=lesson_rule, body_md=body,
                                body_html=render_markdown(body), quiz=QUIZ if kind == "quiz" else None)
                session.add(lesson)
                if kind == "quiz":
                    quiz_id = lesson.id
        await session.flush()
        course = await session.get(Course, course_id)
        assert course is not None
        course.final_assessment_id, course.status = quiz_id, "published"
        session.add(Cohort(id=_id(tenant_id, "cohort"), tenant_id=tenant_id, course_id=course_id,
                           name="January batch", starts_on=(datetime.now(UTC) + timedelta(days=30)).date()))
    enrollment_id = _id(tenant_id, f"enrollment/{client_id}")
    if await session.get(Enrollment, enrollment_id) is None:
        now = datetime.now(UTC)
        workflow_id = enrollment_workflow_id(enrollment_id)
        session.add(Enrollment(id=enrollment_id, tenant_id=tenant_id, course_id=course_id, client_id=client_id,
                               status=EnrollmentStatus.ACTIVE.value, source=EnrollmentSource.STAFF.value,
                               enrolled_at=now, expires_at=now + timedelta(days=365), timezone="Asia/Kolkata",
                               last_activity_at=now, workflow_id=workflow_id))
        await session.flush()
        session.add(PendingWorkflowStart(
            tenant_id=tenant_id, workflow_id=workflow_id, workflow_type=ENROLLMENT_WORKFLOW,
            task_queue=settings.temporal_task_queue,
            payload=EnrollmentInput(enrollment_id=enrollment_id, tenant_id=tenant_id, client_id=client_id,
                                    course_ref=course_id, source=EnrollmentSource.STAFF).model_dump(mode="json"),
            search_attributes={TENANT_ID.name: str(tenant_id), CLIENT_ID.name: str(client_id),
                               ENTITY_STATUS.name: EnrollmentStatus.ACTIVE.value},
            memo={"summary": "Numerology basics: enrolled (demo data)"}))
        await session.flush()
    return enrollment_id
