"""Side effects of the Quotation workflow that change the quotation: accept (making the order),
reject, expire, extend, withdraw, issue a revision, and record how the order's payment ended.

Each runs in one transaction with the quotation row locked and is idempotent: a retry finds the
change made and answers the same (an accepted quotation answers with its order, never a second
one). The status checks here are the database's half of the accept-vs-expiry rule: whichever
change takes the row first wins, the other is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core.db import TenantScope, scoped_session
from domain.payments.orders import MONEY_HELD, FulfilmentLine, OrderInput, OrderStatus
from domain.payments.pricing import GstMode
from domain.quotations import (
    ACCEPT,
    EXPIRE,
    EXTEND,
    OPEN,
    REJECT,
    REVISE,
    SETTLE,
    WITHDRAW,
    AcceptStep,
    DiscountKind,
    QuotationStatus,
    QuoteLine,
    QuoteLineKind,
    SettleStep,
    Step,
    price_quotation,
    quote_number,
)
from models.payments import Order, OrderLine, payment_settings
from models.platform import record_audit
from models.quotations import Quotation, QuotationLine, QuotationVersion


def _fail(message: str, type_: str = "QuotationClosed") -> NoReturn:
    raise ApplicationError(message, type=type_, non_retryable=True)


async def load_quotation(session: AsyncSession, quotation_id: uuid.UUID, *, lock: bool = True) -> Quotation:
    stmt = select(Quotation).where(Quotation.id == quotation_id)
    found = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if found is None:
        _fail(f"quotation {quotation_id} no longer exists", "QuotationGone")
    return found


async def version_of(session: AsyncSession, quotation: Quotation, version: int | None = None
                     ) -> tuple[QuotationVersion, list[QuotationLine]]:
    row = (await session.execute(select(QuotationVersion).where(
        QuotationVersion.quotation_id == quotation.id,
        QuotationVersion.version == (version or quotation.current_version)))).scalar_one_or_none()
    if row is None:
        _fail(f"quotation {quotation.id} has no version {version or quotation.current_version}", "QuotationGone")
    lines = list((await session.execute(select(QuotationLine).where(QuotationLine.version_id == row.id)
                                        .order_by(QuotationLine.position))).scalars())
    return row, lines


def quote_lines(lines: list[QuotationLine]) -> list[QuoteLine]:
    return [QuoteLine(kind=QuoteLineKind(line.kind), description=line.description, unit_amount=line.unit_amount,
                      quantity=line.quantity, offering_id=str(line.offering_id) if line.offering_id else None,
                      ref_id=line.ref_id) for line in lines]


def _open_or_fail(quotation: Quotation, at: datetime, *, allow_past_expiry: bool = False) -> None:
    if quotation.status not in OPEN:
        _fail(f"this quotation is {quotation.status}")
    if not allow_past_expiry and quotation.expires_at is not None and at >= quotation.expires_at:
        _fail(f"this quotation expired at {quotation.expires_at:%Y-%m-%d %H:%M} UTC", "QuotationExpired")


class QuotationActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker

    @activity.defn(name=ACCEPT)
    async def accept(self, step: AcceptStep) -> OrderInput:
        """Make the order for the current version (once) and mark the quotation accepted."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.status != QuotationStatus.ACCEPTED or quotation.order_id is None:
                _open_or_fail(quotation, step.at)
                if quotation.client_id is None:
                    _fail("this quotation has no client to make the order for")
                order = await self._make_order(session, quotation, step)
                quotation.status = QuotationStatus.ACCEPTED
                quotation.order_id = order.id
                quotation.decided_at = step.at
                await record_audit(session, tenant_id=quotation.tenant_id, action="quotation.accepted",
                                   actor_user_id=step.request.actor_user_id, actor_role=None,
                                   target_type="quotation", target_id=quotation.id,
                                   details={"order_id": str(order.id), "via": step.request.via,
                                            "version": quotation.current_version})
            order_row = await session.get(Order, quotation.order_id)
            assert order_row is not None
            lines = list((await session.execute(select(OrderLine).where(OrderLine.order_id == order_row.id)
                                                .order_by(OrderLine.position))).scalars())
            window = max(int((order_row.expires_at - (quotation.decided_at or step.at)).total_seconds()), 1)
            return OrderInput(
                order_id=order_row.id, tenant_id=order_row.tenant_id, client_id=order_row.client_id,
                currency=order_row.currency, total=order_row.total, amount_due=order_row.amount_due,
                wallet_applied=0, expires_at=order_row.expires_at, payment_window_seconds=window,
                lines=[FulfilmentLine(line_id=line.id, kind=line.kind, ref_id=line.ref_id,
                                      description=line.description, total=line.total) for line in lines],
                notify_workflow_id=step.ref.workflow_id)

    async def _make_order(self, session: AsyncSession, quotation: Quotation, step: AcceptStep) -> Order:
        """The order of the accepted version: its lines and figures exactly (priced by the same rules)."""
        assert quotation.client_id is not None
        version, rows = await version_of(session, quotation)
        price = price_quotation(quote_lines(rows), currency=version.currency,
                                discount_kind=DiscountKind(version.discount_kind),
                                discount_value=version.discount_value, gst_mode=GstMode(version.gst_mode),
                                gst_rate_bp=version.gst_rate_bp)
        setup = await payment_settings(session, quotation.tenant_id)
        order = Order(
            id=uuid.uuid4(), tenant_id=quotation.tenant_id, client_id=quotation.client_id,
            status=OrderStatus.PENDING_PAYMENT.value, currency=version.currency, subtotal=price.subtotal,
            discount=price.discount, taxable=price.taxable, tax=price.tax, total=price.total, wallet_applied=0,
            amount_due=price.total, amount_paid=0, amount_refunded=0, gst_mode=version.gst_mode,
            gst_rate_bp=version.gst_rate_bp,
            gstin=setup.gstin if setup and version.gst_mode != GstMode.NONE else None,
            expires_at=step.at + timedelta(seconds=step.payment_window_seconds),
            created_by=step.request.actor_user_id, wallet_released=False,
            note=f"Quotation {quote_number(quotation.number)} v{quotation.current_version}")
        session.add(order)
        await session.flush()
        for position, priced in enumerate(price.lines):
            session.add(OrderLine(
                id=uuid.uuid4(), tenant_id=quotation.tenant_id, order_id=order.id, position=position,
                kind=priced.line.kind.value, description=priced.line.description[:300],
                offering_id=priced.line.offering_id, ref_id=priced.line.ref_id, quantity=priced.line.quantity,
                unit_amount=priced.line.unit_amount, gross=priced.gross, discount=priced.discount,
                taxable=priced.taxable, tax=priced.tax, total=priced.total, status="pending"))
        await session.flush()
        return order

    @activity.defn(name=REJECT)
    async def reject(self, step: Step) -> str:
        assert step.reject is not None
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.status != QuotationStatus.REJECTED:
                _open_or_fail(quotation, step.at)
                quotation.status = QuotationStatus.REJECTED
                quotation.decided_at = step.at
                quotation.decision_reason = step.reject.reason
                await self._audit(session, quotation, "quotation.rejected", step.reject.actor_user_id,
                                  {"reason": step.reject.reason})
            return quotation.status

    @activity.defn(name=EXPIRE)
    async def expire(self, step: Step) -> str:
        """Expire an open quotation whose time has come; answer the status it has (accepted meanwhile: that)."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.status in OPEN and quotation.expires_at is not None and step.at >= quotation.expires_at:
                quotation.status = QuotationStatus.EXPIRED
                quotation.decided_at = step.at
            return quotation.status

    @activity.defn(name=EXTEND)
    async def extend(self, step: Step) -> str:
        assert step.extend is not None
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            _open_or_fail(quotation, step.at, allow_past_expiry=True)
            if quotation.expires_at != step.extend.expires_at:
                before = quotation.expires_at
                quotation.expires_at = step.extend.expires_at
                await session.execute(update(QuotationVersion).where(
                    QuotationVersion.quotation_id == quotation.id,
                    QuotationVersion.version == quotation.current_version).values(expires_at=step.extend.expires_at))
                await self._audit(session, quotation, "quotation.extended", step.extend.actor_user_id,
                                  {"from": before.isoformat() if before else None,
                                   "to": step.extend.expires_at.isoformat()})
            return quotation.status

    @activity.defn(name=WITHDRAW)
    async def withdraw(self, step: Step) -> str:
        assert step.withdraw is not None
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.status != QuotationStatus.WITHDRAWN:
                _open_or_fail(quotation, step.at, allow_past_expiry=True)
                quotation.status = QuotationStatus.WITHDRAWN
                quotation.decided_at = step.at
                quotation.decision_reason = step.withdraw.reason
                await self._audit(session, quotation, "quotation.withdrawn", step.withdraw.actor_user_id,
                                  {"reason": step.withdraw.reason})
            return quotation.status

    @activity.defn(name=REVISE)
    async def revise(self, step: Step) -> str:
        """Issue the revision the API wrote (unissued): it becomes the current version, sent again."""
        assert step.revise is not None
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.current_version == step.revise.version:
                return quotation.status  # a retry: issued already
            _open_or_fail(quotation, step.at, allow_past_expiry=True)
            version, _ = await version_of(session, quotation, step.revise.version)
            version.issued_at = step.at
            version.expires_at = step.revise.expires_at
            quotation.current_version = version.version
            quotation.title = version.title
            quotation.total = version.total
            quotation.currency = version.currency
            quotation.expires_at = step.revise.expires_at
            quotation.status = QuotationStatus.SENT
            quotation.sent_at = step.at
            await self._audit(session, quotation, "quotation.revised", step.revise.actor_user_id,
                              {"version": version.version, "total": version.total})
            return quotation.status

    @activity.defn(name=SETTLE)
    async def settle(self, step: SettleStep) -> str:
        """The order's payment ended (or the workflow looks at it past its window): paid or lapsed."""
        async with scoped_session(self.sessionmaker, TenantScope.of(step.ref.tenant_id)) as session:
            quotation = await load_quotation(session, step.ref.quotation_id)
            if quotation.status != QuotationStatus.ACCEPTED or quotation.order_id != step.order_id:
                return quotation.status
            order = await session.get(Order, step.order_id)
            status = step.reported or (order.status if order else OrderStatus.CANCELLED.value)
            if status in {s.value for s in MONEY_HELD}:
                quotation.status = QuotationStatus.PAID
                quotation.paid_at = (order.paid_at if order else None) or step.at
            elif status in (OrderStatus.EXPIRED, OrderStatus.CANCELLED):
                quotation.status = QuotationStatus.LAPSED
            return quotation.status

    async def _audit(self, session: AsyncSession, quotation: Quotation, action: str, actor: uuid.UUID | None,
                     details: dict[str, object]) -> None:
        await record_audit(session, tenant_id=quotation.tenant_id, action=action, actor_user_id=actor,
                           actor_role=None, target_type="quotation", target_id=quotation.id, details=details)

    def all(self) -> list[Callable[..., Any]]:
        return [self.accept, self.reject, self.expire, self.extend, self.withdraw, self.revise, self.settle]
