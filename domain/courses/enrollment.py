"""The Enrollment workflow's contract: statuses, input, state, updates, signals and activities.

`enrollment-<enrollment id>` carries one client's enrolment in one course from enrolment to the
end of access. An enrolment bought through an order has the order line's id as its id, so the
line, the enrolment row and the workflow share one id. The workflow carries ids, instants,
counts and lesson titles (course content, not personal data); names and emails stay in
PostgreSQL.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from domain.courses.quiz import Graded
from domain.outbox import PostedMessage

ENROLLMENT_WORKFLOW = "Enrollment"
INACTIVITY_NUDGE_AFTER = timedelta(days=7)
NEXT_UNLOCKS_SHOWN = 5


def enrollment_workflow_id(enrollment_id: UUID | str) -> str:
    return f"enrollment-{enrollment_id}"


class EnrollmentStatus(enum.StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"   # every required lesson done and the final assessment passed: certificate issued
    EXPIRED = "expired"       # access ran out (it may be extended)
    REVOKED = "revoked"       # refunded, or ended by staff


LIVE = frozenset({EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED})


class EnrollmentSource(enum.StrEnum):
    FREE = "free"      # a free course, the client enrolled themselves
    ORDER = "order"    # bought (an order line of kind `enrollment`; a 100 % coupon makes it free)
    STAFF = "staff"    # enrolled by the consultancy
    MEMBERSHIP = "membership"  # a membership plan's course: access ends with the membership


class EnrollmentInput(BaseModel):
    enrollment_id: UUID
    tenant_id: UUID
    client_id: UUID
    course_ref: UUID = Field(description="the course, or one of its cohorts (an order line's ref_id)")
    source: EnrollmentSource
    order_id: UUID | None = None
    resume: EnrollmentState | None = None   # carried over by continue-as-new


class UpcomingLesson(BaseModel):
    lesson_id: UUID
    title: str
    opens_at: datetime | None = None
    waiting_for: str | None = None


class OpenedLesson(BaseModel):
    lesson_id: UUID
    title: str


class Synced(BaseModel):
    """What one look at the enrolment found and did (the sync activity's answer)."""

    status: EnrollmentStatus
    course_id: UUID
    course_title: str
    opened_now: list[OpenedLesson] = Field(default_factory=list)
    unlocked: int = 0
    total: int = 0
    completed: int = 0
    percent: int = 0
    next_unlock_at: datetime | None = None
    upcoming: list[UpcomingLesson] = Field(default_factory=list)
    expires_at: datetime | None = None
    last_activity_at: datetime | None = None
    completed_now: bool = False
    certificate_code: str | None = None
    all_done: bool = False


class EnrollmentState(BaseModel):
    """The `state` query: what the support console shows."""

    enrollment_id: UUID
    course_id: UUID | None = None
    course_title: str = ""
    client_id: UUID
    status: EnrollmentStatus = EnrollmentStatus.ACTIVE
    source: EnrollmentSource
    unlocked: int = 0
    total: int = 0
    completed: int = 0
    percent: int = 0
    next_unlock_at: datetime | None = None
    upcoming: list[UpcomingLesson] = Field(default_factory=list)
    expires_at: datetime | None = None
    last_activity_at: datetime | None = None
    nudged_for: datetime | None = Field(None, description="the last activity the latest nudge was about")
    nudges: int = 0
    certificate_code: str | None = None
    ended_reason: str | None = None
    ended_at: datetime | None = None
    syncs: int = 0
    messages: list[PostedMessage] = Field(default_factory=list,
                                          description="the latest messages: sending, sent or failed, and why")

    def apply(self, synced: Synced) -> list[OpenedLesson]:
        self.status = synced.status
        self.course_id, self.course_title = synced.course_id, synced.course_title
        self.unlocked, self.total, self.completed, self.percent = (synced.unlocked, synced.total, synced.completed,
                                                                   synced.percent)
        self.next_unlock_at, self.upcoming = synced.next_unlock_at, synced.upcoming
        self.expires_at, self.last_activity_at = synced.expires_at, synced.last_activity_at
        self.certificate_code = synced.certificate_code or self.certificate_code
        self.syncs += 1
        return synced.opened_now


# -- updates and signals -----------------------------------------------------------------------
class Actor(BaseModel):
    actor_user_id: UUID | None = None
    actor_role: str | None = None
    request_id: str | None = None
    ip: str | None = None


class CompleteLesson(Actor):
    lesson_id: UUID


class QuizSubmission(Actor):
    lesson_id: UUID
    answers: dict[str, list[str]]


class QuizAnswer(BaseModel):
    """`submit_quiz`'s answer: the graded attempt and the enrolment as it now is."""

    attempt: int
    attempts_left: int | None
    graded: Graded
    state: EnrollmentState


class EarlyAccess(Actor):
    lesson_ids: list[UUID] = Field(min_length=1, max_length=200)
    reason: str | None = Field(None, max_length=500)


class ExtendAccess(Actor):
    expires_at: AwareDatetime
    reason: str | None = Field(None, max_length=500)


class EndAccess(Actor):
    """Signal `revoke` (and the revoke activity): access ends now (refund, staff)."""

    reason: str = Field(min_length=1, max_length=500)


# -- activities --------------------------------------------------------------------------------
class EnrollmentRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    enrollment_id: UUID


class Begin(BaseModel):
    ref: EnrollmentRef
    inp: EnrollmentInput
    at: datetime


class Sync(BaseModel):
    ref: EnrollmentRef
    at: datetime


class LessonStep(BaseModel):
    ref: EnrollmentRef
    at: datetime
    request: CompleteLesson


class QuizStep(BaseModel):
    ref: EnrollmentRef
    at: datetime
    request: QuizSubmission
    key: str   # the attempt's idempotency key (the update's id)


class QuizStepResult(BaseModel):
    attempt: int
    attempts_left: int | None
    graded: Graded
    synced: Synced


class EarlyStep(BaseModel):
    ref: EnrollmentRef
    at: datetime
    request: EarlyAccess


class ExtendStep(BaseModel):
    ref: EnrollmentRef
    at: datetime
    request: ExtendAccess


class EndStep(BaseModel):
    tenant_id: UUID
    enrollment_id: UUID
    at: datetime
    status: EnrollmentStatus          # REVOKED or EXPIRED
    request: EndAccess


class NudgeCheck(BaseModel):
    ref: EnrollmentRef
    at: datetime


class NudgeFinding(BaseModel):
    last_activity_at: datetime | None = None
    quiet_until: datetime | None = None
    due: bool = False   # inactive for the whole gap, not nudged for it, outside quiet hours


class CourseNotice(BaseModel):
    ref: EnrollmentRef
    step: str
    event: str                     # course.enrolled, course.unlocked, course.unlocked_digest, course.nudge
    lessons: list[OpenedLesson] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)


class CertificateStep(BaseModel):
    ref: EnrollmentRef
    code: str


BEGIN = "courses.begin"
SYNC = "courses.sync"
COMPLETE_LESSON = "courses.complete_lesson"
GRADE_QUIZ = "courses.grade_quiz"
EARLY_ACCESS = "courses.early_access"
EXTEND_ACCESS = "courses.extend_access"
END_ACCESS = "courses.end_access"
CHECK_INACTIVITY = "courses.check_inactivity"
NOTIFY = "courses.notify"
ISSUE_CERTIFICATE = "courses.issue_certificate"
# ApplicationError types the API maps to problems
LESSON_LOCKED_ERROR = "LessonLocked"
NO_ATTEMPTS_LEFT_ERROR = "NoAttemptsLeft"


def summary(state: EnrollmentState) -> str:
    """The memo's human summary: course title, status and progress (no personal data)."""
    text = f"{state.course_title or 'Course'}: {state.status.value}, {state.percent} % done, " \
           f"{state.unlocked}/{state.total} lessons open"
    if state.next_unlock_at and state.status == EnrollmentStatus.ACTIVE:
        text += f", next {state.next_unlock_at:%Y-%m-%d %H:%M} UTC"
    return text


EnrollmentInput.model_rebuild()
