"""The Remedy workflow's contract: kinds, statuses, input, state, updates and activities.

`remedy-<programme id>` carries one remedy assigned to one client from assignment to the
programme's end. A programme bought through an order has the order line's id as its id, so the
line, the programme row and the workflow share one id. The workflow carries ids, instants,
counts and the plan (no names, no emails: those stay in PostgreSQL).
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field

from domain.outbox import PostedMessage
from domain.remedies.schedule import Occurrence, Plan

REMEDY_WORKFLOW = "Remedy"
NUDGE_AFTER_MISSED = 3                  # missed occurrences in a row before the client is nudged
CHECK_IN_WINDOW = timedelta(hours=24)   # an occurrence takes its check-in until the next one, at most this long
OCCURRENCES_PER_RUN = 120               # continue-as-new after this many (history stays bounded)
# An occurrence comes this long before its instant: the workflow hands its reminder over early and
# the notify activity, its message prepared, holds it until the instant. A burst of reminders due
# at one instant (thousands of clients who chose 06:00) then goes out on time even when the
# server's timers and the worker take seconds to get through the burst (docs/remedies.md, Scale).
REMINDER_LEAD_SECONDS = 10
MAX_REMINDER_LEAD_SECONDS = 60


def remedy_workflow_id(programme_id: UUID | str) -> str:
    return f"remedy-{programme_id}"


class RemedyKind(enum.StrEnum):
    MANTRA = "mantra"
    DONATION = "donation"
    GEMSTONE = "gemstone"
    VASTU = "vastu"
    FASTING = "fasting"
    AFFIRMATION = "affirmation"
    RITUAL = "ritual"
    CUSTOM = "custom"


class ProgrammeStatus(enum.StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"   # every occurrence came and went: summary and feedback request sent
    STOPPED = "stopped"       # ended early by the client or staff (or a refund)


LIVE = frozenset({ProgrammeStatus.ACTIVE, ProgrammeStatus.PAUSED})


class ProgrammeSource(enum.StrEnum):
    DIRECT = "direct"             # assigned by a consultant
    CONSULTATION = "consultation"  # from a consultation's outcome
    SUGGESTION = "suggestion"     # from an accepted astrology suggestion
    ORDER = "order"               # bought (an order line of kind `remedy`)


class CheckInStatus(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


class Outcome(enum.StrEnum):
    DONE = "done"
    SKIPPED = "skipped"
    MISSED = "missed"


class RemedyInput(BaseModel):
    programme_id: UUID
    tenant_id: UUID
    client_id: UUID
    consultant_id: UUID | None = Field(None, description="the consultant's user id")
    plan: Plan | None = Field(None, description="None: made from the remedy's defaults when it starts (an order)")
    source: ProgrammeSource = ProgrammeSource.DIRECT
    order_id: UUID | None = None
    remedy_ref: UUID | None = Field(None, description="an order line's ref_id: the catalogue remedy")
    nudge_after_missed: int = Field(NUDGE_AFTER_MISSED, ge=1, le=30)
    occurrences_per_run: int = Field(OCCURRENCES_PER_RUN, ge=2, le=10_000)
    # 0 (runs started before the lead existed, whose inputs lack it): the occurrence comes at its
    # instant. Every starter sets REMINDER_LEAD_SECONDS.
    reminder_lead_seconds: int = Field(0, ge=0, le=MAX_REMINDER_LEAD_SECONDS)
    resume: RemedyState | None = None   # carried over by continue-as-new


class OpenOccurrence(BaseModel):
    """An occurrence whose reminder went and whose check-in window is open."""

    key: str
    at: datetime
    closes_at: datetime
    checked: CheckInStatus | None = None


class RemedyState(BaseModel):
    """The `state` query (and every update's answer): what the support console shows."""

    programme_id: UUID
    client_id: UUID
    status: ProgrammeStatus = ProgrammeStatus.ACTIVE
    plan: Plan | None = None
    counted: int = Field(0, description="occurrences that came (done, skipped or missed; paused ones do not count)")
    done: int = 0
    skipped: int = 0
    missed: int = 0
    streak: int = Field(0, description="done in a row, up to the latest closed or checked occurrence")
    best_streak: int = 0
    missed_in_a_row: int = 0
    current: OpenOccurrence | None = None
    upcoming: Occurrence | None = None
    not_before_date: date | None = Field(None, description="times changed: they apply from this local date")
    last_fired_key: str | None = None
    reminders: int = 0
    nudges: int = 0
    consultant_told: bool = False
    paused_at: datetime | None = None
    ended_at: datetime | None = None
    ended_reason: str | None = None
    runs: int = Field(1, description="workflow runs so far (continue-as-new starts the next)")
    messages: list[PostedMessage] = Field(default_factory=list,
                                          description="the latest messages: sending, sent or failed, and why")

    @property
    def completion_percent(self) -> int:
        return round(100 * self.done / self.counted) if self.counted else 0


# -- updates (validated, audited, answered with the new state) --------------------------------------
class Actor(BaseModel):
    actor_user_id: UUID | None = None
    actor_role: str | None = None
    request_id: str | None = None
    ip: str | None = None


class CheckIn(Actor):
    occurrence_key: str | None = Field(None, max_length=16,
                                       description="YYYY-MM-DDTHH:MM local; default the occurrence open now")
    status: CheckInStatus = CheckInStatus.DONE
    note: str | None = Field(None, max_length=1000)


class CheckInAnswer(BaseModel):
    occurrence_key: str
    status: CheckInStatus
    counted_now: bool = Field(description="false when this occurrence was checked in before (the first counts)")
    state: RemedyState


class Pause(Actor):
    reason: str | None = Field(None, max_length=500)


class Resume(Actor):
    pass


class Extend(Actor):
    days: int | None = Field(None, ge=1, le=365)
    occurrences: int | None = Field(None, ge=1, le=1000)


class ChangeTimes(Actor):
    times: list[time] = Field(min_length=1, max_length=6)


class Stop(Actor):
    reason: str = Field(min_length=1, max_length=500)


# -- activities ------------------------------------------------------------------------------------
class RemedyRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    programme_id: UUID


class Begin(BaseModel):
    ref: RemedyRef
    inp: RemedyInput
    at: datetime


class Begun(BaseModel):
    """BEGIN's answer: the plan (made from the remedy's defaults for a bought programme) and who follows it."""

    plan: Plan
    status: ProgrammeStatus
    consultant_id: UUID | None = None


class Closed(BaseModel):
    """An occurrence closed without a check-in: record it as missed (idempotent)."""

    ref: RemedyRef
    occurrence_key: str
    occurrence_at: datetime
    at: datetime | None = Field(None, description="when its window closed (the workflow's clock)")


class Save(BaseModel):
    """Write the programme's row from the state (and audit a person's change, when `action` is set;
    record the occurrence that just closed unchecked as missed, when `missed` is set)."""

    ref: RemedyRef
    state: RemedyState
    action: str | None = None
    actor: Actor | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    missed: Closed | None = None


class RecordCheckIn(BaseModel):
    """Store one check-in and, if it is the occurrence's first, the programme's row as it now is."""

    ref: RemedyRef
    occurrence_key: str
    occurrence_at: datetime
    request: CheckIn
    at: datetime
    state_after: RemedyState


class RecordedCheckIn(BaseModel):
    status: CheckInStatus
    created: bool


class RemedyNotice(BaseModel):
    ref: RemedyRef
    step: str
    event: str      # remedy.assigned, remedy.reminder, remedy.nudge, remedy.missed, remedy.completed, ...
    audience: str = "client"   # client or consultant
    variables: dict[str, Any] = Field(default_factory=dict)


BEGIN = "remedies.begin"
SAVE = "remedies.save"
RECORD_CHECK_IN = "remedies.check_in"
RECORD_MISSED = "remedies.missed"
NOTIFY = "remedies.notify"
# ApplicationError types the API maps to problems
CLOSED_ERROR = "OccurrenceClosed"


def summary(state: RemedyState) -> str:
    """The memo's human summary: status, progress and the next occurrence (no personal data)."""
    text = (f"Remedy {state.status.value}: {state.done} done, {state.skipped} skipped, {state.missed} missed; "
            f"streak {state.streak}")
    if state.upcoming is not None and state.plan is not None and state.status == ProgrammeStatus.ACTIVE:
        text += f"; next {state.upcoming.key} {state.plan.timezone}"
    return text


RemedyInput.model_rebuild()
