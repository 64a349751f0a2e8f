"""Consultant onboarding: the states, the timings, and the messages between API, workflow and activities."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel, Field

VERIFY_REMINDER_AFTER = timedelta(days=1)
ADMIN_NUDGE_EVERY = timedelta(days=1)
MAX_ADMIN_NUDGES = 14


def onboarding_workflow_id(tenant_id: UUID) -> str:
    return f"onboarding-{tenant_id}"


class OnboardingStatus(enum.StrEnum):
    AWAITING_VERIFICATION = "awaiting_verification"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    REJECTED = "rejected"


class OnboardingInput(BaseModel):
    tenant_id: UUID
    owner_user_id: UUID
    email_verified: bool = False


class OnboardingDecision(BaseModel):
    approve: bool
    reason: str | None = Field(None, max_length=2000)
    actor_user_id: UUID
    request_id: str | None = None
    ip: str | None = None  # the admin's address, for the audit event the worker writes


class OnboardingState(BaseModel):
    tenant_id: UUID
    status: OnboardingStatus
    started_at: datetime
    email_verified_at: datetime | None = None
    decided_at: datetime | None = None
    decided_by: UUID | None = None
    reason: str | None = None
    verification_reminders: int = 0
    admin_nudges: int = 0


# -- activity contracts --------------------------------------------------------------------
class OnboardingRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    owner_user_id: UUID


class AdminNudge(BaseModel):
    ref: OnboardingRef
    number: int
    waiting_since: datetime


class ApplyDecision(BaseModel):
    ref: OnboardingRef
    decision: OnboardingDecision
    # False: the owner is told by TELL_DECISION, sent after the update has answered (the outbox).
    tell_owner: bool = True


REMIND_VERIFY = "onboarding.remind_verify"
EMAIL_VERIFIED_AT = "onboarding.email_verified_at"
# The `email_verified` signal is sent after the API's commit; if it is lost (Temporal down at
# that moment) the workflow finds the verification in the database itself, daily, this long.
VERIFICATION_CHECKS = 14
NUDGE_ADMINS = "onboarding.nudge_admins"
APPLY_DECISION = "onboarding.apply_decision"
TELL_DECISION = "onboarding.tell_decision"
