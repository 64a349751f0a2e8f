"""Schemas of the remedy catalogue and of remedy programmes (assign, steer, check in, read)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from api.schemas.identity import Strict
from domain.remedies.programme import CheckInStatus, ProgrammeSource, ProgrammeStatus, RemedyKind, RemedyState
from domain.remedies.schedule import MAX_DAYS, MAX_OCCURRENCES, Schedule

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Instructions = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Currency = Annotated[str, StringConstraints(max_length=3, pattern=r"^[A-Z]{3}$")]
DEFAULT_DAYS = 40   # a mandala: the traditional length of a mantra's practice


class RemedyCreate(Strict):
    kind: RemedyKind
    title: Title
    instructions_en: Instructions = Field(description="what to do, in English")
    instructions_hi: Instructions | None = Field(None, description="the same in Hindi (sent to Hindi readers)")
    default_schedule: Schedule = Field(description="days and local times a programme of it follows by default")
    default_duration_days: int | None = Field(None, ge=1, le=MAX_DAYS,
                                              description=f"length in days ({DEFAULT_DAYS} if neither length is given)")
    default_occurrences: int | None = Field(None, ge=1, le=MAX_OCCURRENCES, description="or length in occurrences")
    price_minor: int | None = Field(None, ge=0, le=10**11, description="its price when sold, in minor units")
    currency: Currency = "INR"

    @model_validator(mode="after")
    def _one_length(self) -> RemedyCreate:
        if self.default_duration_days is not None and self.default_occurrences is not None:
            raise ValueError("default_occurrences: give the length in days or in occurrences, not both")
        if self.default_duration_days is None and self.default_occurrences is None:
            self.default_duration_days = DEFAULT_DAYS
        return self


class RemedyUpdate(Strict):
    kind: RemedyKind | None = None
    title: Title | None = None
    instructions_en: Instructions | None = None
    instructions_hi: Instructions | None = None
    default_schedule: Schedule | None = None
    default_duration_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    default_occurrences: int | None = Field(None, ge=1, le=MAX_OCCURRENCES)
    price_minor: int | None = Field(None, ge=0, le=10**11)
    currency: Currency | None = None
    active: bool | None = None


class RemedyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    kind: RemedyKind
    title: str
    instructions_en: str
    instructions_hi: str | None
    default_schedule: Schedule
    default_duration_days: int | None
    default_occurrences: int | None
    price_minor: int | None
    currency: str
    active: bool
    created_at: datetime


class ProgrammeCreate(Strict):
    remedy_id: UUID
    client_id: UUID
    birth_profile_id: UUID | None = Field(None, description="one of the client's birth profiles (tithis are "
                                                            "computed at its place)")
    consultant_id: UUID | None = Field(None, description="the consultant's user id; the caller if a consultant")
    source: ProgrammeSource = Field(ProgrammeSource.DIRECT, description="direct, consultation or suggestion")
    booking_id: UUID | None = Field(None, description="the consultation whose outcome prescribed it")
    schedule: Schedule | None = Field(None, description="the remedy's default schedule if left out")
    start_date: date | None = Field(None, description="the client's local date; today there if left out")
    duration_days: int | None = Field(None, ge=1, le=MAX_DAYS)
    occurrences: int | None = Field(None, ge=1, le=MAX_OCCURRENCES)
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="IANA zone the times are read in; the client's (or the consultancy's) if left out")
    note: Note | None = Field(None, description="the consultant's words to the client")

    @model_validator(mode="after")
    def _one_length(self) -> ProgrammeCreate:
        if self.duration_days is not None and self.occurrences is not None:
            raise ValueError("occurrences: give the length in days or in occurrences, not both")
        if self.source == ProgrammeSource.ORDER:
            raise ValueError("source: programmes are bought through an order, not assigned as one")
        return self


class CheckInBody(Strict):
    occurrence_key: Annotated[str, StringConstraints(
        max_length=16, pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")] | None = Field(
        None, description="YYYY-MM-DDTHH:MM (local); the occurrence open now (or due later today) if left out")
    status: CheckInStatus = CheckInStatus.DONE
    note: Note | None = None


class LinkCheckInBody(Strict):
    status: CheckInStatus = CheckInStatus.DONE
    note: Note | None = None


class PauseBody(Strict):
    reason: Reason | None = None


class ResumeBody(Strict):
    pass


class ExtendBody(Strict):
    days: int | None = Field(None, ge=1, le=365, description="for a programme counted in days")
    occurrences: int | None = Field(None, ge=1, le=1000, description="for a programme counted in occurrences")


class TimesBody(Strict):
    times: list[time] = Field(min_length=1, max_length=6, description="the new local times of day (HH:MM)")


class StopBody(Strict):
    reason: Reason


class ProgrammeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID = Field(description="the workflow is remedy-<id>")
    remedy_id: UUID
    title: str
    client_id: UUID
    birth_profile_id: UUID | None
    consultant_id: UUID | None
    source: ProgrammeSource
    booking_id: UUID | None
    order_id: UUID | None
    note: str | None
    status: ProgrammeStatus
    timezone: str
    start_date: date
    end_date: date | None
    counted: int = Field(description="occurrences that came (paused ones do not count)")
    done: int
    skipped: int
    missed: int
    streak: int
    best_streak: int
    completion_percent: int = 0
    next_occurrence_at: datetime | None
    next_occurrence_key: str | None
    open_occurrence_key: str | None = Field(description="the occurrence waiting for a check-in now")
    open_until: datetime | None
    paused_at: datetime | None
    ended_at: datetime | None
    ended_reason: str | None
    workflow_id: str
    created_at: datetime


class CheckInOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    occurrence_key: str
    occurrence_at: datetime
    status: str = Field(description="done, skipped or missed")
    note: str | None
    checked_at: datetime


class ProgrammeView(ProgrammeOut):
    check_ins: list[CheckInOut] = Field(default_factory=list, description="the latest 30")
    workflow: RemedyState | None = Field(None, description="the live workflow's state (staff); null if unavailable")


class CheckInResult(BaseModel):
    occurrence_key: str
    status: CheckInStatus
    counted_now: bool = Field(description="false: this occurrence was checked in before; the first answer stands")
    programme: ProgrammeOut


class TodayItem(BaseModel):
    occurrence_key: str
    at: datetime
    status: str = Field(description="done, skipped, missed, open (check in now) or upcoming")


class TodayProgramme(BaseModel):
    programme_id: UUID
    title: str
    kind: RemedyKind
    instructions: str = Field(description="in the reader's language when the remedy has it")
    status: ProgrammeStatus
    streak: int
    occurrences: list[TodayItem]


class TodayView(BaseModel):
    day: date = Field(description="the reader's local date")
    timezone: str
    programmes: list[TodayProgramme]


class LinkView(BaseModel):
    programme_id: UUID
    title: str
    instructions: str
    occurrence_key: str
    at: datetime | None
    checked: str | None = Field(description="done or skipped if checked in already, missed if it closed")


class CompletionRate(BaseModel):
    remedy_id: UUID
    title: str
    programmes: int
    live: int
    completed: int
    stopped: int
    counted: int
    done: int
    skipped: int
    missed: int
    completion_percent: int = Field(description="done / occurrences that came, over these programmes")
