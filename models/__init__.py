"""SQLAlchemy models, one module per context. Importing this package registers them all."""

from models.base import Base
from models.identity import AuthSession, OneTimeToken, RecoveryCode, RetiredRefreshToken, Role, User
from models.notifications import (
    Broadcast,
    BroadcastRecipient,
    InAppNotification,
    NotificationDelivery,
    NotificationPreference,
    NotificationTemplate,
    TenantNotificationSettings,
)
from models.platform import AuditEvent, IdempotencyRecord, OutboxMessage, PendingWorkflowStart
from models.tenancy import Tenant, TenantDomain, TenantStatus

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Base",
    "Broadcast",
    "BroadcastRecipient",
    "IdempotencyRecord",
    "InAppNotification",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationTemplate",
    "OneTimeToken",
    "OutboxMessage",
    "PendingWorkflowStart",
    "RecoveryCode",
    "RetiredRefreshToken",
    "Role",
    "Tenant",
    "TenantDomain",
    "TenantNotificationSettings",
    "TenantStatus",
    "User",
]
