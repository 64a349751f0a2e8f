"""The support console's background steps (docs/team.md, "Support console")."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, Field

RESEND_WORKFLOW = "ResendMessage"
RESEND_MESSAGE = "support.resend_message"


def resend_workflow_id(action_id: UUID) -> str:
    return f"resend-{action_id}"


class PauseReminders(BaseModel):
    """Update `pause_reminders` of the Consultation and Quotation workflows (the support console):
    reminders falling due while paused are skipped (recorded as such), not sent late;
    `paused=False` resumes them from the next one."""

    paused: bool
    reason: str = Field(min_length=3, max_length=500)
    actor_user_id: UUID | None = None


class ResendRequest(BaseModel):
    """Send the text of one logged message (`delivery_id`) again, to the same person on the same
    channel, as a new delivery keyed `request_key` (sent at most once, however often retried)."""

    tenant_id: UUID
    delivery_id: UUID
    request_key: str = Field(min_length=1, max_length=280)


class ResendOutcome(BaseModel):
    delivery_id: UUID | None = Field(None, description="the new delivery in the log")
    status: str
    error: str | None = None
