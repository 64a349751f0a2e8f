"""What a client does inside an enrolment: the workflow's updates, opened lessons, media links."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from uuid import UUID

from fastapi import Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from api.deps import Principal
from api.problems import FORBIDDEN, NOT_FOUND, WORKFLOW_REJECTED, Problem
from api.schemas.courses import EnrollmentView, MediaLink
from api.services.courses import (
    LESSON_LOCKED,
    NO_ATTEMPTS_LEFT,
    certificate_out,
    enrollment_summary,
    is_course_staff,
    locked_problem,
    progress,
    usable,
)
from api.services.files import links_of
from api.state import AppState
from core.logging import request_id_var
from domain.courses.enrollment import LESSON_LOCKED_ERROR, NO_ATTEMPTS_LEFT_ERROR, EnrollmentState
from models.courses import Certificate, Course, Enrollment, EnrollmentLesson, Lesson
from models.files import StoredFile
from models.tenancy import Tenant

log = logging.getLogger(__name__)
T = TypeVar("T")
PREVIEW_VIEWER = UUID(int=0)  # media links of preview lessons on the public page: anyone may watch


def actor(request: Request, principal: Principal) -> dict[str, Any]:
    context = getattr(request.state, "context", None)
    return {"actor_user_id": principal.user_id, "actor_role": principal.role.value,
            "request_id": request_id_var.get(), "ip": context.ip if context else None}


async def update_enrollment(temporal: Client, enrollment: Enrollment, name: str, arg: Any, result_type: type[T],
                            update_id: str | None = None) -> T:
    """Run an update of the enrolment's workflow; its refusals become the API's problems."""
    handle = temporal.get_workflow_handle(enrollment.workflow_id)
    try:
        result: T = await handle.execute_update(name, arg, result_type=result_type, id=update_id)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if not isinstance(cause, ApplicationError):
            raise
        details = cause.details[0] if cause.details and isinstance(cause.details[0], dict) else {}
        field = details.get("field")
        kind = {LESSON_LOCKED_ERROR: LESSON_LOCKED, NO_ATTEMPTS_LEFT_ERROR: NO_ATTEMPTS_LEFT}.get(
            cause.type or "", WORKFLOW_REJECTED)
        raise Problem(kind, cause.message, field=field) from exc
    return result


def own(enrollment: Enrollment, principal: Principal) -> None:
    """Taking lessons is the enrolled client's own business (staff see progress, not act for them)."""
    if enrollment.client_id != principal.user_id:
        raise Problem(FORBIDDEN, "only the enrolled client takes the course's lessons", field="enrollment_id")


async def lesson_in(session: AsyncSession, enrollment: Enrollment, lesson_id: UUID) -> Lesson:
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != enrollment.course_id or not lesson.published:
        raise Problem(NOT_FOUND, "this course has no such lesson", field="lesson_id")
    return lesson


async def opened_lesson(session: AsyncSession, enrollment: Enrollment, lesson_id: UUID, locale: str = "en",
                        *, for_update: bool = False) -> tuple[Lesson, EnrollmentLesson | None]:
    """The lesson if the client may take it now: usable enrolment, and open (or a preview)."""
    usable(enrollment)
    lesson = await lesson_in(session, enrollment, lesson_id)
    stmt = select(EnrollmentLesson).where(EnrollmentLesson.enrollment_id == enrollment.id,
                                          EnrollmentLesson.lesson_id == lesson.id)
    row = (await session.execute(stmt.with_for_update() if for_update else stmt)).scalar_one_or_none()
    if (row is None or row.unlocked_at is None) and not lesson.preview:
        raise locked_problem(row, enrollment, locale)
    return lesson, row


def media_link(state: AppState, stored: StoredFile, viewer: UUID) -> MediaLink:
    expires = datetime.now(UTC) + timedelta(minutes=state.settings.course_media_link_minutes)
    token = links_of(state).token(file_id=stored.id, tenant_id=stored.tenant_id, user_id=viewer, expires_at=expires)
    return MediaLink(url=f"{state.settings.public_base_url}/api/v1/course-media/{stored.id}/content?token={token}",
                     expires_at=expires.replace(microsecond=0), content_type=stored.content_type, name=stored.name,
                     size_bytes=stored.size_bytes)


async def media_of(session: AsyncSession, state: AppState, lesson: Lesson, viewer: UUID) -> MediaLink | None:
    if lesson.file_id is None:
        return None
    stored = await session.get(StoredFile, lesson.file_id)
    return media_link(state, stored, viewer) if stored else None


async def may_watch(session: AsyncSession, stored: StoredFile, viewer: UUID, *, staff: bool) -> bool:
    """Whether the link's person may still fetch this lesson media now: staff of the consultancy; a
    client with a live enrolment in which a lesson using it is open; anyone for a preview lesson."""
    lessons = list((await session.execute(select(Lesson, Course).join(Course, Course.id == Lesson.course_id).where(
        Lesson.file_id == stored.id, Lesson.published.is_(True)))).all())
    if staff:
        return True
    if any(lesson.preview and course.status == "published" for lesson, course in lessons):
        return True
    if viewer == PREVIEW_VIEWER:
        return False
    now = datetime.now(UTC)
    for lesson, _ in lessons:
        found = (await session.execute(select(Enrollment, EnrollmentLesson).join(
            EnrollmentLesson, EnrollmentLesson.enrollment_id == Enrollment.id).where(
            Enrollment.client_id == viewer, Enrollment.course_id == lesson.course_id,
            EnrollmentLesson.lesson_id == lesson.id, EnrollmentLesson.unlocked_at.is_not(None)))).all()
        for enrollment, _row in found:
            try:
                usable(enrollment, now)
            except Problem:
                continue
            return True
    return False


def verify_url(state: AppState, tenant: Tenant, code: str) -> str:
    """The certificate's public verification address (printed on the PDF too)."""
    return f"{state.settings.public_base_url.rstrip('/')}/api/v1/public/{tenant.slug}/certificates/{code}"


async def certificate_of(session: AsyncSession, enrollment: Enrollment) -> Certificate | None:
    return (await session.execute(select(Certificate).where(
        Certificate.enrollment_id == enrollment.id))).scalar_one_or_none()


async def enrollment_view(session: AsyncSession, state: AppState, tenant: Tenant, principal: Principal,
                          enrollment: Enrollment) -> EnrollmentView:
    """The enrolment with progress, resume point and certificate; for staff, the live workflow's state."""
    modules, done, required, resume = await progress(session, enrollment)
    title = await session.scalar(select(Course.title).where(Course.id == enrollment.course_id)) or ""
    certificate = await certificate_of(session, enrollment)
    live: EnrollmentState | None = None
    if is_course_staff(principal) and state.temporal is not None:
        try:
            live = await state.temporal.get_workflow_handle(enrollment.workflow_id).query(
                "state", result_type=EnrollmentState)
        except RPCError as exc:
            log.info("state of %s not available: %s", enrollment.workflow_id, exc)
    return EnrollmentView(
        **enrollment_summary(enrollment, title, done, required).model_dump(), modules=modules, resume=resume,
        certificate=certificate_out(certificate, verify_url(state, tenant, certificate.code)) if certificate else None,
        workflow=live)
