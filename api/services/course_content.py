"""Helpers of the staff course routers: ordering, the detailed view, media uploads, audit, re-planning."""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal
from api.problems import VALIDATION, Problem
from api.schemas.courses import CohortOut, CourseDetail, CourseOut, LessonKind, LessonOut, ModuleOut
from api.services.courses import modules_and_lessons
from api.services.files import read_upload, storage_of, store_upload
from api.state import AppState
from api.workflow_starts import signal_after_commit
from domain.courses.enrollment import LIVE
from domain.files import AUDIO_KINDS, DOCUMENT_KINDS, VIDEO_KINDS, FileKind
from models.courses import Cohort, Course, Enrollment, Lesson
from models.files import StoredFile
from models.platform import record_audit

LESSON_MEDIA: dict[str, frozenset[FileKind]] = {
    LessonKind.VIDEO: VIDEO_KINDS, LessonKind.AUDIO: AUDIO_KINDS, LessonKind.FILE: DOCUMENT_KINDS}
MEDIA_PURPOSE = "lesson"
Positioned = TypeVar("Positioned", bound=Any)


def place(siblings: list[Positioned], item: Positioned, position: int | None) -> None:
    """Put `item` at `position` among its siblings (the end if None) and number them all 0, 1, 2, ..."""
    rest = [s for s in siblings if s is not item]
    index = len(rest) if position is None else min(position, len(rest))
    rest.insert(index, item)
    for number, each in enumerate(rest):
        each.position = number


async def audit(session: AsyncSession, principal: Principal, action: str, target_type: str, target_id: UUID,
                details: dict[str, Any]) -> None:
    await record_audit(session, tenant_id=principal.tenant_id, action=action, actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type=target_type, target_id=target_id,
                       details=details)


async def course_detail(session: AsyncSession, course: Course) -> CourseDetail:
    parts = await modules_and_lessons(session, course.id, published_only=False)
    counts = dict((await session.execute(select(Enrollment.cohort_id, func.count()).where(
        Enrollment.course_id == course.id, Enrollment.cohort_id.is_not(None)).group_by(Enrollment.cohort_id))).all())
    cohorts = (await session.execute(select(Cohort).where(Cohort.course_id == course.id).order_by(
        Cohort.starts_on))).scalars()
    return CourseDetail(
        **CourseOut.model_validate(course).model_dump(),
        modules=[ModuleOut(id=m.id, title=m.title, position=m.position, drip=m.drip,
                           lessons=[LessonOut.model_validate(x) for x in lessons]) for m, lessons in parts],
        cohorts=[CohortOut(id=c.id, course_id=c.course_id, name=c.name, starts_on=c.starts_on,
                           enrolments=int(counts.get(c.id, 0))) for c in cohorts])


async def replan_enrollments(request: Request, session: AsyncSession, state: AppState,
                             enrollments: list[Enrollment]) -> int:
    """Tell each live enrolment's workflow to look at the course again (after the commit, or by the relay)."""
    for enrollment in enrollments:
        await signal_after_commit(request, session, state, workflow_id=enrollment.workflow_id, signal="replan",
                                  payload="content changed", tenant_id=enrollment.tenant_id)
    return len(enrollments)


async def live_enrollments(session: AsyncSession, *, course_id: UUID | None = None,
                           cohort_id: UUID | None = None) -> list[Enrollment]:
    stmt = select(Enrollment).where(Enrollment.status.in_([s.value for s in LIVE]))
    if course_id is not None:
        stmt = stmt.where(Enrollment.course_id == course_id)
    if cohort_id is not None:
        stmt = stmt.where(Enrollment.cohort_id == cohort_id)
    return list((await session.execute(stmt)).scalars())


async def replan_course(request: Request, session: AsyncSession, state: AppState, course: Course) -> int:
    return await replan_enrollments(request, session, state, await live_enrollments(session, course_id=course.id))


async def store_media(request: Request, session: AsyncSession, state: AppState, lesson: Lesson,
                      principal: Principal) -> StoredFile:
    allowed = LESSON_MEDIA.get(lesson.kind)
    if allowed is None:
        raise Problem(VALIDATION, f"file: a {lesson.kind} lesson has no media; its content is its "
                      f"{'text' if lesson.kind == LessonKind.TEXT else 'questions'}", field="file")
    upload = await read_upload(request, state.settings.course_media_max_bytes)
    return await store_upload(session, storage_of(state), upload, tenant_id=lesson.tenant_id, client_id=None,
                              uploaded_by=principal.user_id, allowed_kinds=allowed, purpose=MEDIA_PURPOSE)
