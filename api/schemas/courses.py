"""Schemas of courses: content (staff), the catalogue and enrolments (clients), certificates (public).

Lengths and nullability follow the columns of `models/courses.py`. Staff views carry a quiz's
answer key; nothing a client receives before submitting an attempt does (`PublicQuiz`).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.identity import Strict
from domain.courses.drip import DripRule
from domain.courses.enrollment import EnrollmentState
from domain.courses.markdown import MAX_MARKDOWN
from domain.courses.quiz import Graded, PublicQuiz, QuizSpec

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
CourseSlug = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True,
                                              max_length=80, pattern=r"^[a-z0-9](?:[a-z0-9-]{0,78}[a-z0-9])?$")]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Markdown = Annotated[str, StringConstraints(max_length=MAX_MARKDOWN)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
CohortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Position = Annotated[int, Field(ge=0, le=100_000)]
Seconds = Annotated[int, Field(ge=0, le=1_000_000)]


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class LessonKind(enum.StrEnum):
    TEXT = "text"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    QUIZ = "quiz"


# -- staff: content ----------------------------------------------------------------------------
class CourseCreate(Strict):
    slug: CourseSlug = Field(description="the course's address on the public page, unique in the consultancy")
    title: Title
    summary: Summary | None = None
    description_md: Markdown | None = Field(None, description="Markdown; rendered safely")
    consultant_user_id: UUID | None = Field(None, description="who teaches it and answers its discussions "
                                                              "(a consultant's or the owner's user id)")
    price_minor: int = Field(0, ge=0, le=10**12, description="0: free; else bought through an order")
    currency: str = Field("INR", pattern=r"^[A-Z]{3}$", max_length=3)
    access_days: int | None = Field(None, ge=1, le=3650, description="access ends this many days after enrolment; "
                                                                     "null: for ever")
    discussions_enabled: bool = True
    release_time: time = Field(time(8, 0), description="when drip lessons open, on each client's own clock")


class CourseUpdate(Strict):
    slug: CourseSlug | None = None
    title: Title | None = None
    summary: Summary | None = None
    description_md: Markdown | None = None
    consultant_user_id: UUID | None = None
    price_minor: int | None = Field(None, ge=0, le=10**12)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", max_length=3)
    access_days: int | None = Field(None, ge=1, le=3650)
    discussions_enabled: bool | None = None
    release_time: time | None = None
    final_assessment_id: UUID | None = Field(None, description="a quiz lesson of this course that must be passed")
    status: CourseStatus | None = Field(None, description="publish (needs a published lesson), unpublish "
                                                          "(draft) or archive")


class ModuleCreate(Strict):
    title: Title
    drip: DripRule | None = Field(None, description="when the module's lessons open (see docs/courses.md)")
    position: Position | None = Field(None, description="default: after the last module")


class ModuleUpdate(Strict):
    title: Title | None = None
    drip: DripRule | None = None
    position: Position | None = None


class LessonCreate(Strict):
    title: Title
    kind: LessonKind
    body_md: Markdown | None = Field(None, description="Markdown (text lessons; notes under media)")
    preview: bool = Field(False, description="open to anyone, enrolled or not")
    required: bool = Field(True, description="counts towards completion")
    published: bool = False
    drip: DripRule | None = None
    duration_seconds: Seconds | None = None
    quiz: QuizSpec | None = Field(None, description="a quiz lesson's questions, answer key, pass mark, attempts")
    position: Position | None = Field(None, description="default: after the module's last lesson")

    @model_validator(mode="after")
    def _quiz_for_quizzes(self) -> LessonCreate:
        if self.kind == LessonKind.QUIZ and self.quiz is None:
            raise ValueError("a quiz lesson needs its quiz (questions, answer key, pass mark)")
        if self.kind != LessonKind.QUIZ and self.quiz is not None:
            raise ValueError(f"a {self.kind.value} lesson has no quiz; make it kind 'quiz'")
        return self


class LessonUpdate(Strict):
    title: Title | None = None
    body_md: Markdown | None = None
    preview: bool | None = None
    required: bool | None = None
    published: bool | None = None
    drip: DripRule | None = None
    duration_seconds: Seconds | None = None
    quiz: QuizSpec | None = None
    module_id: UUID | None = Field(None, description="move it to another module of the course (at its end)")


class OutlineModule(Strict):
    module_id: UUID
    lesson_ids: list[UUID] = Field(max_length=500)


class OutlineOrder(Strict):
    """Every module of the course, in the new order, each with every lesson it is to hold, in order."""

    modules: list[OutlineModule] = Field(min_length=1, max_length=200)


class CohortCreate(Strict):
    name: CohortName
    starts_on: date = Field(description="the cohort's day 0 (each client's own calendar date)")


class CohortUpdate(Strict):
    name: CohortName | None = None
    starts_on: date | None = Field(None, description="moving it re-plans every enrolment of the cohort at once")
    reason: Reason | None = None


class LessonOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    module_id: UUID
    title: str
    kind: LessonKind
    position: int
    published: bool
    preview: bool
    required: bool
    drip: dict[str, Any] | None
    body_md: str | None
    body_html: str | None
    file_id: UUID | None
    duration_seconds: int | None
    quiz: dict[str, Any] | None = Field(description="staff only: with the answer key")


class ModuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    title: str
    position: int
    drip: dict[str, Any] | None
    lessons: list[LessonOut] = Field(default_factory=list)


class CohortOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    course_id: UUID
    name: str
    starts_on: date
    enrolments: int = 0


class CourseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    slug: str
    title: str
    summary: str | None
    description_md: str | None
    status: CourseStatus
    consultant_user_id: UUID | None
    price_minor: int
    currency: str
    access_days: int | None
    discussions_enabled: bool
    release_time: time
    final_assessment_id: UUID | None
    created_at: datetime
    updated_at: datetime


class CourseDetail(CourseOut):
    modules: list[ModuleOut]
    cohorts: list[CohortOut]


class LessonFigure(BaseModel):
    lesson_id: UUID
    title: str
    completed: int


class CompletionFigures(BaseModel):
    """For the analytics dashboard: how far the course's clients got."""

    course_id: UUID
    enrolments: int
    by_status: dict[str, int]
    completed: int
    completion_rate_percent: int = Field(description="completed of all enrolments ever made, rounded down")
    average_progress_percent: int = Field(description="mean progress of live (active or completed) enrolments")
    certificates_issued: int
    certificates_revoked: int
    lessons: list[LessonFigure]


# -- the catalogue (clients and the public page) -----------------------------------------------
class OutlineLessonOut(BaseModel):
    id: UUID
    title: str
    kind: LessonKind
    preview: bool
    duration_seconds: int | None


class OutlineModuleOut(BaseModel):
    id: UUID
    title: str
    lessons: list[OutlineLessonOut]


class PublicCohort(BaseModel):
    id: UUID
    name: str
    starts_on: date


class CatalogueCourse(BaseModel):
    id: UUID
    slug: str
    title: str
    summary: str | None
    description_html: str | None
    price_minor: int
    currency: str
    free: bool
    access_days: int | None
    lessons: int
    modules: list[OutlineModuleOut]
    cohorts: list[PublicCohort] = Field(description="cohorts not yet started")
    enrollment_id: UUID | None = Field(None, description="the caller's live enrolment in it, if any")


class PublicCatalogue(BaseModel):
    slug: str
    name: str
    courses: list[CatalogueCourse]


class EnrolBody(Strict):
    cohort_id: UUID | None = Field(None, description="join this cohort of the course")
    coupon_code: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=3,
                                                  max_length=40)] | None = Field(
        None, description="a paid course: a coupon; one that covers the whole price enrols at once")


class StaffEnrolBody(Strict):
    client_id: UUID
    course_id: UUID
    cohort_id: UUID | None = None


# -- enrolments and progress -------------------------------------------------------------------
class LessonProgress(BaseModel):
    lesson_id: UUID
    title: str
    kind: LessonKind
    required: bool
    state: Literal["open", "locked", "completed"]
    unlocked_at: datetime | None
    opens_at: datetime | None = Field(description="a locked lesson: when its time condition holds")
    waiting_for: str | None = Field(description="a locked lesson: what the client must do first")
    completed_at: datetime | None
    position_seconds: int | None


class ModuleProgress(BaseModel):
    module_id: UUID
    title: str
    completed: int
    required: int
    percent: int
    lessons: list[LessonProgress]


class CertificateOut(BaseModel):
    code: str
    client_name: str
    course_title: str
    issued_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None
    file_id: UUID | None = Field(description="the PDF, once rendered")
    download_url: str | None = Field(None, description="a signed link to the PDF (when asked for)")
    verify_url: str


class Resume(BaseModel):
    lesson_id: UUID
    title: str
    position_seconds: int | None


class EnrollmentOut(BaseModel):
    id: UUID
    course_id: UUID
    course_title: str
    client_id: UUID
    cohort_id: UUID | None
    status: str
    source: str
    order_id: UUID | None
    enrolled_at: datetime
    expires_at: datetime | None
    completed_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    timezone: str
    last_activity_at: datetime | None
    workflow_id: str
    completed: int
    required: int
    percent: int


class EnrollmentView(EnrollmentOut):
    modules: list[ModuleProgress]
    resume: Resume | None = Field(description="where to pick up: the last lesson viewed and not done")
    certificate: CertificateOut | None
    workflow: EnrollmentState | None = Field(None, description="staff: the live workflow's state")


class EnrolmentStarted(BaseModel):
    """A client's enrolment: made (free, or a coupon paid it all) or waiting for the order's payment."""

    enrollment_id: UUID
    status: Literal["enrolled", "awaiting_payment"]
    order_id: UUID | None = None
    amount_due: int = 0
    currency: str


class EarlyAccessBody(Strict):
    lesson_ids: list[UUID] = Field(min_length=1, max_length=200)
    reason: Reason | None = None


class ExtendBody(Strict):
    expires_at: AwareDatetime
    reason: Reason | None = None


class RevokeBody(Strict):
    reason: Reason


# -- lessons as a client takes them ------------------------------------------------------------
class MediaLink(BaseModel):
    url: str = Field(description="signed; supports HTTP range requests (players can seek)")
    expires_at: datetime
    content_type: str
    name: str
    size_bytes: int


class AttemptOut(BaseModel):
    number: int
    score_percent: int
    passed: bool
    created_at: datetime
    graded: Graded


class LessonContent(BaseModel):
    lesson_id: UUID
    module_id: UUID
    title: str
    kind: LessonKind
    body_html: str | None
    duration_seconds: int | None
    media: MediaLink | None
    quiz: PublicQuiz | None = Field(description="the questions, never the answers")
    attempts: list[AttemptOut] = Field(default_factory=list)
    attempts_left: int | None = None
    completed_at: datetime | None = None
    position_seconds: int | None = None
    discussions_enabled: bool = False


class PositionBody(Strict):
    position_seconds: Seconds


class NoteCreate(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
    position_seconds: Seconds | None = Field(None, description="where in the video or audio the note belongs")


class NoteOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    lesson_id: UUID
    body: str
    position_seconds: int | None
    created_at: datetime


class QuizAttemptBody(Strict):
    answers: dict[Annotated[str, StringConstraints(max_length=20)],
                  list[Annotated[str, StringConstraints(max_length=20)]]] = Field(
        max_length=100, description="question id -> the chosen option ids")


class QuizResult(BaseModel):
    attempt: int
    attempts_left: int | None
    graded: Graded = Field(description="right options and explanations only once passed or out of attempts")
    enrollment: EnrollmentOut


class PostCreate(Strict):
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    parent_id: UUID | None = Field(None, description="the question this answers")


class PostOut(BaseModel):
    id: UUID
    lesson_id: UUID
    parent_id: UUID | None
    author_name: str
    author_role: str
    mine: bool
    body: str
    created_at: datetime


class CertificateCheck(BaseModel):
    """What the public verification page shows (no account needed)."""

    code: str
    status: Literal["valid", "revoked"]
    valid: bool
    client_name: str
    course_title: str
    consultancy: str
    issued_at: datetime
    revoked_at: datetime | None = None
