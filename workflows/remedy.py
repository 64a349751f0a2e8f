"""RemedyWorkflow (`remedy-<programme id>`): one remedy programme, assignment to its end.

    active --pause--> paused --resume--> active         (occurrences in a pause are skipped, not missed;
      |                                                  a programme of N days gains the calendar days paused)
      |--each occurrence: reminder; check-in (done / skipped) until the window closes, else missed
      |--N missed in a row: the client is nudged; the consultant is told (once per programme)
      |--last occurrence closed--> completed (summary to both, feedback request)
      \\--stop (update; or the `stop_now` signal when the order is refunded)--> stopped

The workflow holds *when*: it sleeps until the next occurrence (a local wall-clock time in the
client's IANA zone, `domain.remedies.schedule`, DST-correct) or until the open occurrence's
check-in window closes (the next occurrence, at most 24 h). An occurrence comes
`reminder_lead_seconds` (10) before its instant: its reminder is handed over then and delivered at
the instant (`activities.remedies.messages.hold_deadline`), so a burst due at one instant is on
time even when the server's timers run late; the occurrence before it closes then. The
programme's row in PostgreSQL is written by activities at each step, so lists and the client's
"today" view need no query.

Updates (validated, audited, answered with the new state once it is written): `check_in`
(answers the check-in: a repeat is answered with the first and counts nothing), `pause`,
`resume`, `extend`, `change_times`, `stop`. Each changes the plan or the status and wakes the
loop, so the next reminder moves at once. Query `state`. Every message goes through the outbox
(`workflows.outbox`), after the answer. A check-in may come early on the day of its occurrence
(the reminder is then not sent). The run continues as new after `occurrences_per_run`
occurrences, or when Temporal suggests it, carrying the whole state: a year-long programme's
history stays bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.remedies.programme import (
        BEGIN,
        CHECK_IN_WINDOW,
        CLOSED_ERROR,
        LIVE,
        NOTIFY,
        RECORD_CHECK_IN,
        RECORD_MISSED,
        REMEDY_WORKFLOW,
        SAVE,
        Actor,
        Begin,
        Begun,
        ChangeTimes,
        CheckIn,
        CheckInAnswer,
        CheckInStatus,
        Closed,
        Extend,
        OpenOccurrence,
        Pause,
        ProgrammeStatus,
        RecordCheckIn,
        RecordedCheckIn,
        RemedyInput,
        RemedyNotice,
        RemedyRef,
        RemedyState,
        Resume,
        Save,
        Stop,
        summary,
    )
    from domain.remedies.schedule import Occurrence, Plan, next_occurrence
    from workflows.common import BACKGROUND, TIMEOUT, T, publish, refuse
    from workflows.common import interactive as interactive_step
    from workflows.outbox import Outbox
    from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID

# Since this patch an occurrence is one workflow task: the reminder is posted at once (the missed
# occurrence it closes is recorded by the same save, not by an activity awaited first), and the
# workflow's own short writes (begin, save) run as local activities in that task, not through the
# task queue. Runs begun before it keep the old steps until they continue as new (replay tests).
OCCURRENCE_V2 = "remedy-occurrence-v2"


@workflow.defn(name=REMEDY_WORKFLOW)
class RemedyWorkflow:
    @workflow.init
    def __init__(self, inp: RemedyInput) -> None:
        self._inp = inp
        self._ref = RemedyRef(workflow_id=workflow.info().workflow_id, tenant_id=inp.tenant_id,
                              programme_id=inp.programme_id)
        self._s = inp.resume or RemedyState(programme_id=inp.programme_id, client_id=inp.client_id, plan=inp.plan)
        self._consultant_id = inp.consultant_id
        self._outbox = Outbox()
        self._outbox.recent.extend(self._s.messages)
        self._s.messages = self._outbox.recent
        self._lock = asyncio.Lock()
        self._wake = False
        self._fired = 0          # occurrences this run
        self._stop_signal: Stop | None = None

    # -- the lifecycle -------------------------------------------------------------------------
    @workflow.run
    async def run(self, inp: RemedyInput) -> RemedyState:
        if inp.resume is None:
            async with self._lock:
                begun: Begun = await self._background(BEGIN, Begin(ref=self._ref, inp=inp, at=workflow.now()), Begun)
                self._s.plan, self._s.status = begun.plan, begun.status
                self._consultant_id = begun.consultant_id or self._consultant_id
                if self._s.status in LIVE:
                    self._s.upcoming = self._next_after(workflow.now())
                    self._post("assigned", "remedy.assigned")
                await self._save()
        self._publish()
        while self._s.status in LIVE:
            wake = self._next_wake()
            self._wake = False
            with contextlib.suppress(TimeoutError):
                await workflow.wait_condition(
                    lambda: self._wake or self._stop_signal is not None,
                    timeout=None if wake is None else max(wake - workflow.now(), timedelta(0)))
            async with self._lock:
                if self._stop_signal is not None and self._s.status in LIVE:
                    await self._stop(self._stop_signal, interactive=False)
                else:
                    await self._step()
            if self._s.status not in LIVE:
                break
            long_enough = self._fired >= inp.occurrences_per_run or workflow.info().is_continue_as_new_suggested()
            if long_enough and workflow.all_handlers_finished() and not self._outbox.sending:
                self._s.runs += 1
                workflow.continue_as_new(inp.model_copy(update={"resume": self._s,
                                                                "consultant_id": self._consultant_id}))
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._outbox.drained()
        return self._s

    @property
    def _plan(self) -> Plan:
        assert self._s.plan is not None
        return self._s.plan

    def _next_after(self, after: datetime) -> Occurrence | None:
        total = self._plan.total_occurrences
        if total is not None and self._s.counted >= total:
            return None
        return next_occurrence(self._plan, after, not_before_date=self._s.not_before_date)

    def _next_wake(self) -> datetime | None:
        times = []
        if self._s.current is not None:
            times.append(self._s.current.closes_at)
        if self._s.status == ProgrammeStatus.ACTIVE and self._s.upcoming is not None:
            times.append(self._s.upcoming.at - self._lead)
        return min(times, default=None)

    @property
    def _lead(self) -> timedelta:
        """How long before its instant an occurrence comes (its reminder is held until the instant)."""
        return timedelta(seconds=self._inp.reminder_lead_seconds)

    async def _step(self) -> None:
        """What is due now: close the open occurrence, fire the next one, or complete."""
        now, changed, missed = workflow.now(), False, None
        current, upcoming = self._s.current, self._s.upcoming
        firing = self._s.status == ProgrammeStatus.ACTIVE and upcoming is not None and now >= upcoming.at - self._lead
        # the open occurrence closes at the next one's instant at the latest: when that one comes
        # ahead of its instant, this one closes with it (runs without a lead keep their old steps)
        if current is not None and (now >= current.closes_at or (firing and self._lead > timedelta(0))):
            changed = True
            self._s.current = None
            if current.checked is None:
                missed = self._count_missed(current)
                if not workflow.patched(OCCURRENCE_V2):   # recorded on its own, before the reminder
                    await self._background(RECORD_MISSED, missed.model_copy(update={"at": None}), bool)
                    missed = None
                self._nudge(current)
        if firing and upcoming is not None:
            changed = True
            self._fire(upcoming)
            self._post(f"reminder:{upcoming.key}", "remedy.reminder", occurrence_key=upcoming.key,
                       occurrence_at=upcoming.at.isoformat())
            self._s.reminders += 1
        if self._s.status == ProgrammeStatus.ACTIVE and self._s.upcoming is None and self._s.current is None:
            changed = True
            self._s.status, self._s.ended_at = ProgrammeStatus.COMPLETED, now
            self._post("completed", "remedy.completed")
            self._post("completed:consultant", "remedy.completed_consultant", audience="consultant")
            self._post("feedback", "remedy.feedback")
            self._publish()
        if changed:
            await self._save(missed=missed)

    def _fire(self, occurrence: Occurrence) -> OpenOccurrence:
        """The occurrence comes: it counts, its window opens, the next one is planned."""
        self._s.counted += 1
        self._fired += 1
        self._s.last_fired_key = occurrence.key
        following = self._next_after(occurrence.at)
        closes = occurrence.at + CHECK_IN_WINDOW
        if following is not None:
            closes = min(closes, following.at)
        opened = OpenOccurrence(key=occurrence.key, at=occurrence.at, closes_at=closes)
        self._s.current, self._s.upcoming = opened, following
        workflow.upsert_memo({"summary": summary(self._s)})
        return opened

    def _count_missed(self, occurrence: OpenOccurrence) -> Closed:
        s = self._s
        s.missed += 1
        s.missed_in_a_row += 1
        s.streak = 0
        return Closed(ref=self._ref, occurrence_key=occurrence.key, occurrence_at=occurrence.at, at=workflow.now())

    def _nudge(self, occurrence: OpenOccurrence) -> None:
        s = self._s
        if s.missed_in_a_row == self._inp.nudge_after_missed:
            s.nudges += 1
            self._post(f"nudge:{occurrence.key}", "remedy.nudge", missed=s.missed_in_a_row)
            if not s.consultant_told and self._consultant_id is not None:
                s.consultant_told = True
                self._post("missed:consultant", "remedy.missed", audience="consultant", missed=s.missed_in_a_row)

    def _apply(self, state: RemedyState, status: CheckInStatus) -> None:
        if status == CheckInStatus.DONE:
            state.done += 1
            state.streak += 1
            state.best_streak = max(state.best_streak, state.streak)
        else:
            state.skipped += 1
            state.streak = 0
        state.missed_in_a_row = 0

    # -- updates, signals, query ---------------------------------------------------------------
    @workflow.update
    async def check_in(self, request: CheckIn) -> CheckInAnswer:
        async with self._lock:
            target, early = self._target(request)
            if target.checked is not None:   # a repeat: the first check-in stands
                return CheckInAnswer(occurrence_key=target.key, status=target.checked, counted_now=False,
                                     state=self._s)
            after = self._s.model_copy(deep=True)
            after.messages = []
            if early:
                self._fire_into(after, target)
            self._check(after, target.key, request.status)
            recorded: RecordedCheckIn = await interactive_step(RECORD_CHECK_IN, RecordCheckIn(
                ref=self._ref, occurrence_key=target.key, occurrence_at=target.at, request=request,
                at=workflow.now(), state_after=after), RecordedCheckIn)
            if early:
                self._fire(Occurrence(key=target.key, at=target.at, local_date=target.at.date()))
            if recorded.created:
                self._check(self._s, target.key, recorded.status)
            elif self._s.current is not None and self._s.current.key == target.key:
                self._s.current.checked = recorded.status   # stored before (a retried update): not counted again
            self._wake = True
            workflow.upsert_memo({"summary": summary(self._s)})
        return CheckInAnswer(occurrence_key=target.key, status=recorded.status, counted_now=recorded.created,
                             state=self._s)

    @check_in.validator
    def _validate_check_in(self, request: CheckIn) -> None:
        self._target(request)

    def _fire_into(self, state: RemedyState, target: OpenOccurrence) -> None:
        """What `_fire` does, on a copy (the row is written before the state changes)."""
        state.counted += 1
        state.last_fired_key = target.key
        state.current = target.model_copy()
        total = self._plan.total_occurrences
        state.upcoming = None if total is not None and state.counted >= total else next_occurrence(
            self._plan, target.at, not_before_date=state.not_before_date)

    def _check(self, state: RemedyState, key: str, status: CheckInStatus) -> None:
        if state.current is not None and state.current.key == key:
            state.current.checked = status
        self._apply(state, status)

    def _target(self, request: CheckIn) -> tuple[OpenOccurrence, bool]:
        """The occurrence a check-in belongs to, and whether it is early (today's, not come yet)."""
        current, upcoming = self._s.current, self._s.upcoming
        key = request.occurrence_key
        if current is not None and (key is None or key == current.key):
            return current, False
        if upcoming is not None and (key is None or key == upcoming.key) \
                and self._s.status == ProgrammeStatus.ACTIVE and self._is_today(upcoming):
            if current is not None and current.checked is None:
                raise refuse(f"check in {current.key} first: it is still open", "occurrence_key")
            closes = upcoming.at + CHECK_IN_WINDOW
            following = next_occurrence(self._plan, upcoming.at, not_before_date=self._s.not_before_date)
            if following is not None:
                closes = min(closes, following.at)
            return OpenOccurrence(key=upcoming.key, at=upcoming.at, closes_at=closes), True
        if key is not None and (self._s.last_fired_key is not None and key <= self._s.last_fired_key):
            raise refuse(f"{key} has closed: a check-in is taken until the next occurrence (at most 24 hours)",
                         "occurrence_key", type_=CLOSED_ERROR)
        if self._s.status not in LIVE:
            raise refuse(f"this programme is {self._s.status.value}")
        nxt = f"; the next is {upcoming.key} ({self._plan.timezone})" if upcoming is not None else ""
        raise refuse(f"nothing to check in now{nxt}", "occurrence_key" if key else None)

    def _is_today(self, occurrence: Occurrence) -> bool:
        return workflow.now().astimezone(self._plan.zone).date() == occurrence.local_date

    @workflow.update
    async def pause(self, request: Pause) -> RemedyState:
        async with self._lock:
            self._require(ProgrammeStatus.ACTIVE, "pause")
            self._s.status, self._s.paused_at = ProgrammeStatus.PAUSED, workflow.now()
            await self._save("remedy.paused", request, {"reason": request.reason}, interactive=True)
            self._changed()
        return self._s

    @pause.validator
    def _validate_pause(self, request: Pause) -> None:
        self._require(ProgrammeStatus.ACTIVE, "pause")

    @workflow.update
    async def resume(self, request: Resume) -> RemedyState:
        async with self._lock:
            self._require(ProgrammeStatus.PAUSED, "resume")
            now = workflow.now()
            paused_days = 0
            if self._s.paused_at is not None and self._plan.duration_days is not None:
                zone = self._plan.zone   # the calendar days the pause crossed, on the client's clock
                paused_days = (now.astimezone(zone).date() - self._s.paused_at.astimezone(zone).date()).days
                self._plan.extra_days += paused_days
            self._s.status, self._s.paused_at = ProgrammeStatus.ACTIVE, None
            self._s.upcoming = self._next_after(now)
            await self._save("remedy.resumed", request, {"days_added": paused_days}, interactive=True)
            self._changed()
        return self._s

    @resume.validator
    def _validate_resume(self, request: Resume) -> None:
        self._require(ProgrammeStatus.PAUSED, "resume")

    @workflow.update
    async def extend(self, request: Extend) -> RemedyState:
        async with self._lock:
            self._validate_extend(request)
            self._plan.extra_days += request.days or 0
            self._plan.extra_occurrences += request.occurrences or 0
            if self._s.upcoming is None:
                after = self._s.current.at if self._s.current is not None else workflow.now()
                self._s.upcoming = self._next_after(after)
            await self._save("remedy.extended", request, {"days": request.days, "occurrences": request.occurrences},
                             interactive=True)
            self._changed()
        return self._s

    @extend.validator
    def _validate_extend(self, request: Extend) -> None:
        self._require_live("extend")
        if (request.days is None) == (request.occurrences is None):
            raise refuse("give days or occurrences (one of the two)", "days")
        if self._s.plan is not None and self._plan.duration_days is not None and request.days is None:
            raise refuse("this programme runs for a number of days: extend it by days", "days")
        if self._s.plan is not None and self._plan.occurrences is not None and request.occurrences is None:
            raise refuse("this programme runs for a number of occurrences: extend it by occurrences",
                          "occurrences")

    @workflow.update
    async def change_times(self, request: ChangeTimes) -> RemedyState:
        async with self._lock:
            self._validate_times(request)
            now = workflow.now()
            old = [t.strftime("%H:%M") for t in self._plan.schedule.times]
            self._plan.schedule.times = sorted(t.replace(second=0, microsecond=0, tzinfo=None) for t in request.times)
            today = now.astimezone(self._plan.zone).date()
            fired_today = self._s.last_fired_key is not None and self._s.last_fired_key[:10] == today.isoformat()
            if fired_today:  # today's occurrence came already: the new times start tomorrow
                self._s.not_before_date = today + timedelta(days=1)
            if self._s.status == ProgrammeStatus.ACTIVE or self._s.upcoming is not None:
                self._s.upcoming = self._next_after(now)
            await self._save("remedy.times_changed", request,
                             {"from": old, "to": [t.strftime("%H:%M") for t in self._plan.schedule.times]},
                             interactive=True)
            self._changed()
        return self._s

    @change_times.validator
    def _validate_times(self, request: ChangeTimes) -> None:
        self._require_live("change the time of")
        minutes = {(t.hour, t.minute) for t in request.times}
        if len(minutes) != len(request.times):
            raise refuse("name each time once (to the minute)", "times")

    @workflow.update
    async def stop(self, request: Stop) -> RemedyState:
        async with self._lock:
            self._require_live("stop")
            await self._stop(request, interactive=True)
        return self._s

    @stop.validator
    def _validate_stop(self, request: Stop) -> None:
        self._require_live("stop")

    @workflow.signal
    def stop_now(self, request: Stop) -> None:
        """The programme ends now (its order was refunded, or it was released): no person waits."""
        if self._stop_signal is None:
            self._stop_signal = request

    @workflow.query
    def state(self) -> RemedyState:
        return self._s

    async def _stop(self, request: Stop, *, interactive: bool) -> None:
        self._s.status, self._s.ended_at, self._s.ended_reason = ProgrammeStatus.STOPPED, workflow.now(), request.reason
        self._s.current = self._s.upcoming = None
        await self._save("remedy.stopped", request, {"reason": request.reason}, interactive=interactive)
        self._post("stopped:consultant", "remedy.stopped", audience="consultant", reason=request.reason)
        self._changed()

    # -- helpers -------------------------------------------------------------------------------
    def _require(self, status: ProgrammeStatus, verb: str) -> None:
        if self._s.status != status:
            raise refuse(f"this programme is {self._s.status.value}: it cannot {verb}"
                          if verb != "pause" else f"this programme is {self._s.status.value}, not active")

    def _require_live(self, verb: str) -> None:
        if self._s.status not in LIVE or self._stop_signal is not None or self._s.plan is None:
            raise refuse(f"this programme is {self._s.status.value}: nothing to {verb}")

    def _changed(self) -> None:
        self._wake = True
        self._publish()

    def _post(self, step: str, event: str, *, audience: str = "client", **variables: object) -> None:
        self._outbox.post(step, NOTIFY, RemedyNotice(ref=self._ref, step=step, event=event, audience=audience,
                                                     variables=variables), result_type=int)

    async def _save(self, action: str | None = None, actor: Actor | None = None,
                    details: dict[str, object] | None = None, *, interactive: bool = False,
                    missed: Closed | None = None) -> None:
        step = Save(ref=self._ref, state=self._s.model_copy(update={"messages": []}), action=action, actor=actor,
                    details=details or {}, missed=missed)
        if interactive:
            await interactive_step(SAVE, step, bool)
        else:
            await self._background(SAVE, step, bool)

    async def _background(self, name: str, arg: object, result_type: type[T]) -> T:
        """The workflow's own writes: short, idempotent, in order under the lock (a local activity since v2)."""
        if workflow.patched(OCCURRENCE_V2):
            local: T = await workflow.execute_local_activity(name, arg, result_type=result_type,
                                                             start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
            return local
        result: T = await workflow.execute_activity(name, arg, result_type=result_type,
                                                    start_to_close_timeout=TIMEOUT, retry_policy=BACKGROUND)
        return result

    def _publish(self) -> None:
        attributes = [TENANT_ID.value_set(str(self._inp.tenant_id)), CLIENT_ID.value_set(str(self._inp.client_id)),
                      ENTITY_STATUS.value_set(self._s.status.value)]
        if self._consultant_id is not None:
            attributes.append(CONSULTANT_ID.value_set(str(self._consultant_id)))
        publish(attributes, summary(self._s))
