"""Session packages: N sessions of an offering bought at a package price, used one booking at a time.

Pure rules and the SessionPackage workflow's contract (docs/checkout.md). A paid package line
grants its credits (a `package_grants` row, id = the order line's id) and starts
`package-<grant id>`, which reminds the client before the credits expire and expires what is
left when the time is up. A booking takes one credit; a cancelled booking gives it back when
the booking's own cancellation policy would have refunded at least the package's
`credit_back_min_percent` of a paid booking (100 by default: the credit comes back exactly
when money would have come back in full). A consultant cancelling always gives it back.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

PACKAGE_WORKFLOW = "SessionPackage"

# activity names (activities/packages.py)
GRANT_CREDITS = "packages.grant_credits"
CREDITS_LEFT = "packages.credits_left"
EXPIRE_CREDITS = "packages.expire_credits"
REVOKE_CREDITS = "packages.revoke_credits"
NOTIFY_PACKAGE = "packages.notify"

EXPIRING_EVENT = "package.expiring"


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"     # the time ran out; unused credits are gone
    REVOKED = "revoked"     # the order was refunded or compensated


class MoveKind(enum.StrEnum):
    GRANT = "grant"
    USE = "use"
    RETURN = "return"
    EXPIRE = "expire"
    REVOKE = "revoke"


def package_workflow_id(grant_id: UUID | str) -> str:
    return f"package-{grant_id}"


def reminder_at(expires_at: datetime, reminder_days: int) -> datetime | None:
    """When to remind the client of unused credits (None: no reminder)."""
    if reminder_days <= 0:
        return None
    return expires_at - timedelta(days=reminder_days)


def credit_comes_back(refund_percent: int, min_percent: int, *, by_consultant: bool) -> bool:
    """Whether a cancelled booking paid with a credit gives the credit back."""
    return by_consultant or refund_percent >= min_percent


class GrantRequest(BaseModel):
    """What the Order workflow's package handler asks for: the credits of one paid line."""

    grant_id: UUID          # the order line's id
    tenant_id: UUID
    client_id: UUID
    order_id: UUID | None
    package_id: UUID
    granted_at: datetime


class PackageInput(BaseModel):
    grant_id: UUID
    tenant_id: UUID
    client_id: UUID
    expires_at: datetime
    remind_at: datetime | None = None


class GrantRef(BaseModel):
    grant_id: UUID
    tenant_id: UUID
    workflow_id: str


class CreditsLeft(BaseModel):
    status: GrantStatus
    left: int


class RevokeCredits(BaseModel):
    ref: GrantRef
    reason: str


class PackageNotice(BaseModel):
    ref: GrantRef
    event: str
    step: str


class PackageState(BaseModel):
    grant_id: UUID
    status: GrantStatus
    expires_at: datetime
    remind_at: datetime | None
    reminded: bool = False
    left_at_end: int | None = None
