"""The support console's views and actions (docs/team.md, "Support console")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from api.schemas.identity import Strict

Reason = Field(min_length=3, max_length=500, description="why: kept in the audit log with your name")


class HistoryLine(BaseModel):
    at: datetime
    what: str = Field(description="what happened, in plain words")


class SentMessage(BaseModel):
    delivery_id: UUID = Field(description="to send it again: POST /support/workflows/{workflow_id}/resend")
    at: datetime
    event: str
    channel: str
    recipient: str
    status: str
    error: str | None = None


class SupportNote(BaseModel):
    at: datetime
    action: str
    actor_user_id: UUID | None
    details: dict[str, Any]


class WorkflowView(BaseModel):
    workflow_id: str
    workflow_type: str
    execution_status: str = Field(description="running, completed, failed, cancelled, terminated, timed out")
    entity_status: str | None = Field(None, description="the EntityStatus search attribute (e.g. held, confirmed)")
    client_id: str | None = None
    summary: str | None = Field(None, description="the workflow's memo")
    started_at: datetime | None
    closed_at: datetime | None
    state: dict[str, Any] | None = Field(None, description="the live state from the workflow's own query")
    next: list[str] = Field(description="what is next: timers waiting, steps being retried")
    history: list[HistoryLine] = Field(description="the most recent events, oldest first")
    messages: list[SentMessage] = Field(description="messages this workflow sent, newest first")
    actions: list[SupportNote] = Field(description="audited actions and notes on it, newest first")


class WorkflowSummary(BaseModel):
    workflow_id: str
    workflow_type: str
    execution_status: str
    entity_status: str | None
    summary: str | None
    started_at: datetime | None
    closed_at: datetime | None


class NoteIn(Strict):
    note: str = Field(min_length=3, max_length=2000, description="an internal note; clients never see it")


class ExtendHold(Strict):
    minutes: int = Field(ge=5, le=7 * 24 * 60, description="how much longer the booking stays held for payment")
    reason: str = Reason


class ReasonIn(Strict):
    reason: str = Reason


class HoldExtended(BaseModel):
    booking_id: UUID
    hold_expires_at: datetime
    order_pay_by: datetime | None = None


class ResendIn(Strict):
    delivery_id: UUID = Field(description="the message to send again: an id from the workflow's `messages`")
    reason: str = Reason


class RetryIn(Strict):
    reason: str = Reason


class CancelIn(Strict):
    reason: str = Reason


class RemindersIn(Strict):
    reason: str = Reason


class OutcomeIn(Strict):
    outcome: Literal["completed", "no_show"]
    summary: str | None = Field(None, max_length=10_000, description="what the session covered (completed)")
    reason: str = Reason


class ExtendPayment(Strict):
    minutes: int = Field(ge=5, le=7 * 24 * 60, description="how much longer the order waits for its payment")
    reason: str = Reason


class ActionDone(BaseModel):
    """An audited support action: what was done to which workflow, and its answer."""

    workflow_id: str
    action: str = Field(description="the audit event's action, e.g. support.reminders_paused")
    at: datetime
    detail: str = Field(description="what happened, in plain words")
    follow_up_workflow_id: str | None = Field(None, description="the workflow doing it in the background (resend)")
    state: dict[str, Any] | None = Field(None, description="the workflow's state after an update")
