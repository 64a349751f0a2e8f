"""Slots, booking without double booking, and acting on a booking through its workflow.

Booking is one transaction: check the slot (a friendly answer), insert the row (the exclusion
constraint is the real guard: a concurrent insert of an overlapping live booking fails with
23P01, answered as 409 slot-taken), write the pending workflow start; after the commit the
Consultation workflow starts (or the relay starts it).

1:1 bookings hold a KEY SHARE lock on the consultant's row while they check webinar sessions and
insert; scheduling a webinar session takes an exclusive lock on that row. Bookings therefore
never wait for each other (the constraint decides between them), while a webinar session and a
1:1 booking can never be placed over each other in a race.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.deps import Principal, tenant_in_scope
from api.problems import (
    BOOKING_NOT_PAYABLE,
    CONFLICT,
    FORBIDDEN,
    INVALID_LINK,
    NO_PACKAGE_CREDIT,
    NOT_A_SLOT,
    NOT_FOUND,
    SLOT_TAKEN,
    SOLD_OUT,
    TENANT_SUSPENDED,
    TENANT_UNKNOWN,
    TOKEN_EXPIRED_OR_USED,
    VALIDATION,
    Problem,
)
from api.schemas.bookings import BookingOut, BookingRequest
from api.services.orders import NewOrder, create_order, start_order_workflow
from api.state import AppState
from api.workflow_starts import start_after_commit
from core.db import TenantScope, enter_scope
from core.signing import LinkError, booking_link_token, sign, verify
from domain.bookings import links
from domain.bookings.consultation import (
    NOT_A_SLOT_ERROR,
    SLOT_TAKEN_ERROR,
    WORKFLOW_TYPE,
    BookingStatus,
    ConsultationInput,
    ConsultationState,
    consultation_workflow_id,
)
from domain.bookings.intake import IntakeError, IntakeField, check_intake
from domain.bookings.policies import ReschedulePolicy
from domain.bookings.slots import Busy, slot_is_free
from domain.payments.orders import OrderInput
from domain.payments.pricing import LineIn, LineKind
from models.bookings import (
    Booking,
    Consultant,
    Offering,
    OfferingKind,
    WebinarSession,
    WebinarStatus,
    blocked_range,
    consultant_for_booking,
    slot_context,
)
from models.catalogue import take_credit
from models.identity import Role, User
from models.payments import Order
from models.platform import record_audit
from models.tenancy import Tenant, TenantStatus
from workflows.search_attributes import CLIENT_ID, CONSULTANT_ID, ENTITY_STATUS, TENANT_ID


# -- lookups -------------------------------------------------------------------------------
async def public_tenant(session: AsyncSession, slug: str) -> Tenant:
    """An active consultancy by its slug; the session now acts within it (public pages)."""
    tenant = await tenant_in_scope(session, "slug", slug.lower())
    if tenant is not None and tenant.status == TenantStatus.SUSPENDED:
        raise Problem(TENANT_SUSPENDED, f"{tenant.name} is suspended: its pages and bookings are closed for now",
                      field="tenant_slug")
    if tenant is None or tenant.status != TenantStatus.ACTIVE:
        raise Problem(TENANT_UNKNOWN, f"no consultancy is called '{slug}'", field="tenant_slug")
    return tenant


async def own_consultant(session: AsyncSession, principal: Principal) -> Consultant | None:
    stmt = select(Consultant).where(Consultant.user_id == principal.user_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def consultant_of(session: AsyncSession, tenant: Tenant, consultant_id: uuid.UUID,
                        principal: Principal | None = None) -> Consultant:
    """The tenant's consultant; a consultant-role principal may only manage their own."""
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None or consultant.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no consultant with this id", field="consultant_id")
    if principal and principal.role == Role.CONSULTANT and consultant.user_id != principal.user_id:
        raise Problem(FORBIDDEN, "consultants manage only their own profile and offerings")
    return consultant


async def offering_of(session: AsyncSession, tenant: Tenant, offering_id: uuid.UUID,
                      principal: Principal | None = None, *, field: str = "offering_id") -> Offering:
    offering = await session.get(Offering, offering_id)
    if offering is None or offering.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no offering with this id", field=field)
    if principal and principal.role == Role.CONSULTANT:
        await consultant_of(session, tenant, offering.consultant_id, principal)
    return offering


async def visible_booking(session: AsyncSession, tenant: Tenant, booking_id: uuid.UUID, principal: Principal,
                          *, lock: bool = False) -> Booking:
    """A booking the principal may see: clients their own, consultants theirs, owner and staff all."""
    stmt = select(Booking).where(Booking.id == booking_id, Booking.tenant_id == tenant.id)
    booking = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if booking is not None and principal.role == Role.CLIENT and booking.client_id != principal.user_id:
        booking = None
    if booking is not None and principal.role == Role.CONSULTANT:
        mine = await own_consultant(session, principal)
        booking = booking if mine and booking.consultant_id == mine.id else None
    if booking is None:
        raise Problem(NOT_FOUND, "you have no booking with this id", field="booking_id")
    return booking


def booking_out(booking: Booking, state: AppState, principal: Principal | None = None) -> BookingOut:
    out = BookingOut.model_validate(booking)
    if principal and principal.role in (Role.OWNER, Role.CONSULTANT) and booking.private_notes_encrypted:
        out.private_notes = state.keys.decrypt(booking.private_notes_encrypted)
    return out


# -- booking -------------------------------------------------------------------------------
def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


@dataclass(frozen=True)
class PayWith:
    """How a signed-in client pays a session (docs/checkout.md): a coupon and the wallet on its
    order, or one credit of a session package instead of an order."""

    coupon_code: str | None = None
    use_wallet: bool = False
    use_credit: bool = False


async def create_booking(
    request: Request, session: AsyncSession, state: AppState, *,
    tenant: Tenant, offering: Offering, client: User, body: BookingRequest, actor: Principal | None,
    pay_with: PayWith | None = None,
) -> Booking:
    now = datetime.now(UTC)
    pay_with = pay_with or PayWith()
    if not offering.is_active:
        raise Problem(NOT_FOUND, "this offering is not open for booking", field="offering_id")
    if offering.price_minor == 0 and (pay_with.use_credit or pay_with.coupon_code):
        field = "use_credit" if pay_with.use_credit else "coupon_code"
        raise Problem(VALIDATION, "this session is free: nothing to pay with", field=field)
    if pay_with.use_credit and (pay_with.coupon_code or pay_with.use_wallet):
        raise Problem(VALIDATION, "a package credit pays the whole session: leave out the coupon and the wallet",
                      field="coupon_code" if pay_with.coupon_code else "use_wallet")
    try:
        intake = check_intake([IntakeField.model_validate(f) for f in offering.intake_form], body.intake)
    except IntakeError as exc:
        raise Problem(VALIDATION, str(exc), field=f"intake.{exc.field}") from exc
    seat: WebinarSession | None = None
    if offering.kind == OfferingKind.ONE_TO_ONE:
        if body.starts_at is None or body.webinar_session_id is not None:
            raise Problem(VALIDATION, "a session is booked by its starts_at (one of the free slots)",
                          field="starts_at")
        starts_at = body.starts_at.astimezone(UTC)
        if not await _claim_start(session, offering.consultant_id, starts_at):
            raise Problem(SLOT_TAKEN, "that time is being booked by someone else right now; choose another slot",
                          field="starts_at")
        consultant = await consultant_for_booking(session, offering.consultant_id, offering, starts_at)
        ctx = await slot_context(session, consultant, offering, starts_at, starts_at)
        if not slot_is_free(ctx.availability, ctx.rules, busy=ctx.busy, booked_per_day=ctx.booked_per_day,
                            now=now, at=starts_at):
            if slot_is_free(ctx.availability, ctx.rules, busy=Busy(), now=now, at=starts_at):
                raise Problem(SLOT_TAKEN, "that time is already booked; choose another slot", field="starts_at")
            raise Problem(NOT_A_SLOT, field="starts_at")
        ends_at = starts_at + timedelta(minutes=offering.duration_minutes)
    else:
        if body.webinar_session_id is None:
            raise Problem(VALIDATION, "a webinar is booked by its webinar_session_id", field="webinar_session_id")
        seat = await session.get(WebinarSession, body.webinar_session_id)
        if seat is None or seat.offering_id != offering.id or seat.status != WebinarStatus.SCHEDULED:
            raise Problem(NOT_FOUND, "this offering has no such session", field="webinar_session_id")
        if seat.starts_at < now + timedelta(minutes=offering.min_notice_minutes):
            raise Problem(NOT_A_SLOT, "this session starts too soon to book", field="webinar_session_id")
        try:  # the CHECK (seats_taken <= capacity) refuses the seat beyond the last one
            await session.execute(update(WebinarSession).where(WebinarSession.id == seat.id)
                                  .values(seats_taken=WebinarSession.seats_taken + 1))
        except DBAPIError as exc:  # the request's transaction is rolled back as the problem propagates
            if _sqlstate(exc) == "23514":
                raise Problem(SOLD_OUT, field="webinar_session_id") from exc
            raise
        starts_at, ends_at = seat.starts_at, seat.ends_at

    booking_id = uuid.uuid4()
    paid = offering.price_minor > 0 and not pay_with.use_credit
    booking = Booking(
        id=booking_id, tenant_id=tenant.id, offering_id=offering.id, consultant_id=offering.consultant_id,
        client_id=client.id, webinar_session_id=seat.id if seat else None,
        status=BookingStatus.HELD if paid else BookingStatus.CONFIRMED,
        starts_at=starts_at, ends_at=ends_at, blocked=None if seat else blocked_range(offering, starts_at),
        client_timezone=body.timezone or client.timezone or tenant.timezone, intake=intake,
        price_minor=0 if pay_with.use_credit else offering.price_minor, currency=offering.currency,
        hold_expires_at=now + timedelta(minutes=offering.hold_minutes) if paid else None,
        cancellation_policy=offering.cancellation_policy, reschedule_policy=offering.reschedule_policy,
        meeting_provider=offering.meeting_provider, workflow_id=consultation_workflow_id(booking_id),
    )
    session.add(booking)
    try:
        await session.flush()
    except DBAPIError as exc:  # no savepoint needed: the problem rolls the whole request back
        # 23P01: the exclusion constraint refused an overlapping live booking; 40P01: two
        # overlapping inserts waited on each other and PostgreSQL chose this one to fail.
        if _sqlstate(exc) in ("23P01", "40P01"):
            raise Problem(SLOT_TAKEN, "that time was just booked by someone else; choose another slot",
                          field="starts_at") from exc
        raise
    if pay_with.use_credit:
        grant = await take_credit(session, tenant_id=tenant.id, client_id=client.id, offering_id=offering.id,
                                  booking_id=booking.id, now=now)
        if grant is None:
            raise Problem(NO_PACKAGE_CREDIT, "you have no session-package credit left for this offering; buy a package "
                          "(POST /api/v1/checkout) or book without use_credit", field="use_credit")
        booking.payment_method = "package_credit"
        booking.payment_reference = f"session package {grant.id}"
        await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="booking.created",
                       actor_user_id=actor.user_id if actor else client.id,
                       actor_role=(actor.role.value if actor else Role.CLIENT.value),
                       target_type="booking", target_id=booking.id,
                       details={"offering_id": str(offering.id), "starts_at": starts_at.isoformat(),
                                "status": booking.status.value})
    order_start = await _order_for(session, tenant, offering, booking, actor, pay_with) if paid else None
    order = order_start[0] if order_start else None
    await start_after_commit(
        request, session, state, workflow_type=WORKFLOW_TYPE, workflow_id=booking.workflow_id,
        payload=ConsultationInput(
            booking_id=booking.id, tenant_id=tenant.id, consultant_id=offering.consultant_id, client_id=client.id,
            offering_title=offering.title, status=booking.status, starts_at=starts_at, ends_at=ends_at,
            hold_expires_at=booking.hold_expires_at, order_id=order.id if order else None,
            reminder_offsets_minutes=list(offering.reminder_offsets_minutes or [1440, 60]),
            reschedule_policy=ReschedulePolicy.model_validate(offering.reschedule_policy or {}),
            completion_grace_hours=offering.completion_grace_hours, follow_up_days=offering.follow_up_days,
        ),
        tenant_id=tenant.id,
        search_attributes={TENANT_ID.name: str(tenant.id), CLIENT_ID.name: str(client.id),
                           CONSULTANT_ID.name: str(offering.consultant_id), ENTITY_STATUS.name: booking.status.value},
        memo={"summary": f"{offering.title}: {booking.status.value}, {starts_at:%Y-%m-%d %H:%M} UTC"},
    )
    if order_start is not None:
        # After the consultation's start: an order the wallet or a coupon paid in full confirms the
        # booking at once, and its signal must find the consultation's workflow running.
        await start_order_workflow(request, session, state, *order_start)
    return booking


async def _claim_start(session: AsyncSession, consultant_id: uuid.UUID, starts_at: datetime) -> bool:
    """Whether this transaction is the only one booking this consultant at this instant.

    A transaction-scoped advisory lock, tried, never waited for: while one request books a
    start, every other request for the same start is refused at once (409 slot-taken) instead
    of queueing behind the first one's commit on the exclusion constraint, only to be refused
    then. The constraint remains the guarantee (overlapping starts, other paths); this only
    makes the losers of a race fast (bench/booking_race.py)."""
    key = f"booking-start:{consultant_id}:{starts_at.timestamp():.0f}"
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(func.hashtextextended(key, 0)))))


async def _order_for(session: AsyncSession, tenant: Tenant, offering: Offering, booking: Booking,
                     actor: Principal | None, pay_with: PayWith) -> tuple[Order, OrderInput]:
    """The order a held booking is paid through, in the booking's own transaction.

    One consultation line (ref_id = the booking) at the booking's price; it must be paid by the
    end of the hold, so the order never outlives the slot it pays for. Its workflow starts after
    the commit, like the booking's: a booking and its order exist together or not at all, and a
    POST replayed by its Idempotency-Key answers the first booking, with its one order. A coupon
    and the wallet apply as on any order (create_order locks both until the commit).
    """
    line = LineIn(kind=LineKind.CONSULTATION, unit_amount=booking.price_minor, ref_id=str(booking.id),
                  offering_id=str(offering.id),
                  description=f"{offering.title}, {booking.starts_at:%d %b %Y %H:%M} UTC"[:200])
    order, workflow_input = await create_order(session, tenant, NewOrder(
        client_id=booking.client_id, lines=[line], currency=booking.currency,
        created_by=actor.user_id if actor else booking.client_id, pay_by=booking.hold_expires_at,
        note=f"booking {booking.id}", coupon_code=pay_with.coupon_code, use_wallet=pay_with.use_wallet))
    booking.order_id = order.id
    await session.flush()
    return order, workflow_input


async def guest_client(session: AsyncSession, tenant: Tenant, *, full_name: str, email: str, phone: str | None,
                       timezone: str | None) -> User:
    """The client with this email, or a new one without a password (they may set one later)."""
    user = (await session.execute(
        select(User).where(User.tenant_id == tenant.id, User.email == email))).scalar_one_or_none()
    if user is not None:
        if user.role != Role.CLIENT:
            raise Problem(CONFLICT, "this email belongs to a member of the consultancy; sign in to book",
                          field="email")
        return user
    user = User(tenant_id=tenant.id, email=email, full_name=full_name, phone=phone, timezone=timezone,
                role=Role.CLIENT, locale="en")
    session.add(user)
    await session.flush()
    return user


# -- acting through the workflow -----------------------------------------------------------
def _require_status(booking: Booking, *allowed: BookingStatus, doing: str) -> None:
    if booking.status not in allowed:
        raise Problem(CONFLICT, f"this booking is {booking.status.value.replace('_', ' ')}; it cannot be {doing}")


async def run_update(client: Client, booking: Booking, update_name: str, argument: Any) -> ConsultationState:
    """Send a validated Update to the booking's workflow; map its refusals to problems."""
    handle = client.get_workflow_handle(booking.workflow_id)
    try:
        result: ConsultationState = await handle.execute_update(update_name, argument,
                                                                result_type=ConsultationState)
    except WorkflowUpdateFailedError as exc:
        cause = exc.cause
        if isinstance(cause, ApplicationError) and cause.type == SLOT_TAKEN_ERROR:
            raise Problem(SLOT_TAKEN, cause.message, field="starts_at") from exc
        if isinstance(cause, ApplicationError) and cause.type == NOT_A_SLOT_ERROR:
            raise Problem(NOT_A_SLOT, cause.message, field="starts_at") from exc
        raise
    return result


async def reread(session: AsyncSession, booking: Booking) -> Booking:
    """The booking as the workflow's activity left it (committed in its own transaction)."""
    await session.refresh(booking)
    return booking


def require_changeable(booking: Booking, doing: str) -> None:
    if doing == "moved":
        _require_status(booking, BookingStatus.CONFIRMED, doing=doing)
    elif doing == "cancelled":
        _require_status(booking, BookingStatus.HELD, BookingStatus.CONFIRMED, doing=doing)
    else:
        _require_status(booking, BookingStatus.CONFIRMED, doing=doing)


# -- signed links --------------------------------------------------------------------------
def booking_token(state: AppState, booking: Booking, purpose: str = links.MANAGE) -> str:
    return booking_link_token(state.keys, purpose, booking_id=booking.id, tenant_id=booking.tenant_id,
                              expires_at=booking.ends_at + links.VALID_AFTER_END[purpose])


async def booking_from_link(session: AsyncSession, state: AppState, token: str, purpose: str = links.MANAGE,
                            *, lock: bool = False) -> tuple[Tenant, Booking]:
    try:
        claims = verify(state.keys, purpose, token)
        tenant_id, booking_id = uuid.UUID(claims["t"]), uuid.UUID(claims["b"])
    except LinkError as exc:
        if "expired" in str(exc):
            raise Problem(TOKEN_EXPIRED_OR_USED, "this link has expired", field="link_token") from exc
        raise Problem(INVALID_LINK, field="link_token") from exc
    except (KeyError, ValueError) as exc:
        raise Problem(INVALID_LINK, field="link_token") from exc
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise Problem(INVALID_LINK, field="link_token")
    await enter_scope(session, TenantScope.of(tenant.id))
    # Row-level security already hides other tenants' rows; the filter says so in the query too.
    stmt = select(Booking).where(Booking.id == booking_id, Booking.tenant_id == tenant.id)
    booking = (await session.execute(stmt.with_for_update() if lock else stmt)).scalar_one_or_none()
    if booking is None:
        raise Problem(INVALID_LINK, field="link_token")
    return tenant, booking


async def booking_order(session: AsyncSession, booking: Booking) -> Order:
    """The order a paid booking came with; a free booking has none (409 booking-not-payable)."""
    order = await session.get(Order, booking.order_id) if booking.order_id else None
    if order is None or order.tenant_id != booking.tenant_id:
        raise Problem(BOOKING_NOT_PAYABLE, "this booking is free: there is nothing to pay")
    return order


def payment_refusal(booking: Booking, now: datetime) -> str | None:
    """Why this booking cannot be paid now, or None when it is held, unpaid and within its hold."""
    if booking.order_id is None:
        return "this booking is free: there is nothing to pay"
    if booking.paid_at is not None:
        return "this booking is paid already"
    if booking.status != BookingStatus.HELD:
        return f"this booking is {booking.status.value.replace('_', ' ')}; only a held booking can be paid"
    if booking.hold_expires_at is not None and booking.hold_expires_at <= now:
        return "the hold on this booking has expired; book the session again"
    return None


async def payable_order(session: AsyncSession, booking: Booking) -> Order:
    """The order to check out for a held, unpaid booking within its hold; 409 booking-not-payable
    otherwise (the order's own state is then checked by the checkout: order-not-payable)."""
    refusal = payment_refusal(booking, datetime.now(UTC))
    if refusal is not None:
        raise Problem(BOOKING_NOT_PAYABLE, refusal)
    return await booking_order(session, booking)


def calendar_token(state: AppState, consultant: Consultant) -> str:
    return sign(state.keys, links.CALENDAR, {"c": str(consultant.id), "t": str(consultant.tenant_id),
                                             "v": consultant.calendar_feed_version})


async def consultant_from_feed(session: AsyncSession, state: AppState, token: str) -> Consultant:
    try:
        claims = verify(state.keys, links.CALENDAR, token)
        tenant_id, consultant_id, version = uuid.UUID(claims["t"]), uuid.UUID(claims["c"]), int(claims["v"])
    except (LinkError, KeyError, ValueError) as exc:
        raise Problem(INVALID_LINK, "this calendar address is not valid", field="feed_token") from exc
    await enter_scope(session, TenantScope.of(tenant_id))
    consultant = await session.get(Consultant, consultant_id)
    if consultant is None or consultant.calendar_feed_version != version:
        raise Problem(INVALID_LINK, "this calendar address was replaced by a newer one", field="feed_token")
    return consultant
