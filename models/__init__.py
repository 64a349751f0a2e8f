"""SQLAlchemy models, one module per context. Importing this package registers them all."""

from models.base import Base
from models.identity import AuthSession, OneTimeToken, RecoveryCode, RetiredRefreshToken, Role, User
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
from models.platform import AuditEvent, IdempotencyRecord, OutboxMessage, PendingWorkflowStart
from models.tenancy import Tenant, TenantDomain, TenantStatus

__all__ = [
    "AuditEvent",
    "AuthSession",
    "Base",
    "Coupon",
    "CouponRedemption",
    "GatewayWebhookEvent",
    "IdempotencyRecord",
    "Invoice",
    "InvoiceCounter",
    "OneTimeToken",
    "Order",
    "OrderLine",
    "OutboxMessage",
    "Payment",
    "PaymentSettings",
    "PendingWorkflowStart",
    "RecoveryCode",
    "Refund",
    "RetiredRefreshToken",
    "Role",
    "Tenant",
    "TenantDomain",
    "TenantStatus",
    "User",
    "WalletAccount",
    "WalletEntry",
]
