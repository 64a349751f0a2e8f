"""SQLAlchemy models, one module per context. Importing this package registers them all."""

from models.base import Base
from models.bookings import AvailabilityOverride, Booking, Consultant, Offering, WebinarSession
from models.identity import AuthSession, OneTimeToken, RecoveryCode, RetiredRefreshToken, Role, User
from models.platform import AuditEvent, IdempotencyRecord, OutboxMessage, PendingWorkflowStart
from models.tenancy import Tenant, TenantDomain, TenantStatus

__all__ = [
    "AuditEvent",
    "AuthSession",
    "AvailabilityOverride",
    "Base",
    "Booking",
    "Consultant",
    "IdempotencyRecord",
    "Offering",
    "OneTimeToken",
    "OutboxMessage",
    "PendingWorkflowStart",
    "RecoveryCode",
    "RetiredRefreshToken",
    "Role",
    "Tenant",
    "TenantDomain",
    "TenantStatus",
    "User",
    "WebinarSession",
]
