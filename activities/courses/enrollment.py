"""Side effects of the Enrollment workflow that change the enrolment: begin, sync, complete a
lesson, grade a quiz attempt, early access, extended access, the end of access.

Each runs in one transaction with the enrolment row locked, so two changes to one enrolment
take turns, and is idempotent: a lesson completed twice keeps its first time, a quiz attempt is
stored once per submitting update (`quiz_attempts.key`), a revoked enrolment stays revoked.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.courses.progress import fail, load_enrollment, sync_enrollment
from core.db import TenantScope, scoped_session
from domain.courses.enrollment import (
    BEGIN,
    COMPLETE_LESSON,
    EARLY_ACCESS,
    END_ACCESS,
    EXTEND_ACCESS,
    GRADE_QUIZ,
    LESSON_LOCKED_ERROR,
    LIVE,
    NO_ATTEMPTS_LEFT_ERROR,
    SYNC,
    Actor,
    Begin,
    EarlyStep,
    EndStep,
    EnrollmentState,
    EnrollmentStatus,
    ExtendStep,
    LessonStep,
    QuizStep,
    QuizStepResult,
    Sync,
    Synced,
    enrollment_workflow_id,
)
from domain.courses.quiz import Graded, QuizSpec, grade, reveal
from domain.zones import zone_of
from models.courses import Cohort, Course, Enrollment, EnrollmentLesson, Lesson, QuizAttempt
from models.identity import Role, User
from models.platform import record_audit
from models.tenancy import Tenant


async def audit(session: AsyncSession, enrollment: Enrollment, action: str, actor: Actor,
                details: dict[str, object]) -> None:
    event = await record_audit(session, tenant_id=enrollment.tenant_id, action=action,
                               actor_user_id=actor.actor_user_id, actor_role=actor.actor_role,
                               target_type="enrollment", target_id=enrollment.id, details=details, ip=actor.ip)
    event.request_id = actor.request_id


class EnrollmentActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    @activity.defn(name=BEGIN)
    async def begin(self, step: Begin) -> EnrollmentState:
        """The enrolment's row: made by the API (free, staff) or here (bought through an order)."""
        inp = step.inp
        async with scoped_session(self.sessionmaker, TenantScope.of(inp.tenant_id)) as session:
            enrollment = await session.get(Enrollment, inp.enrollment_id)
            if enrollment is None:
                enrollment = await self._enrol_from_order(session, step)
            return EnrollmentState(enrollment_id=enrollment.id, course_id=enrollment.course_id,
                                   client_id=enrollment.client_id, status=EnrollmentStatus(enrollment.status),
                                   source=inp.source, expires_at=enrollment.expires_at)

    async def _enrol_from_order(self, session: AsyncSession, step: Begin) -> Enrollment:
        inp = step.inp
        cohort = await session.get(Cohort, inp.course_ref)
        course = await session.get(Course, cohort.course_id if cohort else inp.course_ref)
        client = await session.get(User, inp.client_id)
        tenant = await session.get(Tenant, inp.tenant_id)
        if course is None or course.tenant_id != inp.tenant_id:
            raise fail(f"{inp.course_ref} is not a course or cohort of tenant {inp.tenant_id}", "EnrollmentGone")
        if client is None or client.role != Role.CLIENT or client.tenant_id != inp.tenant_id:
            raise fail(f"{inp.client_id} is not a client of tenant {inp.tenant_id}", "EnrollmentGone")
        values = dict(
            id=inp.enrollment_id, tenant_id=inp.tenant_id, course_id=course.id, client_id=client.id,
            cohort_id=cohort.id if cohort else None, status=EnrollmentStatus.ACTIVE.value, source=inp.source.value,
            order_id=inp.order_id, enrolled_at=step.at,
            expires_at=step.at + timedelta(days=course.access_days) if course.access_days else None,
            timezone=zone_of(client, tenant, "Asia/Kolkata"), last_activity_at=step.at,
            workflow_id=enrollment_workflow_id(inp.enrollment_id))
        try:
            async with session.begin_nested():
                await session.execute(insert(Enrollment).values(**values).on_conflict_do_nothing(
                    index_elements=["id"]))
        except IntegrityError:
            # Already enrolled in this course (the API refuses a second purchase; two orders paid
            # at once can still meet here): this one is recorded as ended, for staff to refund.
            values.update(status=EnrollmentStatus.REVOKED.value, ended_at=step.at,
                          end_reason="already enrolled in this course: refund this order")
            await session.execute(insert(Enrollment).values(**values).on_conflict_do_nothing(index_elements=["id"]))
        found = await session.get(Enrollment, inp.enrollment_id)
        if found is None:
            raise fail(f"enrollment {inp.enrollment_id} belongs to another tenant", "EnrollmentGone")
        return found

    @activity.defn(name=SYNC)
    async def sync(self, step: Sync) -> Synced:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id)
            return await sync_enrollment(session, enrollment, step.at)

    async def _open_lesson(self, session: AsyncSession, enrollment: Enrollment, lesson_id: uuid.UUID,
                           at: datetime) -> tuple[Lesson, EnrollmentLesson]:
        if enrollment.status not in LIVE or (enrollment.expires_at is not None and at >= enrollment.expires_at):
            raise fail(f"this enrolment is {enrollment.status if enrollment.status not in LIVE else 'expired'}")
        lesson = await session.get(Lesson, lesson_id)
        if lesson is None or lesson.course_id != enrollment.course_id or not lesson.published:
            raise fail("this course has no such lesson", "EnrollmentRefused", "lesson_id")
        await sync_enrollment(session, enrollment, at)  # what is due now is open before we judge
        row = await session.get(EnrollmentLesson, (enrollment.id, lesson_id))
        if row is None or row.unlocked_at is None:
            raise fail("this lesson is not open yet", LESSON_LOCKED_ERROR, "lesson_id")
        return lesson, row

    @activity.defn(name=COMPLETE_LESSON)
    async def complete_lesson(self, step: LessonStep) -> Synced:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id)
            lesson, row = await self._open_lesson(session, enrollment, step.request.lesson_id, step.at)
            if lesson.kind == "quiz" and row.completed_at is None:
                raise fail("a quiz is completed by passing it", "EnrollmentRefused", "lesson_id")
            row.completed_at = row.completed_at or step.at
            enrollment.last_activity_at = max(enrollment.last_activity_at or step.at, step.at)
            return await sync_enrollment(session, enrollment, step.at)

    @activity.defn(name=GRADE_QUIZ)
    async def grade_quiz(self, step: QuizStep) -> QuizStepResult:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id)
            known = (await session.execute(select(QuizAttempt).where(QuizAttempt.key == step.key))).scalar_one_or_none()
            lesson, row = await self._open_lesson(session, enrollment, step.request.lesson_id, step.at)
            if lesson.kind != "quiz" or not lesson.quiz:
                raise fail("this lesson is not a quiz", "EnrollmentRefused", "lesson_id")
            spec = QuizSpec.model_validate(lesson.quiz)
            used = await session.scalar(select(func.count()).select_from(QuizAttempt).where(
                QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id)) or 0
            if known is not None:  # a retried activity: the attempt stored the first time
                left = None if spec.max_attempts is None else max(spec.max_attempts - used, 0)
                return QuizStepResult(attempt=known.number, attempts_left=left,
                                      graded=Graded.model_validate(known.graded),
                                      synced=await sync_enrollment(session, enrollment, step.at))
            if row.completed_at is not None:
                raise fail("this quiz is passed already", NO_ATTEMPTS_LEFT_ERROR, "lesson_id")
            if spec.max_attempts is not None and used >= spec.max_attempts:
                raise fail(f"all {spec.max_attempts} attempts at this quiz are used", NO_ATTEMPTS_LEFT_ERROR,
                           "lesson_id")
            graded = grade(spec, step.request.answers)
            number = used + 1
            left = None if spec.max_attempts is None else spec.max_attempts - number
            if graded.passed or left == 0:
                graded = reveal(spec, graded)
            session.add(QuizAttempt(tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, lesson_id=lesson.id,
                                    number=number, key=step.key, answers=step.request.answers,
                                    score_percent=graded.score_percent, passed=graded.passed,
                                    graded=graded.model_dump(mode="json")))
            if graded.passed:
                row.completed_at = step.at
            enrollment.last_activity_at = max(enrollment.last_activity_at or step.at, step.at)
            await session.flush()
            return QuizStepResult(attempt=number, attempts_left=left, graded=graded,
                                  synced=await sync_enrollment(session, enrollment, step.at))

    @activity.defn(name=EARLY_ACCESS)
    async def early_access(self, step: EarlyStep) -> Synced:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id)
            found = set((await session.execute(select(Lesson.id).where(
                Lesson.id.in_(step.request.lesson_ids), Lesson.course_id == enrollment.course_id))).scalars())
            if missing := [str(i) for i in step.request.lesson_ids if i not in found]:
                raise fail(f"this course has no lesson {missing[0]}", "EnrollmentRefused", "lesson_ids")
            for lesson_id in step.request.lesson_ids:
                await session.execute(insert(EnrollmentLesson).values(
                    tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, lesson_id=lesson_id,
                    early_access=True).on_conflict_do_update(index_elements=["enrollment_id", "lesson_id"],
                                                             set_={"early_access": True}))
            await audit(session, enrollment, "enrollment.early_access", step.request,
                        {"lesson_ids": [str(i) for i in step.request.lesson_ids], "reason": step.request.reason})
            return await sync_enrollment(session, enrollment, step.at)

    @activity.defn(name=EXTEND_ACCESS)
    async def extend_access(self, step: ExtendStep) -> Synced:
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            enrollment = await load_enrollment(session, step.ref.enrollment_id)
            if enrollment.status == EnrollmentStatus.REVOKED:
                raise fail("this enrolment was revoked; enrol the client again instead")
            before = enrollment.expires_at
            if before != step.request.expires_at:
                enrollment.expires_at = step.request.expires_at
                if enrollment.status == EnrollmentStatus.EXPIRED:
                    enrollment.status = (EnrollmentStatus.COMPLETED if enrollment.completed_at
                                         else EnrollmentStatus.ACTIVE).value
                    enrollment.ended_at, enrollment.end_reason = None, None
                await audit(session, enrollment, "enrollment.access_extended", step.request, {
                    "from": before.isoformat() if before else None, "to": step.request.expires_at.isoformat(),
                    "reason": step.request.reason})
            return await sync_enrollment(session, enrollment, step.at)

    @activity.defn(name=END_ACCESS)
    async def end_access(self, step: EndStep) -> str:
        """Revoke (refund, staff) or expire; a revoked enrolment stays revoked. Returns the status."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.tenant_id)) as session:
            enrollment = await session.get(Enrollment, step.enrollment_id, with_for_update=True)
            if enrollment is None:
                return "missing"  # e.g. an order released before its enrolment began
            if enrollment.status == EnrollmentStatus.REVOKED or (
                    step.status == EnrollmentStatus.EXPIRED and enrollment.status not in LIVE):
                return enrollment.status
            if step.status == EnrollmentStatus.EXPIRED and (
                    enrollment.expires_at is None or enrollment.expires_at > step.at):
                return enrollment.status  # extended meanwhile
            enrollment.status = step.status.value
            enrollment.ended_at = step.at
            enrollment.end_reason = step.request.reason
            if step.status == EnrollmentStatus.REVOKED:
                await audit(session, enrollment, "enrollment.revoked", step.request, {"reason": step.request.reason})
            return enrollment.status


def now_utc() -> datetime:
    return datetime.now(UTC)
