"""Courses for the API: tenant-scoped loaders, views of content and progress, and enrolling.

Reads come from PostgreSQL (the Enrollment workflow's activities keep `enrollment_lessons`
current), so a client's lesson page never waits on Temporal. Enrolling writes the row and the
workflow's start in one transaction (`start_after_commit`); the workflow opens what is due.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import Request
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Principal
from api.permissions import Permission, allowed
from api.problems import ALREADY_EXISTS, NOT_FOUND, VALIDATION, Problem, problem_type
from api.schemas.courses import (
    CatalogueCourse,
    CertificateOut,
    EnrollmentOut,
    LessonProgress,
    ModuleProgress,
    OutlineLessonOut,
    OutlineModuleOut,
    PublicCohort,
    Resume,
)
from api.state import AppState
from api.workflow_starts import start_after_commit
from domain.courses.drip import OutlineLesson, percent, required_of
from domain.courses.enrollment import (
    ENROLLMENT_WORKFLOW,
    LIVE,
    EnrollmentInput,
    EnrollmentSource,
    EnrollmentStatus,
    enrollment_workflow_id,
)
from domain.courses.markdown import render_markdown
from domain.notification_templates import format_instant
from domain.zones import zone_of
from models.courses import (
    Certificate,
    Cohort,
    Course,
    CourseModule,
    Enrollment,
    EnrollmentLesson,
    Lesson,
)
from models.identity import Role, User
from models.tenancy import Tenant
from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

LESSON_LOCKED = problem_type("lesson-locked", 403, "This lesson is not open yet",
    "The lesson opens later (`opens_at`, on the client's clock) or after something the client does "
    "first (`waiting_for`); the course page lists what is open.")
NOT_ENROLLED = problem_type("not-enrolled", 403, "Not enrolled in this course",
    "Enrol first (POST /api/v1/courses/{course_id}/enrol), or the enrolment ended (expired or revoked).")
NO_ATTEMPTS_LEFT = problem_type("no-attempts-left", 409, "No attempts left at this quiz",
    "Every attempt the quiz allows is used, or it is passed already.")
CERTIFICATE_UNKNOWN = problem_type("certificate-unknown", 404, "No such certificate",
    "This consultancy issued no certificate with this code. Check the code as printed on the certificate.")


def is_course_staff(principal: Principal) -> bool:
    return allowed(principal.role, Permission.MANAGE_COURSES)


# -- loaders (every statement names the tenant) --------------------------------------------------
async def course_of(session: AsyncSession, tenant_id: UUID, course_id: UUID, *, published: bool = False,
                    field: str = "course_id") -> Course:
    stmt = select(Course).where(Course.tenant_id == tenant_id, Course.id == course_id)
    if published:
        stmt = stmt.where(Course.status == "published")
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "this consultancy has no course with this id", field=field)
    return found


async def module_of(session: AsyncSession, tenant_id: UUID, module_id: UUID, field: str = "module_id") -> CourseModule:
    found = (await session.execute(select(CourseModule).where(
        CourseModule.tenant_id == tenant_id, CourseModule.id == module_id))).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "this consultancy has no course module with this id", field=field)
    return found


async def lesson_of(session: AsyncSession, tenant_id: UUID, lesson_id: UUID, field: str = "lesson_id") -> Lesson:
    found = (await session.execute(select(Lesson).where(
        Lesson.tenant_id == tenant_id, Lesson.id == lesson_id))).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "this consultancy has no lesson with this id", field=field)
    return found


async def cohort_of(session: AsyncSession, tenant_id: UUID, cohort_id: UUID, course_id: UUID | None = None,
                    field: str = "cohort_id") -> Cohort:
    stmt = select(Cohort).where(Cohort.tenant_id == tenant_id, Cohort.id == cohort_id)
    if course_id is not None:
        stmt = stmt.where(Cohort.course_id == course_id)
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND if course_id is None else VALIDATION,
                      "this course has no cohort with this id", field=field)
    return found


def enrollments_of(tenant_id: UUID, principal: Principal) -> Select[Enrollment]:
    """The one readable statement for enrolments: a client's own, every one of the tenant for staff."""
    stmt = select(Enrollment).where(Enrollment.tenant_id == tenant_id)
    if not is_course_staff(principal):
        stmt = stmt.where(Enrollment.client_id == principal.user_id)
    return stmt


async def enrollment_of(session: AsyncSession, tenant_id: UUID, principal: Principal,
                        enrollment_id: UUID) -> Enrollment:
    found = (await session.execute(enrollments_of(tenant_id, principal).where(
        Enrollment.id == enrollment_id))).scalar_one_or_none()
    if found is None:
        raise Problem(NOT_FOUND, "you have no enrolment with this id", field="enrollment_id")
    return found


def usable(enrollment: Enrollment, now: datetime | None = None) -> None:
    """A client may take lessons only in a live enrolment whose access has not run out."""
    now = now or datetime.now(UTC)
    if enrollment.status not in LIVE:
        raise Problem(NOT_ENROLLED, f"this enrolment is {enrollment.status}"
                      + (f": {enrollment.end_reason}" if enrollment.end_reason else ""), field="enrollment_id")
    if enrollment.expires_at is not None and now >= enrollment.expires_at:
        raise Problem(NOT_ENROLLED, f"access to this course ended on {enrollment.expires_at:%Y-%m-%d %H:%M} UTC",
                      field="enrollment_id")


async def client_in(session: AsyncSession, tenant_id: UUID, client_id: UUID, field: str = "client_id") -> User:
    user = await session.get(User, client_id)
    if user is None or user.tenant_id != tenant_id or user.role != Role.CLIENT or not user.is_active:
        raise Problem(VALIDATION, f"{field}: this consultancy has no client with this id", field=field)
    return user


# -- content views -----------------------------------------------------------------------------
async def modules_and_lessons(session: AsyncSession, course_id: UUID, *, published_only: bool
                              ) -> list[tuple[CourseModule, list[Lesson]]]:
    modules = list((await session.execute(select(CourseModule).where(CourseModule.course_id == course_id).order_by(
        CourseModule.position, CourseModule.created_at))).scalars())
    stmt = select(Lesson).where(Lesson.course_id == course_id).order_by(Lesson.position, Lesson.created_at)
    if published_only:
        stmt = stmt.where(Lesson.published.is_(True))
    lessons = list((await session.execute(stmt)).scalars())
    return [(m, [lesson for lesson in lessons if lesson.module_id == m.id]) for m in modules]


async def catalogue_entry(session: AsyncSession, course: Course, enrollment_id: UUID | None = None
                          ) -> CatalogueCourse:
    outline = await modules_and_lessons(session, course.id, published_only=True)
    today = datetime.now(UTC).date()
    cohorts = (await session.execute(select(Cohort).where(Cohort.course_id == course.id, Cohort.starts_on >= today)
                                     .order_by(Cohort.starts_on))).scalars()
    modules = [OutlineModuleOut(id=m.id, title=m.title, lessons=[
        OutlineLessonOut(id=lesson.id, title=lesson.title, kind=lesson.kind, preview=lesson.preview,
                         duration_seconds=lesson.duration_seconds) for lesson in lessons])
        for m, lessons in outline if lessons]
    return CatalogueCourse(
        id=course.id, slug=course.slug, title=course.title, summary=course.summary,
        description_html=render_markdown(course.description_md) if course.description_md else None,
        price_minor=course.price_minor, currency=course.currency, free=course.price_minor == 0,
        access_days=course.access_days, lessons=sum(len(m.lessons) for m in modules), modules=modules,
        cohorts=[PublicCohort(id=c.id, name=c.name, starts_on=c.starts_on) for c in cohorts],
        enrollment_id=enrollment_id)


# -- progress ----------------------------------------------------------------------------------
async def outline(session: AsyncSession, course_id: UUID) -> list[tuple[CourseModule, list[Lesson]]]:
    return [(m, lessons) for m, lessons in await modules_and_lessons(session, course_id, published_only=True)
            if lessons]


def _required(lessons: list[Lesson], every: list[Lesson]) -> list[Lesson]:
    """The module's lessons that count (the course's rule: the required ones, or all if none is)."""
    flags = required_of([OutlineLesson(lesson_id=x.id, module_id=x.module_id, title=x.title, kind=x.kind,
                                       required=x.required) for x in every])
    counted = {f.lesson_id for f in flags}
    return [x for x in lessons if x.id in counted]


async def progress(session: AsyncSession, enrollment: Enrollment
                   ) -> tuple[list[ModuleProgress], int, int, Resume | None]:
    """Per module and for the course: required lessons done, of how many, and where to resume."""
    parts = await outline(session, enrollment.course_id)
    rows = {r.lesson_id: r for r in (await session.execute(select(EnrollmentLesson).where(
        EnrollmentLesson.enrollment_id == enrollment.id).execution_options(populate_existing=True))).scalars()}
    every = [lesson for _, lessons in parts for lesson in lessons]
    modules, done_all, required_all = [], 0, 0
    resume: tuple[datetime, Lesson, EnrollmentLesson] | None = None
    for module, lessons in parts:
        required = _required(lessons, every)
        done = sum(1 for x in required if (r := rows.get(x.id)) is not None and r.completed_at is not None)
        done_all, required_all = done_all + done, required_all + len(required)
        items = []
        for lesson in lessons:
            row = rows.get(lesson.id)
            is_open = row is not None and row.unlocked_at is not None
            state = "completed" if row is not None and row.completed_at else "open" if is_open else "locked"
            items.append(LessonProgress(
                lesson_id=lesson.id, title=lesson.title, kind=lesson.kind, required=lesson in required, state=state,
                unlocked_at=row.unlocked_at if row else None,
                opens_at=row.opens_at if row and not is_open else None,
                waiting_for=row.waiting_for if row and not is_open else None,
                completed_at=row.completed_at if row else None, position_seconds=row.position_seconds if row else None))
            if row is not None and row.last_viewed_at and row.completed_at is None and (
                    resume is None or row.last_viewed_at > resume[0]):
                resume = (row.last_viewed_at, lesson, row)
        modules.append(ModuleProgress(module_id=module.id, title=module.title, completed=done,
                                      required=len(required), percent=percent(done, len(required)), lessons=items))
    picked = None if resume is None else Resume(lesson_id=resume[1].id, title=resume[1].title,
                                                position_seconds=resume[2].position_seconds)
    return modules, done_all, required_all, picked


async def enrollment_out(session: AsyncSession, enrollment: Enrollment) -> EnrollmentOut:
    _, done, required, _ = await progress(session, enrollment)
    return enrollment_summary(enrollment, await _title(session, enrollment.course_id), done, required)


def enrollment_summary(enrollment: Enrollment, course_title: str, done: int, required: int) -> EnrollmentOut:
    return EnrollmentOut(
        id=enrollment.id, course_id=enrollment.course_id, course_title=course_title, client_id=enrollment.client_id,
        cohort_id=enrollment.cohort_id, status=enrollment.status, source=enrollment.source,
        order_id=enrollment.order_id, enrolled_at=enrollment.enrolled_at, expires_at=enrollment.expires_at,
        completed_at=enrollment.completed_at, ended_at=enrollment.ended_at, end_reason=enrollment.end_reason,
        timezone=enrollment.timezone, last_activity_at=enrollment.last_activity_at,
        workflow_id=enrollment.workflow_id, completed=done, required=required, percent=percent(done, required))


async def _title(session: AsyncSession, course_id: UUID) -> str:
    return await session.scalar(select(Course.title).where(Course.id == course_id)) or ""


def certificate_out(certificate: Certificate, verify_url: str, download_url: str | None = None) -> CertificateOut:
    return CertificateOut(code=certificate.code, client_name=certificate.client_name,
                          course_title=certificate.course_title, issued_at=certificate.issued_at,
                          revoked_at=certificate.revoked_at, revoke_reason=certificate.revoke_reason,
                          file_id=certificate.file_id, download_url=download_url, verify_url=verify_url)


def locked_problem(row: EnrollmentLesson | None, enrollment: Enrollment, locale: str = "en") -> Problem:
    """Why a lesson is refused, in words and in fields: when it opens (client's clock) or what first."""
    extra: dict[str, Any] = {"opens_at": None, "waiting_for": None}
    if row is not None and row.waiting_for:
        extra["waiting_for"] = row.waiting_for
        detail = f"this lesson opens after {row.waiting_for}"
        if row.opens_at:
            extra["opens_at"] = row.opens_at.isoformat()
            detail += f", and not before {format_instant(row.opens_at, enrollment.timezone, locale)}"
    elif row is not None and row.opens_at is not None:
        extra["opens_at"] = row.opens_at.isoformat()
        if row.opens_at <= datetime.now(UTC):
            detail = "this lesson is opening just now; try again in a minute"
        else:
            detail = f"this lesson opens on {format_instant(row.opens_at, enrollment.timezone, locale)}"
    else:
        detail = "this lesson is not open to you yet"
    return Problem(LESSON_LOCKED, detail, field="lesson_id", extra=extra)


# -- enrolling ---------------------------------------------------------------------------------
async def live_enrollment(session: AsyncSession, course_id: UUID, client_id: UUID) -> Enrollment | None:
    return (await session.execute(select(Enrollment).where(
        Enrollment.course_id == course_id, Enrollment.client_id == client_id,
        Enrollment.status.in_([s.value for s in LIVE])))).scalar_one_or_none()


async def enrol(request: Request, session: AsyncSession, state: AppState, *, tenant: Tenant, course: Course,
                client: User, cohort: Cohort | None, source: EnrollmentSource) -> Enrollment:
    """The enrolment row and its workflow's start, in the caller's transaction (409 if already enrolled)."""
    if await live_enrollment(session, course.id, client.id) is not None:
        raise Problem(ALREADY_EXISTS, "this client is already enrolled in this course", field="course_id")
    now = datetime.now(UTC)
    enrollment_id = uuid.uuid4()
    workflow_id = enrollment_workflow_id(enrollment_id)
    enrollment = Enrollment(
        id=enrollment_id, tenant_id=tenant.id, course_id=course.id, client_id=client.id,
        cohort_id=cohort.id if cohort else None, status=EnrollmentStatus.ACTIVE.value, source=source.value,
        enrolled_at=now, expires_at=now + timedelta(days=course.access_days) if course.access_days else None,
        timezone=zone_of(client, tenant, "Asia/Kolkata"), last_activity_at=now, workflow_id=workflow_id)
    try:
        async with session.begin_nested():
            session.add(enrollment)
            await session.flush()
    except IntegrityError as exc:  # a second request at the same moment
        raise Problem(ALREADY_EXISTS, "this client is already enrolled in this course", field="course_id") from exc
    inp = EnrollmentInput(enrollment_id=enrollment_id, tenant_id=tenant.id, client_id=client.id,
                          course_ref=cohort.id if cohort else course.id, source=source)
    await start_after_commit(request, session, state, workflow_type=ENROLLMENT_WORKFLOW, workflow_id=workflow_id,
                             payload=inp, tenant_id=tenant.id,
                             search_attributes={TENANT_ID.name: str(tenant.id), CLIENT_ID.name: str(client.id),
                                                ENTITY_STATUS.name: EnrollmentStatus.ACTIVE.value},
                             memo={"summary": f"{course.title}: enrolled"})
    return enrollment


async def count_by_status(session: AsyncSession, course_id: UUID) -> dict[str, int]:
    rows = (await session.execute(select(Enrollment.status, func.count()).where(
        Enrollment.course_id == course_id).group_by(Enrollment.status))).all()
    return {status: int(n) for status, n in rows}
