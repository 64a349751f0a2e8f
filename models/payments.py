"""Payments: tenant payment settings, coupons, orders and their lines, gateway payments, refunds,
the wallet ledger, invoices with gap-free numbers, and the raw gateway webhook events.

Money columns are BIGINT minor units with a 3-letter currency; the database checks the sums
that must hold (a wallet never below zero, a coupon never past its limit).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from core.razorpay import (
    RAZORPAY_API,
    TENANT,
    GatewayCredentials,
    PaymentsNotConfigured,
    local_gateway_url,
    platform_credentials,
)
from core.security import Keys
from core.settings import Settings
from models.base import Base, IdMixin, OptionallyTenantOwned, TenantOwned, TimestampMixin, utcnow

MONEY = BigInteger


class PaymentSettings(IdMixin, TimestampMixin, TenantOwned, Base):
    """A tenant's tax identity, invoice series, payment window and (optionally) own Razorpay keys."""

    __tablename__ = "payment_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id"),
        CheckConstraint("gst_rate_bp >= 0 AND gst_rate_bp <= 10000", name="gst_rate"),
        CheckConstraint("gst_mode IN ('none', 'inclusive', 'exclusive')", name="gst_mode"),
    )

    currency: Mapped[str] = mapped_column(String(3), default="INR")
    gst_mode: Mapped[str] = mapped_column(String(16), default="none")
    gst_rate_bp: Mapped[int] = mapped_column(Integer, default=1800)
    gstin: Mapped[str | None] = mapped_column(String(15))
    legal_name: Mapped[str | None] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    invoice_prefix: Mapped[str] = mapped_column(String(16), default="INV")
    payment_window_minutes: Mapped[int] = mapped_column(Integer, default=30)
    razorpay_key_id: Mapped[str | None] = mapped_column(String(64))
    razorpay_key_secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    razorpay_webhook_secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    # Razorpay refused the consultancy's own keys (401/403): since when, which key id, in its words.
    # Written by activities/payments/gateway_health.py; cleared when a call with that key succeeds
    # or the owner saves new keys (PUT /payments/settings).
    gateway_refused_at: Mapped[datetime | None]
    gateway_refused_key_id: Mapped[str | None] = mapped_column(String(64))
    gateway_refused_reason: Mapped[str | None] = mapped_column(String(300))


class Coupon(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        UniqueConstraint("tenant_id", "code"),
        CheckConstraint("uses >= 0", name="uses_not_negative"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind"),
    )

    code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    percent_bp: Mapped[int | None] = mapped_column(Integer)
    amount_off: Mapped[int | None] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="INR")
    max_discount: Mapped[int | None] = mapped_column(MONEY)
    min_order_amount: Mapped[int] = mapped_column(MONEY, default=0)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None]
    max_uses: Mapped[int | None] = mapped_column(Integer)
    max_uses_per_client: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    offering_kinds: Mapped[list[str]] = mapped_column(JSONB, default=list)
    offering_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(String(300))


class CouponRedemption(IdMixin, TimestampMixin, TenantOwned, Base):
    """One use of a coupon by an order; released (and the use given back) if the order is never paid."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        UniqueConstraint("order_id"),
        Index("ix_coupon_redemptions_coupon_client", "coupon_id", "client_id"),
    )

    coupon_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    released_at: Mapped[datetime | None]


class Order(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("subtotal >= 0 AND discount >= 0 AND tax >= 0 AND wallet_applied >= 0 "
                        "AND amount_due >= 0 AND amount_paid >= 0 AND amount_refunded >= 0", name="amounts"),
        CheckConstraint("total = taxable + tax", name="total_is_taxable_plus_tax"),
        CheckConstraint("amount_due = total - wallet_applied", name="due_is_total_less_wallet"),
        CheckConstraint("amount_refunded <= amount_paid + wallet_applied", name="refund_within_paid"),
        Index("ix_orders_status_created", "status", "created_at"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="pending_payment")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(MONEY)
    discount: Mapped[int] = mapped_column(MONEY, default=0)
    taxable: Mapped[int] = mapped_column(MONEY)
    tax: Mapped[int] = mapped_column(MONEY, default=0)
    total: Mapped[int] = mapped_column(MONEY)
    wallet_applied: Mapped[int] = mapped_column(MONEY, default=0)
    amount_due: Mapped[int] = mapped_column(MONEY)
    amount_paid: Mapped[int] = mapped_column(MONEY, default=0)
    amount_refunded: Mapped[int] = mapped_column(MONEY, default=0)
    gst_mode: Mapped[str] = mapped_column(String(16))
    gst_rate_bp: Mapped[int] = mapped_column(Integer)
    gstin: Mapped[str | None] = mapped_column(String(15))
    # The buyer's state code (as a GSTIN starts); None: the consultancy's own state (CGST + SGST).
    place_of_supply: Mapped[str | None] = mapped_column(String(2))
    coupon_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("coupons.id", ondelete="SET NULL"))
    coupon_code: Mapped[str | None] = mapped_column(String(40))
    expires_at: Mapped[datetime]
    gateway_key_id: Mapped[str | None] = mapped_column(String(64))  # the Razorpay account the order lives in
    gateway_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Who is asking Razorpay for the gateway order right now (activities/payments/gateway_order.py):
    # claimed in one short transaction, released with the result in another, never held across the call.
    gateway_claim: Mapped[str | None] = mapped_column(String(200))
    gateway_claimed_at: Mapped[datetime | None]
    paid_payment_id: Mapped[str | None] = mapped_column(String(64))
    paid_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    wallet_released: Mapped[bool] = mapped_column(Boolean, default=False)  # an unpaid order gave it back
    review_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))


class OrderLine(IdMixin, TenantOwned, Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "position"),
        CheckConstraint("quantity > 0 AND unit_amount >= 0 AND discount >= 0 AND tax >= 0", name="amounts"),
        CheckConstraint("total = taxable + tax", name="total_is_taxable_plus_tax"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(String(300))
    offering_id: Mapped[str | None] = mapped_column(String(100))
    ref_id: Mapped[str | None] = mapped_column(String(100))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_amount: Mapped[int] = mapped_column(MONEY)
    gross: Mapped[int] = mapped_column(MONEY)
    discount: Mapped[int] = mapped_column(MONEY, default=0)
    taxable: Mapped[int] = mapped_column(MONEY)
    tax: Mapped[int] = mapped_column(MONEY, default=0)
    total: Mapped[int] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(32), default="pending")
    status_detail: Mapped[str | None] = mapped_column(Text)


class Payment(IdMixin, TimestampMixin, TenantOwned, Base):
    """A payment the gateway told us about, once per gateway payment id whatever told us how often."""

    __tablename__ = "payments"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    gateway_payment_id: Mapped[str] = mapped_column(String(64), unique=True)
    gateway_order_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))       # captured / authorized / failed
    result: Mapped[str] = mapped_column(String(16))       # domain.payments.orders.PaymentResult
    amount: Mapped[int | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    method: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)


class Refund(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "refunds"
    __table_args__ = (
        UniqueConstraint("tenant_id", "key"),
        CheckConstraint("amount > 0 AND gateway_amount >= 0 AND wallet_amount >= 0 "
                        "AND amount = gateway_amount + wallet_amount", name="amounts"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(MONEY)
    gateway_amount: Mapped[int] = mapped_column(MONEY)
    wallet_amount: Mapped[int] = mapped_column(MONEY)
    destination: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    gateway_refund_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    requested_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    cancellation_ref: Mapped[str | None] = mapped_column(String(100))
    processed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(Text)
    # status `held`: Razorpay refuses the keys; since when (the first refusal) and its words
    held_since: Mapped[datetime | None]
    held_reason: Mapped[str | None] = mapped_column(String(500))


class WalletAccount(IdMixin, TimestampMixin, TenantOwned, Base):
    """A client's store credit in one currency. The row is the lock every movement takes;
    the balance is the sum of the entries, never stored apart from them."""

    __tablename__ = "wallet_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "client_id", "currency"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))


class WalletEntry(IdMixin, TenantOwned, Base):
    """One movement of store credit (credit positive, debit negative); never updated or deleted."""

    __tablename__ = "wallet_entries"
    __table_args__ = (
        UniqueConstraint("tenant_id", "dedupe_key"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
        CheckConstraint("balance_after >= 0", name="never_negative"),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wallet_accounts.id", ondelete="CASCADE"), index=True)
    amount: Mapped[int] = mapped_column(MONEY)
    balance_after: Mapped[int] = mapped_column(MONEY)
    kind: Mapped[str] = mapped_column(String(32))  # order_payment, order_release, refund, manual_credit, ...
    dedupe_key: Mapped[str] = mapped_column(String(200))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    refund_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("refunds.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(index=True)


class InvoiceCounter(Base):
    """The last number issued in a tenant's invoice series (one series per financial year).

    Taken with the invoice in one transaction (INSERT .. ON CONFLICT DO UPDATE locks the row),
    so a number is used exactly once and a rolled-back invoice gives its number back."""

    __tablename__ = "invoice_counters"

    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True)
    series: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer)


class Invoice(IdMixin, TimestampMixin, TenantOwned, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("order_id"),
        UniqueConstraint("tenant_id", "series", "number"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id", ondelete="RESTRICT"))
    series: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    invoice_number: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[datetime]
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[int] = mapped_column(MONEY)
    tax: Mapped[int] = mapped_column(MONEY)
    gstin: Mapped[str | None] = mapped_column(String(15))
    seller: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    buyer: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    html: Mapped[str] = mapped_column(Text)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class GatewayWebhookEvent(IdMixin, OptionallyTenantOwned, Base):
    """A verified webhook delivery, stored raw before anything is done with it.

    `event_id` (Razorpay's x-razorpay-event-id) makes a redelivery a no-op. `processed_at`
    is set once the event was acted on; the worker's relay picks up any left unprocessed.
    tenant_id is the tenant whose own Razorpay account sent it (NULL: the platform account).
    Only the events still to act on are indexed for the relay: most are stored settled, and an
    index over every processed_at would grow with all of them (migration 3100).
    """

    __tablename__ = "gateway_webhook_events"
    __table_args__ = (Index("ix_gateway_webhook_events_unprocessed", "received_at",
                            postgresql_where=text("processed_at IS NULL")),)

    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)


# -- repository functions --------------------------------------------------------------------
class InsufficientFunds(Exception):
    def __init__(self, balance: int, wanted: int) -> None:
        super().__init__(f"the wallet holds {balance}, not {wanted}")
        self.balance, self.wanted = balance, wanted


async def lock_wallet(
    session: AsyncSession, tenant_id: uuid.UUID, client_id: uuid.UUID, currency: str
) -> WalletAccount:
    """The client's wallet account in `currency`, created if need be, locked until the transaction ends."""
    await session.execute(
        insert(WalletAccount)
        .values(id=uuid.uuid4(), tenant_id=tenant_id, client_id=client_id, currency=currency)
        .on_conflict_do_nothing(index_elements=["tenant_id", "client_id", "currency"])
    )
    account = (await session.execute(
        select(WalletAccount)
        .where(WalletAccount.tenant_id == tenant_id, WalletAccount.client_id == client_id,
               WalletAccount.currency == currency)
        .with_for_update()
    )).scalar_one()
    return account


async def wallet_balance(session: AsyncSession, tenant_id: uuid.UUID, client_id: uuid.UUID, currency: str) -> int:
    """The balance is the sum of the movements; nothing else stores it."""
    total = await session.scalar(
        select(func.coalesce(func.sum(WalletEntry.amount), 0))
        .join(WalletAccount, WalletAccount.id == WalletEntry.account_id)
        .where(WalletAccount.tenant_id == tenant_id, WalletAccount.client_id == client_id,
               WalletAccount.currency == currency)
    )
    return int(total or 0)


async def move_wallet(
    session: AsyncSession,
    *,
    tenant_id: uuid.UUID,
    client_id: uuid.UUID,
    currency: str,
    amount: int,
    kind: str,
    dedupe_key: str,
    order_id: uuid.UUID | None = None,
    refund_id: uuid.UUID | None = None,
    note: str | None = None,
    created_by: uuid.UUID | None = None,
) -> WalletEntry:
    """Credit (amount > 0) or debit (amount < 0) a wallet once per dedupe key.

    The account row is locked first, so concurrent movements of one wallet take turns: a debit
    sees every earlier movement and is refused (InsufficientFunds) if it would go below zero.
    `balance_after` is checked >= 0 by the database as a second line of defence.
    """
    if amount == 0:
        raise ValueError("a wallet movement cannot be zero")
    account = await lock_wallet(session, tenant_id, client_id, currency)
    existing = (await session.execute(
        select(WalletEntry).where(WalletEntry.tenant_id == tenant_id, WalletEntry.dedupe_key == dedupe_key)
    )).scalar_one_or_none()
    if existing is not None:
        return existing
    balance = await wallet_balance(session, tenant_id, client_id, currency)
    if balance + amount < 0:
        raise InsufficientFunds(balance, -amount)
    entry = WalletEntry(
        tenant_id=tenant_id, account_id=account.id, amount=amount, balance_after=balance + amount, kind=kind,
        dedupe_key=dedupe_key, order_id=order_id, refund_id=refund_id, note=note, created_by=created_by,
        created_at=utcnow(),
    )
    session.add(entry)
    await session.flush()
    return entry


async def lock_coupon(session: AsyncSession, tenant_id: uuid.UUID, code: str) -> Coupon | None:
    """The coupon row, locked: concurrent orders using it take turns, so its limits hold."""
    return (await session.execute(
        select(Coupon).where(Coupon.tenant_id == tenant_id, Coupon.code == code.strip().upper()).with_for_update()
    )).scalar_one_or_none()


async def client_coupon_uses(session: AsyncSession, coupon_id: uuid.UUID, client_id: uuid.UUID) -> int:
    return int(await session.scalar(
        select(func.count()).select_from(CouponRedemption)
        .where(CouponRedemption.coupon_id == coupon_id, CouponRedemption.client_id == client_id,
               CouponRedemption.released_at.is_(None))
    ) or 0)


async def release_coupon(session: AsyncSession, order_id: uuid.UUID) -> bool:
    """Give an unpaid order's coupon use back (once)."""
    released = (await session.execute(
        update(CouponRedemption)
        .where(CouponRedemption.order_id == order_id, CouponRedemption.released_at.is_(None))
        .values(released_at=utcnow())
        .returning(CouponRedemption.coupon_id)
    )).scalar_one_or_none()
    if released is None:
        return False
    await session.execute(update(Coupon).where(Coupon.id == released).values(uses=Coupon.uses - 1))
    return True


async def next_invoice_number(session: AsyncSession, tenant_id: uuid.UUID, series: str) -> int:
    """The next number of the series, in the caller's transaction: the counter row stays locked
    until it commits, and a rollback returns the number, so numbers have no gaps or repeats."""
    number = (await session.execute(
        insert(InvoiceCounter)
        .values(tenant_id=tenant_id, series=series, last_number=1)
        .on_conflict_do_update(index_elements=["tenant_id", "series"],
                               set_={"last_number": InvoiceCounter.last_number + 1})
        .returning(InvoiceCounter.last_number)
    )).scalar_one()
    return int(number)


async def payment_settings(session: AsyncSession, tenant_id: uuid.UUID) -> PaymentSettings | None:
    return (await session.execute(
        select(PaymentSettings).where(PaymentSettings.tenant_id == tenant_id)
    )).scalar_one_or_none()


def gateway_base_url(settings: Settings) -> str:
    if settings.razorpay_base_url:
        return settings.razorpay_base_url.rstrip("/")
    if settings.razorpay_key_id or settings.is_production:
        return RAZORPAY_API
    return local_gateway_url(settings)


def tenant_credentials(row: PaymentSettings | None, settings: Settings, keys: Keys) -> GatewayCredentials | None:
    """A tenant's own Razorpay account, if it stored keys."""
    if row is None or not (row.razorpay_key_id and row.razorpay_key_secret_encrypted):
        return None
    return GatewayCredentials(
        key_id=row.razorpay_key_id,
        key_secret=keys.decrypt(row.razorpay_key_secret_encrypted),
        webhook_secret=keys.decrypt(row.razorpay_webhook_secret_encrypted)
        if row.razorpay_webhook_secret_encrypted else "",
        base_url=gateway_base_url(settings),
        account=TENANT,
    )


async def credentials_for(
    session: AsyncSession, tenant_id: uuid.UUID, settings: Settings, keys: Keys, *, key_id: str | None = None
) -> GatewayCredentials:
    """The account to use for a tenant: its own keys if stored, else the platform's. With
    `key_id` (an order's), the account that order was created in, whichever it is."""
    own = tenant_credentials(await payment_settings(session, tenant_id), settings, keys)
    platform = platform_credentials(settings)
    if key_id is None:
        return own or platform
    for candidate in (own, platform):
        if candidate is not None and candidate.key_id == key_id:
            return candidate
    raise PaymentsNotConfigured(f"the Razorpay account {key_id} of this order is no longer configured")
