"""/courses, /course-modules, /lessons: staff build courses (content, order, publishing, media).

Every change is audited. Changes that can move a drip date (publishing a lesson, a drip rule,
the final assessment) tell the course's live enrolments to re-plan (`replan`, after the commit).
Cohorts and completion figures are in `api/routers/course_cohorts.py`.
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentTenant, Principal, Session, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import ALREADY_EXISTS, CONFLICT, VALIDATION, Problem
from api.schemas.courses import (
    CourseCreate,
    CourseDetail,
    CourseOut,
    CourseStatus,
    CourseUpdate,
    LessonCreate,
    LessonKind,
    LessonOut,
    LessonUpdate,
    ModuleCreate,
    ModuleOut,
    ModuleUpdate,
    OutlineOrder,
)
from api.services.course_content import (
    LESSON_MEDIA,
    audit,
    course_detail,
    place,
    replan_course,
    store_media,
)
from api.services.courses import course_of, lesson_of, module_of
from api.services.files import multipart_body
from domain.courses.markdown import render_markdown
from models.courses import Course, CourseModule, Enrollment, EnrollmentLesson, Lesson
from models.identity import Role, User

router = APIRouter(tags=["courses"])
Staff = Annotated[Principal, require(Permission.MANAGE_COURSES)]
NULLABLE_COURSE = {"summary", "description_md", "consultant_user_id", "access_days", "final_assessment_id"}
NULLABLE_LESSON = {"body_md", "drip", "duration_seconds", "quiz"}


async def _teacher(session: Session, tenant_id: UUID, user_id: UUID | None) -> None:
    if user_id is None:
        return
    user = await session.get(User, user_id)
    if user is None or user.tenant_id != tenant_id or user.role not in (Role.OWNER, Role.CONSULTANT):
        raise Problem(VALIDATION, "consultant_user_id: this consultancy has no consultant with this user id",
                      field="consultant_user_id")


# -- courses -----------------------------------------------------------------------------------
@router.post("/courses", status_code=status.HTTP_201_CREATED, response_model=CourseOut)
async def create_course(body: CourseCreate, tenant: CurrentTenant, session: Session, principal: Staff) -> CourseOut:
    """A new course, as a draft: add modules and lessons, then publish it."""
    await _teacher(session, tenant.id, body.consultant_user_id)
    course = Course(tenant_id=tenant.id, status=CourseStatus.DRAFT.value, **body.model_dump())
    try:
        async with session.begin_nested():
            session.add(course)
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, f"a course is already called '{body.slug}'", field="slug") from exc
    await audit(session, principal, "course.created", "course", course.id, {"slug": course.slug})
    return CourseOut.model_validate(course)


@router.get("/courses", response_model=Page[CourseOut])
async def list_courses(
    tenant: CurrentTenant, session: Session, paging: Paging, principal: Staff,
    status_: Annotated[CourseStatus | None, Query(alias="status")] = None,
) -> Page[CourseOut]:
    """Every course of the consultancy, drafts included (clients see `/course-catalogue`)."""
    stmt = select(Course).where(Course.tenant_id == tenant.id)
    if status_:
        stmt = stmt.where(Course.status == status_.value)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": Course.created_at,
                                                                   "title": Course.title},
                                  default_sort="-created_at", id_column=Course.id)
    return Page[CourseOut](items=[CourseOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/courses/{course_id}", response_model=CourseDetail)
async def read_course(course_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> CourseDetail:
    """The course with every module, lesson (quiz answer keys included) and cohort."""
    return await course_detail(session, await course_of(session, tenant.id, course_id))


@router.patch("/courses/{course_id}", response_model=CourseOut)
async def update_course(
    course_id: UUID, body: CourseUpdate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> CourseOut:
    """Change a course; `status` publishes (it needs a published lesson), unpublishes or archives it."""
    course = await course_of(session, tenant.id, course_id)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in NULLABLE_COURSE:
            raise Problem(VALIDATION, f"{name} cannot be empty", field=name)
    if "consultant_user_id" in changes:
        await _teacher(session, tenant.id, changes["consultant_user_id"])
    if changes.get("final_assessment_id") is not None:
        quiz = await session.get(Lesson, changes["final_assessment_id"])
        if quiz is None or quiz.course_id != course.id or quiz.kind != LessonKind.QUIZ:
            raise Problem(VALIDATION, "final_assessment_id: name a quiz lesson of this course",
                          field="final_assessment_id")
    if changes.get("status") == CourseStatus.PUBLISHED:
        published = await session.scalar(select(func.count()).select_from(Lesson).where(
            Lesson.course_id == course.id, Lesson.published.is_(True)))
        if not published:
            raise Problem(VALIDATION, "status: publish at least one lesson before the course", field="status")
    for name, value in changes.items():
        setattr(course, name, value.value if isinstance(value, CourseStatus) else value)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Problem(ALREADY_EXISTS, f"a course is already called '{course.slug}'", field="slug") from exc
    await audit(session, principal, "course.updated", "course", course.id,
                {"fields": sorted(changes), **({"status": course.status} if "status" in changes else {})})
    if {"final_assessment_id", "release_time"} & set(changes):
        await replan_course(request, session, state, course)
    await session.refresh(course)
    return CourseOut.model_validate(course)


@router.delete("/courses/{course_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_course(course_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> None:
    """Delete a course nobody ever enrolled in (otherwise archive it: enrolments keep their history)."""
    course = await course_of(session, tenant.id, course_id)
    if await session.scalar(select(func.count()).select_from(Enrollment).where(Enrollment.course_id == course.id)):
        raise Problem(CONFLICT, "clients have enrolled in this course: archive it instead (status 'archived')",
                      field="course_id")
    await audit(session, principal, "course.deleted", "course", course.id, {"slug": course.slug})
    await session.delete(course)
    await session.flush()


@router.put("/courses/{course_id}/outline", response_model=CourseDetail)
async def order_outline(
    course_id: UUID, body: OutlineOrder, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> CourseDetail:
    """Put every module and every lesson in order (lessons may move between modules)."""
    course = await course_of(session, tenant.id, course_id)
    modules = {m.id: m for m in (await session.execute(select(CourseModule).where(
        CourseModule.course_id == course.id))).scalars()}
    lessons = {x.id: x for x in (await session.execute(select(Lesson).where(Lesson.course_id == course.id))).scalars()}
    named = [m.module_id for m in body.modules]
    if set(named) != set(modules) or len(named) != len(modules):
        raise Problem(VALIDATION, "modules: list each module of this course exactly once", field="modules")
    named_lessons = [lesson_id for m in body.modules for lesson_id in m.lesson_ids]
    if set(named_lessons) != set(lessons) or len(named_lessons) != len(lessons):
        raise Problem(VALIDATION, "modules: list each lesson of this course exactly once", field="modules")
    for m_position, item in enumerate(body.modules):
        modules[item.module_id].position = m_position
        for position, lesson_id in enumerate(item.lesson_ids):
            lessons[lesson_id].module_id, lessons[lesson_id].position = item.module_id, position
    await session.flush()
    await audit(session, principal, "course.reordered", "course", course.id, {})
    await replan_course(request, session, state, course)
    return await course_detail(session, course)


# -- modules -----------------------------------------------------------------------------------
@router.post("/courses/{course_id}/modules", status_code=status.HTTP_201_CREATED, response_model=ModuleOut)
async def create_module(
    course_id: UUID, body: ModuleCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> ModuleOut:
    course = await course_of(session, tenant.id, course_id)
    module = CourseModule(tenant_id=tenant.id, course_id=course.id, title=body.title,
                          drip=body.drip.model_dump(mode="json", exclude_defaults=True) if body.drip else None)
    session.add(module)
    await session.flush()
    siblings = list((await session.execute(select(CourseModule).where(CourseModule.course_id == course.id).order_by(
        CourseModule.position, CourseModule.created_at))).scalars())
    place(siblings, module, body.position)
    await session.flush()
    await audit(session, principal, "course.module_created", "course_module", module.id, {"course_id": str(course.id)})
    return ModuleOut.model_validate(module)


@router.patch("/course-modules/{module_id}", response_model=ModuleOut)
async def update_module(
    module_id: UUID, body: ModuleUpdate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> ModuleOut:
    """Rename, move (`position`) or change the drip rule of a module; its enrolments re-plan."""
    module = await module_of(session, tenant.id, module_id)
    changes = body.model_dump(exclude_unset=True)
    if "title" in changes:
        if body.title is None:
            raise Problem(VALIDATION, "title cannot be empty", field="title")
        module.title = body.title
    if "drip" in changes:
        module.drip = body.drip.model_dump(mode="json", exclude_defaults=True) if body.drip else None
    if body.position is not None:
        siblings = list((await session.execute(select(CourseModule).where(
            CourseModule.course_id == module.course_id).order_by(CourseModule.position, CourseModule.created_at)
        )).scalars())
        place(siblings, module, body.position)
    elif "position" in changes:
        raise Problem(VALIDATION, "position cannot be empty", field="position")
    await session.flush()
    await audit(session, principal, "course.module_updated", "course_module", module.id, {"fields": sorted(changes)})
    course = await course_of(session, tenant.id, module.course_id)
    await replan_course(request, session, state, course)
    lessons = list((await session.execute(select(Lesson).where(Lesson.module_id == module.id).order_by(
        Lesson.position))).scalars())
    return ModuleOut(**ModuleOut.model_validate(module).model_dump(exclude={"lessons"}),
                     lessons=[LessonOut.model_validate(x) for x in lessons])


@router.delete("/course-modules/{module_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_module(module_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> None:
    """Delete an empty module (move or delete its lessons first)."""
    module = await module_of(session, tenant.id, module_id)
    if await session.scalar(select(func.count()).select_from(Lesson).where(Lesson.module_id == module.id)):
        raise Problem(CONFLICT, "this module still holds lessons: move or delete them first", field="module_id")
    await audit(session, principal, "course.module_deleted", "course_module", module.id, {})
    await session.delete(module)
    await session.flush()


# -- lessons -----------------------------------------------------------------------------------
@router.post("/course-modules/{module_id}/lessons", status_code=status.HTTP_201_CREATED, response_model=LessonOut)
async def create_lesson(
    module_id: UUID, body: LessonCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> LessonOut:
    """A lesson: text (Markdown), video, audio, a downloadable file (upload its media next) or a quiz."""
    module = await module_of(session, tenant.id, module_id)
    fields: dict[str, Any] = body.model_dump(exclude={"position", "drip", "quiz", "kind"})
    lesson = Lesson(tenant_id=tenant.id, course_id=module.course_id, module_id=module.id, kind=body.kind.value,
                    **fields, drip=body.drip.model_dump(mode="json", exclude_defaults=True) if body.drip else None,
                    quiz=body.quiz.model_dump(mode="json") if body.quiz else None,
                    body_html=render_markdown(body.body_md) if body.body_md else None)
    if lesson.published and body.kind in LESSON_MEDIA:
        raise Problem(VALIDATION, f"published: upload the {body.kind.value} first (POST /lessons/{{id}}/media), "
                      "then publish", field="published")
    session.add(lesson)
    await session.flush()
    siblings = list((await session.execute(select(Lesson).where(Lesson.module_id == module.id).order_by(
        Lesson.position, Lesson.created_at))).scalars())
    place(siblings, lesson, body.position)
    await session.flush()
    await audit(session, principal, "course.lesson_created", "lesson", lesson.id, {"kind": lesson.kind})
    if lesson.published:
        await replan_course(request, session, state, await course_of(session, tenant.id, module.course_id))
    return LessonOut.model_validate(lesson)


@router.get("/lessons/{lesson_id}", response_model=LessonOut)
async def read_lesson(lesson_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> LessonOut:
    """A lesson as staff edit it (a quiz with its answer key)."""
    return LessonOut.model_validate(await lesson_of(session, tenant.id, lesson_id))


@router.patch("/lessons/{lesson_id}", response_model=LessonOut)
async def update_lesson(
    lesson_id: UUID, body: LessonUpdate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Staff,
) -> LessonOut:
    """Change a lesson; publishing or a new drip rule re-plans the course's enrolments."""
    lesson = await lesson_of(session, tenant.id, lesson_id)
    changes = body.model_dump(exclude_unset=True)
    for name, value in changes.items():
        if value is None and name not in NULLABLE_LESSON:
            raise Problem(VALIDATION, f"{name} cannot be empty", field=name)
    if "quiz" in changes and lesson.kind != LessonKind.QUIZ and body.quiz is not None:
        raise Problem(VALIDATION, f"quiz: a {lesson.kind} lesson has no quiz", field="quiz")
    if "quiz" in changes and lesson.kind == LessonKind.QUIZ and body.quiz is None:
        raise Problem(VALIDATION, "quiz cannot be empty in a quiz lesson", field="quiz")
    if body.published and lesson.kind in LESSON_MEDIA and lesson.file_id is None:
        raise Problem(VALIDATION, f"published: upload the {lesson.kind} first (POST /lessons/{lesson.id}/media)",
                      field="published")
    if body.module_id is not None and body.module_id != lesson.module_id:
        target = await module_of(session, tenant.id, body.module_id)
        if target.course_id != lesson.course_id:
            raise Problem(VALIDATION, "module_id: name a module of the same course", field="module_id")
        lesson.module_id = target.id
        lesson.position = 1 + (await session.scalar(select(func.max(Lesson.position)).where(
            Lesson.module_id == target.id)) or 0)
    for name in ("title", "preview", "required", "published", "duration_seconds"):
        if name in changes:
            setattr(lesson, name, changes[name])
    if "body_md" in changes:
        lesson.body_md = body.body_md
        lesson.body_html = render_markdown(body.body_md) if body.body_md else None
    if "drip" in changes:
        lesson.drip = body.drip.model_dump(mode="json", exclude_defaults=True) if body.drip else None
    if "quiz" in changes and body.quiz is not None:
        lesson.quiz = body.quiz.model_dump(mode="json")
    await session.flush()
    await audit(session, principal, "course.lesson_updated", "lesson", lesson.id, {"fields": sorted(changes)})
    if {"published", "drip", "module_id", "required"} & set(changes):
        await replan_course(request, session, state, await course_of(session, tenant.id, lesson.course_id))
    return LessonOut.model_validate(lesson)


@router.delete("/lessons/{lesson_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_lesson(lesson_id: UUID, tenant: CurrentTenant, session: Session, principal: Staff) -> None:
    """Delete a lesson no client has opened yet (otherwise unpublish it: progress keeps its history)."""
    lesson = await lesson_of(session, tenant.id, lesson_id)
    opened = await session.scalar(select(func.count()).select_from(EnrollmentLesson).where(
        EnrollmentLesson.lesson_id == lesson.id, EnrollmentLesson.unlocked_at.is_not(None)))
    if opened:
        raise Problem(CONFLICT, "clients have opened this lesson: unpublish it instead", field="lesson_id")
    course = await course_of(session, tenant.id, lesson.course_id)
    if course.final_assessment_id == lesson.id:
        course.final_assessment_id = None
    await audit(session, principal, "course.lesson_deleted", "lesson", lesson.id, {"title": lesson.title})
    await session.delete(lesson)
    await session.flush()


@router.post("/lessons/{lesson_id}/media", response_model=LessonOut,
             openapi_extra=multipart_body("video (MP4, WebM), audio (MP3, M4A, Ogg, WAV) or, for a file lesson, "
                                          "a PDF or picture; recognised by its content"))
async def upload_media(
    lesson_id: UUID, request: Request, tenant: CurrentTenant, session: Session, state: State, principal: Staff,
) -> LessonOut:
    """Upload the lesson's video, audio or downloadable file (multipart, part `file`); it replaces any before."""
    lesson = await lesson_of(session, tenant.id, lesson_id)
    stored = await store_media(request, session, state, lesson, principal)
    lesson.file_id = stored.id
    await session.flush()
    await audit(session, principal, "course.media_uploaded", "lesson", lesson.id,
                {"file_id": str(stored.id), "kind": stored.kind.value, "size_bytes": stored.size_bytes})
    return LessonOut.model_validate(lesson)
