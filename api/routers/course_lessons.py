"""A client inside a course: lesson content when open, completion, resume position, notes,
quiz attempts, the lesson's discussion, and lesson media (signed links, HTTP range requests).

A locked lesson is a `lesson-locked` problem saying when it opens (on the client's clock) or
what to do first. A quiz's questions go out without the answer key; the key and explanations
come back only in a graded attempt that passed or used the last try.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request, Response, status
from sqlalchemy import func, select

from api.deps import CurrentTenant, Principal, RawSession, Session, State, Temporal, require
from api.permissions import Permission
from api.problems import DOWNLOAD_LINK_EXPIRED, DOWNLOAD_LINK_INVALID, NOT_FOUND, VALIDATION, Problem
from api.schemas.courses import (
    AttemptOut,
    EnrollmentView,
    LessonContent,
    LessonKind,
    NoteCreate,
    NoteOut,
    PositionBody,
    QuizAttemptBody,
    QuizResult,
    Resume,
)
from api.services.course_learning import (
    PREVIEW_VIEWER,
    actor,
    enrollment_view,
    may_watch,
    media_of,
    opened_lesson,
    own,
    update_enrollment,
)
from api.services.courses import NO_ATTEMPTS_LEFT, enrollment_of, enrollment_out
from api.services.files import links_of, storage_of
from core.db import TenantScope, enter_scope
from core.signed_links import LinkError
from core.storage import ObjectMissing
from domain.courses.enrollment import CompleteLesson, EnrollmentState, QuizAnswer, QuizSubmission
from domain.courses.quiz import AnswerRefused, Graded, QuizSpec, check_answers, public_quiz
from domain.courses.ranges import Unsatisfiable, parse_range
from domain.files import KINDS, MEDIA_KINDS
from models.courses import Course, EnrollmentLesson, LessonNote, QuizAttempt
from models.files import StoredFile
from models.identity import Role, User

log = logging.getLogger(__name__)
router = APIRouter(tags=["courses"])
Learner = Annotated[Principal, require(Permission.LEARN)]
LESSON = "/course-enrollments/{enrollment_id}/lessons/{lesson_id}"


async def _locale(session: Session, principal: Principal) -> str:
    user = await session.get(User, principal.user_id)
    return user.locale if user else "en"


async def _attempts(session: Session, enrollment_id: UUID, lesson_id: UUID) -> list[AttemptOut]:
    rows = (await session.execute(select(QuizAttempt).where(
        QuizAttempt.enrollment_id == enrollment_id, QuizAttempt.lesson_id == lesson_id).order_by(
        QuizAttempt.number))).scalars()
    return [AttemptOut(number=r.number, score_percent=r.score_percent, passed=r.passed, created_at=r.created_at,
                       graded=Graded.model_validate(r.graded)) for r in rows]


@router.get(LESSON, response_model=LessonContent)
async def read_lesson_content(
    enrollment_id: UUID, lesson_id: UUID, tenant: CurrentTenant, session: Session, state: State, principal: Learner,
) -> LessonContent:
    """The lesson, if it is open: its text, a signed media link (video, audio, file), a quiz's
    questions (never the answers) and the attempts so far. Viewing it sets the resume point."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    lesson, row = await opened_lesson(session, enrollment, lesson_id, await _locale(session, principal))
    if row is not None and principal.user_id == enrollment.client_id:
        now = datetime.now(UTC)
        row.last_viewed_at = now
        enrollment.last_activity_at = max(enrollment.last_activity_at or now, now)
        await session.flush()
    quiz, attempts, left = None, [], None
    if lesson.kind == LessonKind.QUIZ and lesson.quiz:
        spec = QuizSpec.model_validate(lesson.quiz)
        quiz = public_quiz(spec)
        attempts = await _attempts(session, enrollment.id, lesson.id)
        left = None if spec.max_attempts is None else max(spec.max_attempts - len(attempts), 0)
    course = await session.get(Course, enrollment.course_id)
    return LessonContent(
        lesson_id=lesson.id, module_id=lesson.module_id, title=lesson.title, kind=lesson.kind,
        body_html=lesson.body_html, duration_seconds=lesson.duration_seconds,
        media=await media_of(session, state, lesson, principal.user_id), quiz=quiz, attempts=attempts,
        attempts_left=left, completed_at=row.completed_at if row else None,
        position_seconds=row.position_seconds if row else None,
        discussions_enabled=bool(course and course.discussions_enabled))


@router.post(LESSON + "/complete", response_model=EnrollmentView)
async def complete_lesson(
    enrollment_id: UUID, lesson_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State,
    temporal: Temporal, principal: Learner,
) -> EnrollmentView:
    """Mark an open lesson done (a quiz is done by passing it); lessons it gates open at once."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    lesson, _ = await opened_lesson(session, enrollment, lesson_id, await _locale(session, principal))
    if lesson.kind == LessonKind.QUIZ:
        raise Problem(VALIDATION, "lesson_id: a quiz is completed by passing it (POST .../attempts)",
                      field="lesson_id")
    await update_enrollment(temporal, enrollment, "complete_lesson",
                            CompleteLesson(**actor(request, principal), lesson_id=lesson.id), EnrollmentState)
    await session.refresh(enrollment)
    return await enrollment_view(session, state, tenant, principal, enrollment)


@router.put(LESSON + "/position", response_model=Resume)
async def save_position(
    enrollment_id: UUID, lesson_id: UUID, body: PositionBody, tenant: CurrentTenant, session: Session,
    principal: Learner,
) -> Resume:
    """Where the client stopped in a video or audio lesson (seconds), to resume there."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    lesson, row = await opened_lesson(session, enrollment, lesson_id, await _locale(session, principal),
                                      for_update=True)
    if lesson.kind not in (LessonKind.VIDEO, LessonKind.AUDIO):
        raise Problem(VALIDATION, "position_seconds: only video and audio lessons have a position",
                      field="position_seconds")
    if lesson.duration_seconds is not None and body.position_seconds > lesson.duration_seconds:
        raise Problem(VALIDATION, f"position_seconds: the lesson lasts {lesson.duration_seconds} s",
                      field="position_seconds")
    now = datetime.now(UTC)
    if row is None:  # a preview lesson the workflow has not opened for this client
        row = EnrollmentLesson(tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, lesson_id=lesson.id)
        session.add(row)
    row.position_seconds, row.last_viewed_at = body.position_seconds, now
    enrollment.last_activity_at = max(enrollment.last_activity_at or now, now)
    await session.flush()
    return Resume(lesson_id=lesson.id, title=lesson.title, position_seconds=row.position_seconds)


# -- notes -------------------------------------------------------------------------------------
@router.get(LESSON + "/notes", response_model=list[NoteOut])
async def list_notes(enrollment_id: UUID, lesson_id: UUID, tenant: CurrentTenant, session: Session,
                     principal: Learner) -> list[NoteOut]:
    """The client's own notes on a lesson, in the order of their place in the media (then time)."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    rows = (await session.execute(select(LessonNote).where(
        LessonNote.enrollment_id == enrollment.id, LessonNote.lesson_id == lesson_id).order_by(
        LessonNote.position_seconds.nulls_last(), LessonNote.created_at))).scalars()
    return [NoteOut.model_validate(r) for r in rows]


@router.post(LESSON + "/notes", status_code=status.HTTP_201_CREATED, response_model=NoteOut)
async def add_note(enrollment_id: UUID, lesson_id: UUID, body: NoteCreate, tenant: CurrentTenant, session: Session,
                   principal: Learner) -> NoteOut:
    """A note on an open lesson, at a moment of its video or audio if given."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    lesson, _ = await opened_lesson(session, enrollment, lesson_id, await _locale(session, principal))
    if body.position_seconds is not None and lesson.kind not in (LessonKind.VIDEO, LessonKind.AUDIO):
        raise Problem(VALIDATION, "position_seconds: only notes on video and audio lessons have a moment",
                      field="position_seconds")
    note = LessonNote(tenant_id=enrollment.tenant_id, enrollment_id=enrollment.id, lesson_id=lesson.id,
                      body=body.body, position_seconds=body.position_seconds)
    session.add(note)
    await session.flush()
    return NoteOut.model_validate(note)


@router.delete("/course-enrollments/{enrollment_id}/notes/{note_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_note(enrollment_id: UUID, note_id: UUID, tenant: CurrentTenant, session: Session,
                      principal: Learner) -> None:
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    note = await session.get(LessonNote, note_id)
    if note is None or note.enrollment_id != enrollment.id:
        raise Problem(NOT_FOUND, "you have no note with this id", field="note_id")
    await session.delete(note)
    await session.flush()


# -- quizzes -----------------------------------------------------------------------------------
@router.get(LESSON + "/attempts", response_model=list[AttemptOut])
async def list_attempts(enrollment_id: UUID, lesson_id: UUID, tenant: CurrentTenant, session: Session,
                        principal: Learner) -> list[AttemptOut]:
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    return await _attempts(session, enrollment.id, lesson_id)


@router.post(LESSON + "/attempts", status_code=status.HTTP_201_CREATED, response_model=QuizResult)
async def submit_attempt(
    enrollment_id: UUID, lesson_id: UUID, body: QuizAttemptBody, request: Request, tenant: CurrentTenant,
    session: Session, temporal: Temporal, principal: Learner,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=255)] = None,
) -> QuizResult:
    """Submit answers (question id -> option ids); graded at once. The right answers and
    explanations come back once the quiz is passed or the last attempt is used."""
    enrollment = await enrollment_of(session, tenant.id, principal, enrollment_id)
    own(enrollment, principal)
    lesson, row = await opened_lesson(session, enrollment, lesson_id, await _locale(session, principal))
    if lesson.kind != LessonKind.QUIZ or not lesson.quiz:
        raise Problem(VALIDATION, "lesson_id: this lesson is not a quiz", field="lesson_id")
    spec = QuizSpec.model_validate(lesson.quiz)
    try:
        check_answers(spec, body.answers)
    except AnswerRefused as exc:
        raise Problem(VALIDATION, f"{exc.field}: {exc}", field=exc.field) from exc
    used = await session.scalar(select(func.count()).select_from(QuizAttempt).where(
        QuizAttempt.enrollment_id == enrollment.id, QuizAttempt.lesson_id == lesson.id)) or 0
    if row is not None and row.completed_at is not None:
        raise Problem(NO_ATTEMPTS_LEFT, "you passed this quiz already", field="lesson_id")
    if spec.max_attempts is not None and used >= spec.max_attempts:
        raise Problem(NO_ATTEMPTS_LEFT, f"all {spec.max_attempts} attempts at this quiz are used", field="lesson_id")
    update_id = f"quiz:{principal.user_id}:{idempotency_key}" if idempotency_key else None
    answer = await update_enrollment(temporal, enrollment, "submit_quiz", QuizSubmission(
        **actor(request, principal), lesson_id=lesson.id, answers=body.answers), QuizAnswer, update_id=update_id)
    await session.refresh(enrollment)
    return QuizResult(attempt=answer.attempt, attempts_left=answer.attempts_left, graded=answer.graded,
                      enrollment=await enrollment_out(session, enrollment))


# -- media -------------------------------------------------------------------------------------
@router.get(
    "/course-media/{file_id}/content", response_class=Response,
    responses={200: {"description": "the whole file", "content": {KINDS[k].content_type: {} for k in MEDIA_KINDS}},
               206: {"description": "the range asked for (`Range: bytes=start-end`)"},
               416: {"description": "the range lies outside the file"}},
)
async def lesson_media(
    file_id: UUID, session: RawSession, state: State,
    token: Annotated[str, Query(min_length=10, max_length=300, description="from a lesson's media link")],
    range_: Annotated[str | None, Header(alias="Range", max_length=200)] = None,
) -> Response:
    """A lesson's video, audio or file for whoever holds a valid signed link; `Range` requests are
    answered 206 with the bytes asked for, so players can seek."""
    try:
        grant = links_of(state).verify(token, file_id=file_id)
    except LinkError as exc:
        raise Problem(DOWNLOAD_LINK_EXPIRED if exc.reason == "expired" else DOWNLOAD_LINK_INVALID, str(exc),
                      field="token") from exc
    await enter_scope(session, TenantScope.of(grant.tenant_id))
    stored = await session.get(StoredFile, file_id)
    if stored is None or stored.tenant_id != grant.tenant_id:
        raise Problem(NOT_FOUND, "this file no longer exists", field="file_id")
    person = None if grant.user_id == PREVIEW_VIEWER else await session.get(User, grant.user_id)
    staff = person is not None and person.is_active and person.tenant_id == stored.tenant_id \
        and person.role != Role.CLIENT
    if (grant.user_id != PREVIEW_VIEWER and (person is None or not person.is_active)) \
            or not await may_watch(session, stored, grant.user_id, staff=staff):
        raise Problem(DOWNLOAD_LINK_INVALID, "this link's person may no longer watch this lesson", field="token")
    headers = {"Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store",
               "Content-Disposition": "inline"}
    try:
        wanted = parse_range(range_, stored.size_bytes)
    except Unsatisfiable:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{stored.size_bytes}"})
    try:
        data = await storage_of(state).get(stored.storage_key)
    except ObjectMissing as exc:
        log.error("lesson media %s has no stored object at %s", stored.id, stored.storage_key)
        raise Problem(NOT_FOUND, "this media is missing; ask for it to be uploaded again", field="file_id") from exc
    if wanted is None:
        return Response(content=data, media_type=stored.content_type, headers=headers)
    return Response(content=data[wanted.start:wanted.end + 1], status_code=206, media_type=stored.content_type,
                    headers={**headers, "Content-Range": wanted.content_range(stored.size_bytes)})

