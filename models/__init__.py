"""SQLAlchemy models, one module per context. Importing this package registers them all."""

from models.astrology import BirthProfile, InterpretiveText, SuggestionRule
from models.base import Base
from models.bookings import AvailabilityOverride, Booking, Consultant, Offering, WebinarSession
from models.files import ReportDelivery, StoredFile
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
from models.payments import (
    Coupon,
    CouponRedemption,
    GatewayWebhookEvent,
    Invoice,
    InvoiceCounter,
    Order,
    OrderLine,
    Payment,
    PaymentSettings,
    Refund,
    WalletAccount,
    WalletEntry,
)
from models.platform import AuditEvent, IdempotencyRecord, OutboxMessage, PendingWorkflowSignal, PendingWorkflowStart
from models.tenancy import Tenant, TenantDomain, TenantStatus

__all__ = [
    "AuditEvent",
    "AuthSession",
    "AvailabilityOverride",
    "Base",
    "BirthProfile",
    "Booking",
    "Broadcast",
    "BroadcastRecipient",
    "Consultant",
    "Coupon",
    "CouponRedemption",
    "GatewayWebhookEvent",
    "IdempotencyRecord",
    "InAppNotification",
    "InterpretiveText",
    "Invoice",
    "InvoiceCounter",
    "NotificationDelivery",
    "NotificationPreference",
    "NotificationTemplate",
    "Offering",
    "OneTimeToken",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Payment",
    "PaymentSettings",
    "PendingWorkflowSignal",
    "PendingWorkflowStart",
    "RecoveryCode",
    "Refund",
    "ReportDelivery",
    "RetiredRefreshToken",
    "Role",
    "StoredFile",
    "SuggestionRule",
    "Tenant",
    "TenantDomain",
    "TenantNotificationSettings",
    "TenantStatus",
    "User",
    "WalletAccount",
    "WalletEntry",
    "WebinarSession",
]
