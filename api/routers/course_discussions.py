"""A lesson's discussion: clients ask, the consultancy answers; the other side is told.

A client's question notifies the course's consultant (or the owner when the course names none)
with `course.question`; a staff reply notifies the client who asked with `course.reply`. The
messages leave after the commit, through the notifications capability (`Notify` workflow).
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request, status
from sqlalchemy import select

from api.deps import CurrentTenant, Principal, Session, State, require
from api.permissions import Permission
from api.problems import CONFLICT, NOT_FOUND, VALIDATION, Problem
from api.schemas.courses import PostCreate, PostOut
from api.services.courses import LESSON_LOCKED, NOT_ENROLLED, course_of, is_course_staff, live_enrollment, usable
from api.workflow_starts import start_after_commit
from domain.notifications import NOTIFY_WORKFLOW, NotificationRequest, notify_workflow_id
from models.courses import Course, DiscussionPost, EnrollmentLesson, Lesson
from models.identity import Role, User, first_owner_id
from models.tenancy import Tenant
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

router = APIRouter(tags=["courses"])
Learner = Annotated[Principal, require(Permission.LEARN)]
THREAD = "/courses/{course_id}/lessons/{lesson_id}/discussion"


async def _thread(session: Session, tenant: Tenant, principal: Principal, course_id: UUID,
                  lesson_id: UUID) -> tuple[Course, Lesson]:
    """The course and lesson if the caller may read and write its discussion."""
    staff = is_course_staff(principal)
    course = await course_of(session, tenant.id, course_id, published=not staff)
    lesson = await session.get(Lesson, lesson_id)
    if lesson is None or lesson.course_id != course.id or not (lesson.published or staff):
        raise Problem(NOT_FOUND, "this course has no such lesson", field="lesson_id")
    if not course.discussions_enabled:
        raise Problem(CONFLICT, "this course has no discussions", field="course_id")
    if staff:
        return course, lesson
    enrollment = await live_enrollment(session, course.id, principal.user_id)
    if enrollment is None:
        raise Problem(NOT_ENROLLED, "enrol in the course to join its discussions", field="course_id")
    usable(enrollment)
    row = await session.get(EnrollmentLesson, (enrollment.id, lesson.id))
    if (row is None or row.unlocked_at is None) and not lesson.preview:
        raise Problem(LESSON_LOCKED, "this lesson is not open to you yet", field="lesson_id")
    return course, lesson


def _out(post: DiscussionPost, author: User | None, principal: Principal) -> PostOut:
    return PostOut(id=post.id, lesson_id=post.lesson_id, parent_id=post.parent_id,
                   author_name=author.full_name if author else "", author_role=author.role.value if author else "",
                   mine=post.author_id == principal.user_id, body=post.body, created_at=post.created_at)


@router.get(THREAD, response_model=list[PostOut])
async def read_discussion(course_id: UUID, lesson_id: UUID, tenant: CurrentTenant, session: Session,
                          principal: Learner) -> list[PostOut]:
    """The lesson's questions and replies, oldest first (replies name their question in `parent_id`)."""
    _, lesson = await _thread(session, tenant, principal, course_id, lesson_id)
    rows = (await session.execute(select(DiscussionPost, User).join(User, User.id == DiscussionPost.author_id).where(
        DiscussionPost.lesson_id == lesson.id).order_by(DiscussionPost.created_at))).all()
    return [_out(post, author, principal) for post, author in rows]


@router.post(THREAD, status_code=status.HTTP_201_CREATED, response_model=PostOut)
async def post_to_discussion(
    course_id: UUID, lesson_id: UUID, body: PostCreate, request: Request, tenant: CurrentTenant, session: Session,
    state: State, principal: Learner,
) -> PostOut:
    """Ask a question (clients) or answer one (`parent_id`); the other side is notified."""
    course, lesson = await _thread(session, tenant, principal, course_id, lesson_id)
    parent = None
    if body.parent_id is not None:
        parent = await session.get(DiscussionPost, body.parent_id)
        if parent is None or parent.lesson_id != lesson.id:
            raise Problem(VALIDATION, "parent_id: this lesson's discussion has no such post", field="parent_id")
    post = DiscussionPost(tenant_id=tenant.id, course_id=course.id, lesson_id=lesson.id, author_id=principal.user_id,
                          parent_id=parent.id if parent else None, body=body.body)
    session.add(post)
    await session.flush()
    author = await session.get(User, principal.user_id)
    recipient: UUID | None = None
    event = "course.question"
    if principal.role == Role.CLIENT:
        recipient = course.consultant_user_id or await first_owner_id(session, tenant.id)
    elif parent is not None and parent.author_id != principal.user_id:
        recipient, event = parent.author_id, "course.reply"
    if recipient is not None and author is not None:
        url = f"{state.settings.public_base_url}/api/v1/courses/{course.id}/lessons/{lesson.id}/discussion"
        key = f"course-post:{post.id}"
        await start_after_commit(
            request, session, state, workflow_type=NOTIFY_WORKFLOW, workflow_id=notify_workflow_id(key),
            payload=NotificationRequest(dedupe_key=key, tenant_id=tenant.id, recipient_user_id=recipient, event=event,
                                        variables={"author_name": author.full_name, "course_title": course.title,
                                                   "lesson_title": lesson.title, "text": post.body[:1000],
                                                   "thread_url": url},
                                        data={"link": url, "post_id": str(post.id)}),
            tenant_id=tenant.id, search_attributes={ENTITY_STATUS.name: "sending", TENANT_ID.name: str(tenant.id)},
            memo={"summary": f"{event} for lesson {lesson.id}"})
    return _out(post, author, principal)
