"""Cohorts of a course (moving one re-plans all its enrolments at once) and completion figures."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, status
from sqlalchemy import func, select

from api.deps import CurrentTenant, Principal, Session, State, require
from api.permissions import Permission
from api.problems import CONFLICT, VALIDATION, Problem
from api.schemas.courses import CohortCreate, CohortOut, CohortUpdate, CompletionFigures, LessonFigure
from api.services.course_content import audit, live_enrollments, replan_enrollments
from api.services.courses import cohort_of, count_by_status, course_of, outline, progress
from domain.courses.drip import percent
from domain.courses.enrollment import LIVE, EnrollmentStatus
from models.courses import Certificate, Cohort, Enrollment, EnrollmentLesson

router = APIRouter(tags=["courses"])
Staff = Annotated[Principal, require(Permission.MANAGE_COURSES)]


async def _out(session: Session, cohort: Cohort) -> CohortOut:
    count = await session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.cohort_id == cohort.id))
    return CohortOut(id=cohort.id, course_id=cohort.course_id, name=cohort.name, starts_on=cohort.starts_on,
                     enrolments=int(count or 0))


@router.post("/courses/{course_id}/cohorts", status_code=status.HTTP_201_CREATED, response_model=CohortOut)
async def create_cohort(course_id: UUID, body: CohortCreate, tenant: CurrentTenant, session: Session,
                        principal: Staff) -> CohortOut:
    """A cohort: clients who join it count `cohort_day` rules from its start date."""
    course = await course_of(session, tenant.id, course_id)
    cohort = Cohort(tenant_id=tenant.id, course_id=course.id, name=body.name, starts_on=body.starts_on)
    session.add(cohort)
    await session.flush()
    await audit(session, principal, "course.cohort_created", "course_cohort", cohort.id,
                {"course_id": str(course.id), "starts_on": body.starts_on.isoformat()})
    return await _out(session, cohort)


@router.get("/courses/{course_id}/cohorts", response_model=list[CohortOut])
async def list_cohorts(course_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> list[CohortOut]:
    course = await course_of(session, tenant.id, course_id)
    rows = (await session.execute(select(Cohort).where(Cohort.course_id == course.id).order_by(
        Cohort.starts_on))).scalars()
    return [await _out(session, c) for c in rows]


@router.patch("/course-cohorts/{cohort_id}", response_model=CohortOut)
async def update_cohort(
    cohort_id: UUID, body: CohortUpdate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> CohortOut:
    """Rename or move a cohort (audited). A new `starts_on` re-plans every enrolment of the cohort at
    once; lessons already open stay open."""
    cohort = await cohort_of(session, tenant.id, cohort_id)
    changes = body.model_dump(exclude_unset=True)
    for name in ("name", "starts_on"):
        if name in changes and changes[name] is None:
            raise Problem(VALIDATION, f"{name} cannot be empty", field=name)
    before = cohort.starts_on
    if body.name is not None:
        cohort.name = body.name
    moved = body.starts_on is not None and body.starts_on != before
    if body.starts_on is not None:
        cohort.starts_on = body.starts_on
    await session.flush()
    replanned = 0
    if moved:
        replanned = await replan_enrollments(request, session, state,
                                             await live_enrollments(session, cohort_id=cohort.id))
    await audit(session, principal, "course.cohort_moved" if moved else "course.cohort_updated", "course_cohort",
                cohort.id, {"from": before.isoformat(), "to": cohort.starts_on.isoformat(), "reason": body.reason,
                            "enrolments_replanned": replanned, "fields": sorted(changes)})
    return await _out(session, cohort)


@router.delete("/course-cohorts/{cohort_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_cohort(cohort_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> None:
    """Delete a cohort nobody joined."""
    cohort = await cohort_of(session, tenant.id, cohort_id)
    if await session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.cohort_id == cohort.id)):
        raise Problem(CONFLICT, "clients are in this cohort: move its date instead", field="cohort_id")
    await audit(session, principal, "course.cohort_deleted", "course_cohort", cohort.id, {"name": cohort.name})
    await session.delete(cohort)
    await session.flush()


@router.get("/courses/{course_id}/completion", response_model=CompletionFigures)
async def completion_figures(course_id: UUID, tenant: CurrentTenant, session: Session,
                             principal: Staff) -> CompletionFigures:
    """How far the course's clients got: enrolments by status, completion rate, mean progress,
    certificates, and how many completed each lesson (for the analytics dashboard)."""
    course = await course_of(session, tenant.id, course_id)
    by_status = await count_by_status(session, course.id)
    total = sum(by_status.values())
    completed = by_status.get(EnrollmentStatus.COMPLETED.value, 0)
    live = list((await session.execute(select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.status.in_([s.value for s in LIVE])))).scalars())
    percents = []
    for enrollment in live:
        _, done, required, _ = await progress(session, enrollment)
        percents.append(percent(done, required))
    per_lesson = dict((await session.execute(select(EnrollmentLesson.lesson_id, func.count()).join(
        Enrollment, Enrollment.id == EnrollmentLesson.enrollment_id).where(
        Enrollment.course_id == course.id, EnrollmentLesson.completed_at.is_not(None)).group_by(
        EnrollmentLesson.lesson_id))).all())
    certificates = (await session.execute(select(Certificate.revoked_at).join(
        Enrollment, Enrollment.id == Certificate.enrollment_id).where(Enrollment.course_id == course.id))).scalars()
    revoked_flags = [r is not None for r in certificates]
    return CompletionFigures(
        course_id=course.id, enrolments=total, by_status=by_status, completed=completed,
        completion_rate_percent=percent(completed, total) if total else 0,
        average_progress_percent=sum(percents) // len(percents) if percents else 0,
        certificates_issued=len(revoked_flags), certificates_revoked=sum(revoked_flags),
        lessons=[LessonFigure(lesson_id=x.id, title=x.title, completed=int(per_lesson.get(x.id, 0)))
                 for _, lessons in await outline(session, course.id) for x in lessons])
