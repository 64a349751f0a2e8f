"""A workflow's history in plain words, and what it waits for next, for the support console.

Temporal's events are precise but written for engineers ("ActivityTaskScheduled"); support staff
need "step notify started", "waiting until 14:30 UTC", "signal payment_confirmed received".
Workflow-task bookkeeping is left out: it says nothing about the booking or order.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

_E = EventType
_SKIPPED = {_E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, _E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
            _E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, _E.EVENT_TYPE_ACTIVITY_TASK_STARTED,
            _E.EVENT_TYPE_MARKER_RECORDED, _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED}


def _failure(message: str) -> str:
    return message.strip().splitlines()[0][:200] if message.strip() else "no reason given"


class HistoryReader:
    """Turns events into lines, remembering what each refers to (an activity's name, a timer's end)."""

    def __init__(self) -> None:
        self.activities: dict[int, str] = {}        # scheduled event id -> activity name
        self.timers: dict[str, datetime] = {}        # timer id -> when it fires (open timers only)
        self.updates: dict[str, str] = {}            # update id -> name

    def line(self, event: HistoryEvent) -> str | None:
        """One branch per kind of event; None for bookkeeping that says nothing to a person."""
        kind = event.event_type
        at = event.event_time.ToDatetime()
        if kind in _SKIPPED:
            return None
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            return f"started ({event.workflow_execution_started_event_attributes.workflow_type.name})"
        if kind == _E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            self.activities[event.event_id] = name
            return f"step {name} started"
        if kind == _E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            done = event.activity_task_completed_event_attributes.scheduled_event_id
            return f"step {self.activities.get(done, '?')} done"
        if kind == _E.EVENT_TYPE_ACTIVITY_TASK_FAILED:
            attrs = event.activity_task_failed_event_attributes
            return (f"step {self.activities.get(attrs.scheduled_event_id, '?')} failed: "
                    f"{_failure(attrs.failure.message)}")
        if kind == _E.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
            late = event.activity_task_timed_out_event_attributes.scheduled_event_id
            return f"step {self.activities.get(late, '?')} timed out"
        if kind == _E.EVENT_TYPE_TIMER_STARTED:
            timer = event.timer_started_event_attributes
            fires = at + timer.start_to_fire_timeout.ToTimedelta()
            self.timers[timer.timer_id] = fires
            return f"waiting until {fires:%Y-%m-%d %H:%M} UTC"
        if kind == _E.EVENT_TYPE_TIMER_FIRED:
            fired = self.timers.pop(event.timer_fired_event_attributes.timer_id, None)
            return f"the wait until {fired:%Y-%m-%d %H:%M} UTC ended" if fired else "a wait ended"
        if kind == _E.EVENT_TYPE_TIMER_CANCELED:
            self.timers.pop(event.timer_canceled_event_attributes.timer_id, None)
            return "a wait was cut short (something happened first)"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            return f"signal {event.workflow_execution_signaled_event_attributes.signal_name} received"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            self.updates[request.meta.update_id] = request.input.name
            return f"change {request.input.name} accepted"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED:
            rejected = event.workflow_execution_update_rejected_event_attributes
            return f"change {rejected.rejected_request.input.name} refused: {_failure(rejected.failure.message)}"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
            name = self.updates.get(event.workflow_execution_update_completed_event_attributes.meta.update_id, "?")
            return f"change {name} applied"
        if kind == _E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            return f"started {event.start_child_workflow_execution_initiated_event_attributes.workflow_id}"
        if kind == _E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
            told = event.signal_external_workflow_execution_initiated_event_attributes
            return f"told {told.workflow_execution.workflow_id}: {told.signal_name}"
        if kind == _E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            return None  # the status shown in lists changed; the state says to what
        if kind == _E.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            message = event.workflow_task_failed_event_attributes.failure.message
            return f"the workflow's code failed and is retried: {_failure(message)}"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED:
            return "finished"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
            return f"failed: {_failure(event.workflow_execution_failed_event_attributes.failure.message)}"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
            return f"terminated: {event.workflow_execution_terminated_event_attributes.reason or 'no reason given'}"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
            return "cancelled"
        if kind == _E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
            return "continued in a fresh history (same workflow id)"
        return EventType.Name(kind).removeprefix("EVENT_TYPE_").replace("_", " ").lower()
