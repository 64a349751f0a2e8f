"""When each lesson of an enrolment opens: the drip rules and the pure planner.

A rule sits on a module (it holds for every lesson of it) or on a lesson; a lesson opens when
its module's rule and its own both hold. A rule has at most one *time* condition and any number
of *gates*:

- `days_after_enrolment: N` — the client's local date of enrolment + N days, at the course's
  release time on the client's clock (N = 0: at enrolment);
- `cohort_day: N` — the cohort's start date + N days, at the release time on the client's clock
  (a client without a cohort counts from their enrolment date; a day already past opens at once);
- `on_date: D` — the calendar date D, at the release time on the client's clock;
- `after_previous: true` — once the lesson before it (in course order) is completed;
- `after_quiz_lesson_id: Q` — once the quiz lesson Q is passed.

Times are wall-clock times in an IANA zone, resolved DST-correctly (a release time skipped by a
clock change opens at the end of the gap). A lesson once opened is never locked again, whatever
later edits or cohort moves say; staff may open one early for one client (`early`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator

from domain.notifications import _utc_candidates

DEFAULT_RELEASE_TIME = time(8, 0)


class DripRule(BaseModel):
    """A module's or lesson's release rule (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")

    days_after_enrolment: int | None = Field(None, ge=0, le=3650)
    cohort_day: int | None = Field(None, ge=0, le=3650)
    on_date: date | None = None
    after_previous: bool = False
    after_quiz_lesson_id: UUID | None = None

    @model_validator(mode="after")
    def _one_time_condition(self) -> DripRule:
        given = [name for name in ("days_after_enrolment", "cohort_day", "on_date") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"a rule has at most one time condition; this one has {' and '.join(given)}")
        return self


class OutlineLesson(BaseModel):
    """One lesson as the planner sees it, in course order."""

    lesson_id: UUID
    module_id: UUID
    title: str
    kind: str
    required: bool = True
    module_rule: DripRule | None = None
    rule: DripRule | None = None


@dataclass(frozen=True)
class Timeline:
    """The facts every time condition is measured from."""

    enrolled_at: datetime
    timezone: str
    release_time: time = DEFAULT_RELEASE_TIME
    cohort_starts_on: date | None = None


@dataclass(frozen=True)
class Facts:
    """What the client has done and been given so far."""

    unlocked: frozenset[UUID] = frozenset()
    completed: frozenset[UUID] = frozenset()
    passed_quizzes: frozenset[UUID] = frozenset()
    early: frozenset[UUID] = frozenset()


@dataclass(frozen=True)
class LessonPlan:
    lesson_id: UUID
    title: str
    open: bool                      # unlocked already, or due now
    opens_at: datetime | None       # when its time condition holds (None: no time condition left)
    waiting_for: str | None = None  # an unmet gate, in words
    opened_at: datetime | None = None  # for one due now: when it opened (its time, or now for a gate just met)


def local_instant(day: date, wall: time, zone_name: str) -> datetime:
    """The UTC instant of a local wall-clock time: the first of two in a DST fold, the end of the
    gap for a time a clock change skipped (the notifications capability's rule for quiet hours)."""
    return _utc_candidates(day, wall, ZoneInfo(zone_name))[0]


def time_condition(rule: DripRule | None, timeline: Timeline) -> datetime:
    """When a rule's time condition holds (its enrolment instant when it has none)."""
    start = timeline.enrolled_at
    if rule is None:
        return start
    zone = ZoneInfo(timeline.timezone)
    enrolled_on = start.astimezone(zone).date()
    if rule.days_after_enrolment is not None:
        if rule.days_after_enrolment == 0:
            return start
        day = enrolled_on + timedelta(days=rule.days_after_enrolment)
    elif rule.cohort_day is not None:
        day = (timeline.cohort_starts_on or enrolled_on) + timedelta(days=rule.cohort_day)
    elif rule.on_date is not None:
        day = rule.on_date
    else:
        return start
    return max(start, local_instant(day, timeline.release_time, timeline.timezone))


def plan(lessons: list[OutlineLesson], timeline: Timeline, facts: Facts, now: datetime) -> list[LessonPlan]:
    """Every lesson's state at `now`, in course order."""
    titles = {lesson.lesson_id: lesson.title for lesson in lessons}
    out: list[LessonPlan] = []
    previous: OutlineLesson | None = None
    for lesson in lessons:
        if lesson.lesson_id in facts.unlocked or lesson.lesson_id in facts.early:
            out.append(LessonPlan(lesson.lesson_id, lesson.title, True, None))
            previous = lesson
            continue
        at = max(time_condition(lesson.module_rule, timeline), time_condition(lesson.rule, timeline))
        waiting: str | None = None
        rules = [r for r in (lesson.module_rule, lesson.rule) if r is not None]
        if any(r.after_previous for r in rules) and previous is not None \
                and previous.lesson_id not in facts.completed:
            waiting = f"completing '{previous.title}'"
        for rule in rules:
            quiz = rule.after_quiz_lesson_id
            if waiting is None and quiz is not None and quiz not in facts.passed_quizzes:
                waiting = f"passing the quiz '{titles.get(quiz, 'a quiz of this course')}'"
        due = waiting is None and at <= now
        gated = any(r.after_previous or r.after_quiz_lesson_id for r in rules)
        out.append(LessonPlan(lesson.lesson_id, lesson.title, due, None if due else at if at > now else None,
                              waiting, opened_at=(now if gated else at) if due else None))
        previous = lesson
    return out


def next_opening(plans: list[LessonPlan]) -> datetime | None:
    """The next instant a time condition will open something (gated lessons wait for the client)."""
    times = [p.opens_at for p in plans if not p.open and p.opens_at is not None and p.waiting_for is None]
    return min(times, default=None)


def percent(done: int, total: int) -> int:
    """Whole percent done, rounded down (100 only when everything is done)."""
    return 100 if total == 0 else (done * 100) // total


def required_of(lessons: list[OutlineLesson]) -> list[OutlineLesson]:
    """The lessons completion counts: the required ones, or every lesson if none is marked required."""
    required = [lesson for lesson in lessons if lesson.required]
    return required or list(lessons)
