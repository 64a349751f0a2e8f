"""EnrollmentWorkflow (`enrollment-<enrollment id>`): one client in one course, enrolment to end of access.

    active --every required lesson done + final assessment passed--> completed (certificate)
      |  \\--access runs out--> expired --extend_access--> active | completed
      \\--revoke (refund, staff)--> revoked              (completed, lifetime access: the run ends)

The workflow holds *when*: it wakes at the next drip opening, at the end of access, and when a
nudge is due; each wake is one `courses.sync` activity that runs the pure planner at the
workflow's time and records what opened (`domain.courses.drip`; the course's outline lives in
PostgreSQL, so edits and cohort moves are planned from the database as it is). Lessons that open
on a timer are announced (one message, or one digest for several); lessons the client's own
action opens (completing the previous lesson, passing a quiz) are in the update's answer.

Updates (validated, answered with the new state once it is made): `complete_lesson`,
`submit_quiz` (answers the graded attempt), `grant_early_access`, `extend_access` (staff,
audited). Signals: `replan` (a cohort moved, the course changed), `revoke` (a refund, staff).
Query `state`: status, progress, what opened and what opens next, nudges, certificate, and the
outbox's `recent` messages. Messages and the certificate PDF go through the outbox, after the
answer. A nudge goes after seven days without activity, once per gap, never in quiet hours (the
workflow waits them out on a timer). The run continues as new when its history grows.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.courses.enrollment import (
        BEGIN,
        CHECK_INACTIVITY,
        COMPLETE_LESSON,
        EARLY_ACCESS,
        END_ACCESS,
        ENROLLMENT_WORKFLOW,
        EXTEND_ACCESS,
        GRADE_QUIZ,
        INACTIVITY_NUDGE_AFTER,
        ISSUE_CERTIFICATE,
        LIVE,
        NOTIFY,
        SYNC,
        Begin,
        CertificateStep,
        CompleteLesson,
        CourseNotice,
        EarlyAccess,
        EarlyStep,
        EndAccess,
        EndStep,
        EnrollmentInput,
        EnrollmentRef,
        EnrollmentState,
        EnrollmentStatus,
        ExtendAccess,
        ExtendStep,
        LessonStep,
        NudgeCheck,
        NudgeFinding,
        OpenedLesson,
        QuizAnswer,
        QuizStep,
        QuizStepResult,
        QuizSubmission,
        Sync,
        Synced,
        summary,
    )
    from workflows.common import background, interactive, publish, refuse
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, ENTITY_STATUS, TENANT_ID

EXTEND_GRACE = timedelta(days=90)  # an expired enrolment's workflow waits this long for an extension
# workflow.patched id: a `replan` that arrives while the enrolment syncs is acted on. Before it, the
# flag was cleared at the top of the loop, after the sync, so a cohort moved during a sync was
# planned only at the next wake (days later); runs started before it replay unchanged.
REPLAN_KEPT_WHILE_SYNCING = "replan-kept-while-syncing"


@workflow.defn(name=ENROLLMENT_WORKFLOW)
class EnrollmentWorkflow:
    @workflow.init
    def __init__(self, inp: EnrollmentInput) -> None:
        self._inp = inp
        self._ref = EnrollmentRef(workflow_id=workflow.info().workflow_id, tenant_id=inp.tenant_id,
                                  enrollment_id=inp.enrollment_id)
        self._state = inp.resume or EnrollmentState(enrollment_id=inp.enrollment_id, client_id=inp.client_id,
                                                    source=inp.source)
        self._outbox = Outbox()
        self._state.messages = self._outbox.recent
        self._lock = asyncio.Lock()
        self._replan = False
        self._replan_kept = False  # set in run (workflow.patched)
        self._revoke: EndAccess | None = None
        self._nudge_hold_until: datetime | None = None

    # -- the lifecycle ---------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: EnrollmentInput) -> EnrollmentState:
        self._replan_kept = workflow.patched(REPLAN_KEPT_WHILE_SYNCING)
        if inp.resume is None:
            began: EnrollmentState = await background(
                BEGIN, Begin(ref=self._ref, inp=inp, at=workflow.now()), EnrollmentState)
            self._state.status, self._state.course_id = began.status, began.course_id
            if began.status in LIVE:
                async with self._lock:
                    synced = await self._sync()
                self._announce_enrolment(synced)
        self._publish()
        while self._live():
            wake = self._next_wake()
            if not self._replan_kept:
                self._replan = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(lambda: self._replan or self._revoke is not None or not self._live(),
                                              timeout=None if wake is None else max(wake - workflow.now(),
                                                                                     timedelta(0)))
            if self._revoke is not None:
                await self._end(EnrollmentStatus.REVOKED, self._revoke)
                break
            if not self._live():
                break
            now = workflow.now()
            if self._state.status == EnrollmentStatus.EXPIRED:
                continue  # waiting for an extension (or the grace to run out)
            if self._state.expires_at is not None and now >= self._state.expires_at:
                await self._end(EnrollmentStatus.EXPIRED, EndAccess(reason="access period ended"))
                if not self._live():
                    break
            async with self._lock:
                synced = await self._sync()
            self._announce_openings(synced.opened_now)
            await self._maybe_nudge()
            if workflow.info().is_continue_as_new_suggested() and workflow.all_handlers_finished():
                await self._outbox.drained()
                workflow.continue_as_new(self._inp.model_copy(update={"resume": self._state}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._state

    def _live(self) -> bool:
        """Still something to watch: an active enrolment, a completed one whose access may end, or an
        expired one that staff may still extend (for EXTEND_GRACE)."""
        status = self._state.status
        if status == EnrollmentStatus.EXPIRED:
            return self._state.ended_at is not None and workflow.now() < self._state.ended_at + EXTEND_GRACE
        return status == EnrollmentStatus.ACTIVE or (status == EnrollmentStatus.COMPLETED
                                                     and self._state.expires_at is not None)

    def _nudge_at(self) -> datetime | None:
        if self._state.status != EnrollmentStatus.ACTIVE or self._state.percent >= 100:
            return None
        if self._nudge_hold_until is not None:
            return self._nudge_hold_until
        last = self._state.last_activity_at
        if last is None or last == self._state.nudged_for:
            return None  # nudged once for this gap: the next needs new activity first
        return last + INACTIVITY_NUDGE_AFTER

    def _next_wake(self) -> datetime | None:
        if self._state.status == EnrollmentStatus.EXPIRED:
            return self._state.ended_at + EXTEND_GRACE if self._state.ended_at else None
        times = [t for t in (self._state.next_unlock_at if self._state.status == EnrollmentStatus.ACTIVE else None,
                             self._state.expires_at, self._nudge_at()) if t is not None]
        return min(times, default=None)

    async def _sync(self) -> Synced:
        if self._replan_kept:
            self._replan = False  # every change signalled before now is read by this sync
        synced: Synced = await background(SYNC, Sync(ref=self._ref, at=workflow.now()), Synced)
        self._take(synced)
        return synced

    def _take(self, synced: Synced) -> None:
        before = self._state.status
        self._state.apply(synced)
        if synced.completed_now and synced.certificate_code:
            self._outbox.post("certificate", ISSUE_CERTIFICATE,
                              CertificateStep(ref=self._ref, code=synced.certificate_code), result_type=str)
        if self._state.status != before or synced.completed_now:
            self._publish()
        else:
            workflow.upsert_memo({"summary": summary(self._state)})

    def _announce_enrolment(self, synced: Synced) -> None:
        self._post("enrolled", "course.enrolled", synced.opened_now)

    def _announce_openings(self, opened: list[OpenedLesson]) -> None:
        if not opened:
            return
        first = opened[0].lesson_id
        step = f"opened:{first}" if len(opened) == 1 else f"opened:{first}:{len(opened)}"
        self._post(step, "course.unlocked" if len(opened) == 1 else "course.unlocked_digest", opened)

    def _post(self, step: str, event: str, lessons: list[OpenedLesson]) -> None:
        variables: dict[str, str] = {}
        if self._state.next_unlock_at is not None:
            variables["next_unlock_at"] = self._state.next_unlock_at.isoformat()
        self._outbox.post(step, NOTIFY, CourseNotice(ref=self._ref, step=step, event=event, lessons=lessons,
                                                     variables=variables), result_type=int)

    async def _maybe_nudge(self) -> None:
        at = self._nudge_at()
        if at is None or workflow.now() < at:
            return
        self._nudge_hold_until = None
        finding: NudgeFinding = await background(
            CHECK_INACTIVITY, NudgeCheck(ref=self._ref, at=workflow.now()), NudgeFinding)
        if finding.last_activity_at is not None and finding.last_activity_at != self._state.last_activity_at:
            self._state.last_activity_at = finding.last_activity_at  # active meanwhile: a new gap
        if finding.quiet_until is not None:
            self._nudge_hold_until = finding.quiet_until  # never in quiet hours: wake when they end
            return
        if finding.due and finding.last_activity_at is not None:
            self._state.nudged_for = finding.last_activity_at
            self._state.nudges += 1
            self._post(f"nudge:{finding.last_activity_at.isoformat()}", "course.nudge", [])

    async def _end(self, status: EnrollmentStatus, why: EndAccess) -> None:
        async with self._lock:
            result: str = await background(END_ACCESS, EndStep(
                tenant_id=self._inp.tenant_id, enrollment_id=self._inp.enrollment_id, at=workflow.now(),
                status=status, request=why), str)
            if result in (EnrollmentStatus.REVOKED, EnrollmentStatus.EXPIRED):
                self._state.status = EnrollmentStatus(result)
                self._state.ended_reason = why.reason
                self._state.ended_at = workflow.now()
                self._state.next_unlock_at = None
                self._publish()

    # -- updates, signals, query -------------------------------------------------------------
    @workflow.update
    async def complete_lesson(self, request: CompleteLesson) -> EnrollmentState:
        async with self._lock:
            self._usable()
            synced: Synced = await interactive(
                COMPLETE_LESSON, LessonStep(ref=self._ref, at=workflow.now(), request=request), Synced)
            self._take(synced)
        return self._state

    @complete_lesson.validator
    def _validate_complete(self, request: CompleteLesson) -> None:
        self._usable()

    @workflow.update
    async def submit_quiz(self, submission: QuizSubmission) -> QuizAnswer:
        async with self._lock:
            self._usable()
            key = f"{self._ref.workflow_id}:{workflow.current_update_info().id}"  # type: ignore[union-attr]
            result: QuizStepResult = await interactive(
                GRADE_QUIZ, QuizStep(ref=self._ref, at=workflow.now(), request=submission, key=key[:200]),
                QuizStepResult)
            self._take(result.synced)
        return QuizAnswer(attempt=result.attempt, attempts_left=result.attempts_left, graded=result.graded,
                          state=self._state)

    @submit_quiz.validator
    def _validate_quiz(self, submission: QuizSubmission) -> None:
        self._usable()

    @workflow.update
    async def grant_early_access(self, request: EarlyAccess) -> EnrollmentState:
        async with self._lock:
            self._usable()
            synced: Synced = await interactive(
                EARLY_ACCESS, EarlyStep(ref=self._ref, at=workflow.now(), request=request), Synced)
            self._take(synced)
        self._replan = True  # the next opening may have changed
        return self._state

    @grant_early_access.validator
    def _validate_early(self, request: EarlyAccess) -> None:
        self._usable()
        if len(set(request.lesson_ids)) != len(request.lesson_ids):
            raise refuse("name each lesson once", "lesson_ids")

    @workflow.update
    async def extend_access(self, request: ExtendAccess) -> EnrollmentState:
        async with self._lock:
            synced: Synced = await interactive(
                EXTEND_ACCESS, ExtendStep(ref=self._ref, at=workflow.now(), request=request), Synced)
            self._take(synced)
            self._state.ended_reason = self._state.ended_at = None
        self._replan = True
        return self._state

    @extend_access.validator
    def _validate_extend(self, request: ExtendAccess) -> None:
        if self._state.status == EnrollmentStatus.REVOKED:
            raise refuse("this enrolment was revoked; enrol the client again instead")
        if self._state.expires_at is None:
            raise refuse("this enrolment never expires", "expires_at")
        if request.expires_at <= workflow.now():
            raise refuse("choose a time in the future", "expires_at")
        if request.expires_at <= self._state.expires_at:
            raise refuse(f"access already runs until {self._state.expires_at:%Y-%m-%d %H:%M} UTC; choose a later "
                          "time", "expires_at")

    @workflow.signal
    def replan(self, reason: str | None = None) -> None:
        """The course or the enrolment's cohort changed: look again now (`reason` is for the history)."""
        self._replan = True

    @workflow.signal
    def revoke(self, request: EndAccess) -> None:
        """Access ends now (the order was refunded, or staff ended it); the row is written by the sender."""
        if self._revoke is None:
            self._revoke = request

    @workflow.query
    def state(self) -> EnrollmentState:
        return self._state

    # -- helpers ---------------------------------------------------------------------------
    def _usable(self) -> None:
        if self._revoke is not None or self._state.status == EnrollmentStatus.REVOKED:
            raise refuse("this enrolment was revoked")
        if self._state.status == EnrollmentStatus.EXPIRED or (
                self._state.expires_at is not None and workflow.now() >= self._state.expires_at):
            raise refuse("access to this course has expired")

    def _publish(self) -> None:
        publish([
            TENANT_ID.value_set(str(self._inp.tenant_id)),
            CLIENT_ID.value_set(str(self._inp.client_id)),
            ENTITY_STATUS.value_set(self._state.status.value),
        ], summary(self._state))
