"""Unauthenticated pages: a consultancy's consultants, offerings and free slots by slug; guest
booking; signed links from emails (view, pay, reschedule, cancel, feedback); calendar feeds.

Nothing here shows ids of people, emails or tenant ids. Signed links and feed addresses are
capabilities: possession is the permission, and a forged or altered one is refused.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request, Response, status
from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.deps import Context, Session, State, Temporal, app_state, asks_only_for, opened_session
from api.problems import CONFLICT, NOT_FOUND, VALIDATION, Problem
from api.ratelimit import enforce
from api.schemas.bookings import (
    CancelBody,
    FeedbackBody,
    GuestBookingCreate,
    PublicBookingOut,
    PublicConsultancy,
    PublicConsultant,
    PublicOffering,
    RescheduleBody,
    SlotsOut,
)
from api.schemas.common import TimeZone
from api.schemas.identity import Accepted
from api.schemas.payments import CheckoutOut, PaymentAccepted, PaymentVerification
from api.services.analytics import count_view
from api.services.booking_gate import guest_booking_claim
from api.services.bookings import (
    PayWith,
    booking_from_link,
    booking_order,
    consultant_from_feed,
    create_booking,
    guest_client,
    payable_order,
    payment_refusal,
    public_tenant,
    require_changeable,
    reread,
    run_update,
)
from api.services.checkout import accept_checkout_payment, begin_checkout
from api.services.profiles import consultant_rating, photo_response, public_profile
from api.services.slot_listing import JSON, list_slots, slot_listing
from api.slot_listings import LISTINGS, listing_key
from api.state import AppState
from api.tenant_directory import DIRECTORY
from domain.analytics import PageKind
from domain.bookings import ical, links
from domain.bookings.consultation import BookingStatus, CancelRequest, RescheduleRequest
from domain.bookings.policies import CancellationPolicy, CancelledBy, ReschedulePolicy, reschedule_refusal
from domain.bookings.slots import zone
from domain.payments.orders import OrderStatus
from models.bookings import Booking, Consultant, Offering, OfferingKind, WebinarSession, WebinarStatus
from models.identity import Role, User
from models.payments import Order
from models.platform import record_audit
from models.tenancy import Tenant, TenantStatus

router = APIRouter(tags=["public"])

GUEST_BOOKINGS_PER_IP_PER_HOUR = 30
GUEST_BOOKINGS_PER_EMAIL_PER_HOUR = 5


def _public_offering(o: Offering) -> PublicOffering:
    return PublicOffering(
        id=o.id, kind=o.kind.value, title=o.title, description=o.description, duration_minutes=o.duration_minutes,
        price_minor=o.price_minor, currency=o.currency, capacity=o.capacity, intake_form=o.intake_form,
        cancellation_policy=CancellationPolicy.model_validate(o.cancellation_policy or {}).describe(),
        reschedule_policy=ReschedulePolicy.model_validate(o.reschedule_policy or {}).model_dump(),
    )


async def _public_consultant(session: Session, tenant: Tenant, slug: str) -> Consultant:
    consultant = (await session.execute(select(Consultant).where(
        Consultant.tenant_id == tenant.id, Consultant.slug == slug.lower(), Consultant.is_public.is_(True),
    ))).scalar_one_or_none()
    if consultant is None:
        raise Problem(NOT_FOUND, f"{tenant.name} has no consultant called '{slug}'", field="consultant_slug")
    return consultant


async def _offerings(session: Session, consultant: Consultant) -> list[PublicOffering]:
    rows = (await session.execute(select(Offering).where(
        Offering.consultant_id == consultant.id, Offering.is_active.is_(True)).order_by(Offering.title))).scalars()
    return [_public_offering(o) for o in rows]


async def _profile(session: Session, tenant: Tenant, c: Consultant) -> PublicConsultant:
    offerings = await _offerings(session, c)
    return public_profile(tenant, c, offerings, await consultant_rating(session, c.id))


@router.get("/public/{tenant_slug}", response_model=PublicConsultancy)
async def public_consultancy(tenant_slug: str, session: Session, state: State) -> PublicConsultancy:
    """A consultancy's public page: its consultants (photo, languages, specialities, experience,
    links, rating from clients' feedback) and what they offer."""
    tenant = await public_tenant(session, tenant_slug)
    await count_view(state.redis_batch, tenant.id, None, PageKind.PAGE)
    consultants = (await session.execute(select(Consultant).where(
        Consultant.tenant_id == tenant.id, Consultant.is_public.is_(True)).order_by(Consultant.display_name))).scalars()
    return PublicConsultancy(slug=tenant.slug, name=tenant.name,
                             consultants=[await _profile(session, tenant, c) for c in consultants])


@router.get("/public/{tenant_slug}/consultants/{consultant_slug}", response_model=PublicConsultant)
async def public_consultant(tenant_slug: str, consultant_slug: str, session: Session,
                            state: State) -> PublicConsultant:
    tenant = await public_tenant(session, tenant_slug)
    consultant = await _public_consultant(session, tenant, consultant_slug)
    await count_view(state.redis_batch, tenant.id, consultant.id, PageKind.PAGE)
    return await _profile(session, tenant, consultant)


@router.get("/public/{tenant_slug}/consultants/{consultant_slug}/photo", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}})
async def public_consultant_photo(tenant_slug: str, consultant_slug: str, session: Session, state: State) -> Response:
    """The consultant's photo, for the public page (404 when there is none)."""
    tenant = await public_tenant(session, tenant_slug)
    consultant = await _public_consultant(session, tenant, consultant_slug)
    return await photo_response(session, state, consultant)


# The public consultant (as _public_consultant finds it) and one of their offerings, or None for
# it: one round trip where two took two. Built once (docs/performance.md).
_CONSULTANT_AND_OFFERING = select(Consultant, Offering).outerjoin(Offering, and_(
    Offering.id == bindparam("offering"), Offering.consultant_id == Consultant.id)).where(
    Consultant.tenant_id == bindparam("tenant"), Consultant.slug == bindparam("slug"), Consultant.is_public.is_(True))


@router.get("/public/{tenant_slug}/consultants/{consultant_slug}/offerings/{offering_id}/slots",
            response_model=SlotsOut)
async def public_slots(
    tenant_slug: str, consultant_slug: str, offering_id: UUID, request: Request, background: BackgroundTasks,
    start: Annotated[date | None, Query(description="first day on the viewer's clock (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=92, description="how many days")] = 7,
    timezone: Annotated[TimeZone | None, Query(description="the viewer's IANA zone (default the consultant's)")]
    = None,
) -> Response:
    """Free slots, on the viewer's clock: weekly hours, overrides, bookings with buffers, notice,
    horizon and daily limit applied. For a webinar: its sessions with seats left.

    A 1:1 listing this process has shown before, and whose consultant nothing has changed since,
    is shown again from memory (`api.slot_listings`): no statement, no session, no tenant
    instance. Any other is read with the session `Session` would have given (`opened_session`)."""
    now = datetime.now(UTC)
    state = app_state(request)
    tenant = DIRECTORY.peek("slug", tenant_slug.lower())
    if tenant is not None and tenant.status == TenantStatus.ACTIVE and asks_only_for(request, tenant.id):
        kept = LISTINGS.find(listing_key(tenant.id, consultant_slug, offering_id, start, days, timezone), now)
        if kept is not None:
            await count_view(state.redis_batch, tenant.id, kept.consultant_id, PageKind.SLOTS)
            return Response(kept.document(now), media_type=JSON)
    async with opened_session(request, background) as session:
        return await _read_slots(session, state, tenant_slug, consultant_slug, offering_id,
                                 start=start, days=days, viewer_zone=timezone, now=now)


async def _read_slots(session: AsyncSession, state: AppState, tenant_slug: str, consultant_slug: str,
                      offering_id: UUID, *, start: date | None, days: int, viewer_zone: str | None,
                      now: datetime) -> Response:
    """The listing read from the database, and kept when it is a 1:1 offering's."""
    generation = LISTINGS.generation  # before any statement: what a drop during the read took is not kept
    tenant = await public_tenant(session, tenant_slug)
    row = (await session.execute(_CONSULTANT_AND_OFFERING, {
        "tenant": tenant.id, "slug": consultant_slug.lower(), "offering": offering_id})).first()
    if row is None:
        raise Problem(NOT_FOUND, f"{tenant.name} has no consultant called '{consultant_slug}'",
                      field="consultant_slug")
    consultant, offering = row
    if offering is None or not offering.is_active:
        raise Problem(NOT_FOUND, "this consultant has no such offering", field="offering_id")
    await count_view(state.redis_batch, tenant.id, consultant.id, PageKind.SLOTS)
    if offering.kind == OfferingKind.WEBINAR:
        return await list_slots(session, consultant, offering, start=start, days=days, viewer_zone=viewer_zone,
                                now=now)
    listing = await slot_listing(session, consultant, offering, start=start, days=days, viewer_zone=viewer_zone,
                                 now=now)
    LISTINGS.keep(listing_key(tenant.id, consultant_slug, offering_id, start, days, viewer_zone), listing, generation)
    return Response(listing.document(now), media_type=JSON)


@router.post("/public/{tenant_slug}/bookings", status_code=status.HTTP_201_CREATED, response_model=PublicBookingOut)
async def guest_booking(
    _claim: Annotated[None, Depends(guest_booking_claim, scope="function")],  # first: before any database work
    tenant_slug: str, body: GuestBookingCreate, request: Request, session: Session, state: State, context: Context,
) -> PublicBookingOut:
    """Book without an account. The confirmation email carries a signed link to view, move or
    cancel the booking; it is not in this answer, so only the owner of the email can use it.
    A coupon applies to the session's order as for a signed-in client; store credit and package
    credits are an account's (an email alone must not spend them): 422, sign in to use them."""
    if body.use_wallet or body.use_credit:
        field = "use_wallet" if body.use_wallet else "use_credit"
        what = "store credit (the wallet)" if body.use_wallet else "a session-package credit"
        raise Problem(VALIDATION, f"paying with {what} needs an account: sign in and book from your account, "
                      f"or leave out {field}", field=field)
    tenant = await public_tenant(session, tenant_slug)
    await enforce(state.redis, f"guest-booking-ip:{context.ip}", GUEST_BOOKINGS_PER_IP_PER_HOUR, 3600,
                  "bookings from this address")
    await enforce(state.redis, f"guest-booking-email:{tenant.id}:{body.email}", GUEST_BOOKINGS_PER_EMAIL_PER_HOUR,
                  3600, "bookings for this email")
    offering = await session.get(Offering, body.offering_id)
    if offering is None or offering.tenant_id != tenant.id:
        raise Problem(NOT_FOUND, "this consultancy has no such offering", field="offering_id")
    client = await guest_client(session, tenant, full_name=body.full_name, email=body.email, phone=body.phone,
                                timezone=body.timezone)
    booking = await create_booking(request, session, state, tenant=tenant, offering=offering, client=client,
                                   body=body, actor=None, pay_with=PayWith(coupon_code=body.coupon_code))
    return await _public_booking(session, booking)


async def _public_booking(session: Session, booking: Booking) -> PublicBookingOut:
    offering = await session.get(Offering, booking.offering_id)
    consultant = await session.get(Consultant, booking.consultant_id)
    tenant = await session.get(Tenant, booking.tenant_id)
    if offering is None or consultant is None or tenant is None:
        raise Problem(NOT_FOUND, "this booking's offering or consultant no longer exists")
    now = datetime.now(UTC)
    live = booking.status in (BookingStatus.HELD, BookingStatus.CONFIRMED) and now < booking.starts_at
    order = await session.get(Order, booking.order_id) if booking.order_id else None
    can_pay = (order is not None and payment_refusal(booking, now) is None
               and order.status == OrderStatus.PENDING_PAYMENT and order.amount_due > 0)
    policy = ReschedulePolicy.model_validate(booking.reschedule_policy or {})
    can_move = (booking.status == BookingStatus.CONFIRMED and booking.webinar_session_id is None
                and reschedule_refusal(policy, starts_at=booking.starts_at, at=now,
                                       reschedules=booking.reschedule_count, by=CancelledBy.CLIENT) is None)
    return PublicBookingOut(
        id=booking.id, status=booking.status, offering_id=offering.id, offering_title=offering.title,
        consultant_name=consultant.display_name, tenant_slug=tenant.slug, consultant_slug=consultant.slug,
        starts_at=booking.starts_at, ends_at=booking.ends_at,
        local_start=booking.starts_at.astimezone(zone(booking.client_timezone)), timezone=booking.client_timezone,
        meeting_url=booking.meeting_url if booking.status == BookingStatus.CONFIRMED else None,
        cancellation_policy=CancellationPolicy.model_validate(booking.cancellation_policy or {}).describe(),
        can_cancel=live, can_reschedule=can_move, price_minor=booking.price_minor, currency=booking.currency,
        order_id=booking.order_id, order_status=order.status if order else None,
        amount_due_minor=order.amount_due if can_pay and order else 0,
        hold_expires_at=booking.hold_expires_at if booking.status == BookingStatus.HELD else None, can_pay=can_pay,
    )


@router.get("/booking-links/{link_token}", response_model=PublicBookingOut)
async def link_booking(link_token: str, session: Session, state: State) -> PublicBookingOut:
    """The booking a signed link from an email points to."""
    _, booking = await booking_from_link(session, state, link_token)
    return await _public_booking(session, booking)


@router.get("/booking-links/{link_token}/checkout", response_model=PublicBookingOut)
async def link_checkout_page(link_token: str, session: Session, state: State) -> PublicBookingOut:
    """The emailed "Pay now" link opened in a browser: the booking and what is due (`can_pay`,
    `amount_due_minor`, `hold_expires_at`). POST the same address to start Razorpay Checkout."""
    _, booking = await booking_from_link(session, state, link_token)
    return await _public_booking(session, booking)


@router.post("/booking-links/{link_token}/checkout", response_model=CheckoutOut)
async def link_checkout(link_token: str, session: Session, state: State, client: Temporal) -> CheckoutOut:
    """A client without an account pays their held booking: what Razorpay Checkout needs (key id,
    Razorpay order id, amount, the guest's name and email to prefill), as
    `POST /orders/{order_id}/checkout` gives a signed-in client; the Razorpay order is made once,
    however often this is called. 409 `booking-not-payable` when the booking is free, paid,
    no longer held or past its hold."""
    _, booking = await booking_from_link(session, state, link_token)
    return await begin_checkout(session, client, await payable_order(session, booking))


@router.post("/booking-links/{link_token}/payment", status_code=status.HTTP_202_ACCEPTED,
             response_model=PaymentAccepted)
async def link_payment(link_token: str, body: PaymentVerification, request: Request, session: Session,
                       state: State) -> PaymentAccepted:
    """Razorpay Checkout's answer for the booking's order, verified against the Razorpay order id we
    stored (HMAC-SHA256 with the key secret), as `POST /orders/{order_id}/payment`; the order's
    workflow then confirms the payment with Razorpay and the booking is confirmed. Webhooks bring
    the same payment if this never arrives."""
    _, booking = await booking_from_link(session, state, link_token)
    order = await booking_order(session, booking)
    return await accept_checkout_payment(request, session, state, order, body, actor_user_id=booking.client_id,
                                         actor_role=Role.CLIENT.value, via="booking_link")


@router.post("/booking-links/{link_token}/reschedule", response_model=PublicBookingOut)
async def link_reschedule(link_token: str, body: RescheduleBody, session: Session, state: State,
                          client: Temporal) -> PublicBookingOut:
    """A client without an account moves their booking (within the reschedule policy)."""
    _, booking = await booking_from_link(session, state, link_token)
    require_changeable(booking, "moved")
    await run_update(client, booking, "reschedule", RescheduleRequest(
        starts_at=body.starts_at.astimezone(UTC), by=CancelledBy.CLIENT, actor_user_id=booking.client_id))
    return await _public_booking(session, await reread(session, booking))


@router.post("/booking-links/{link_token}/cancel", response_model=PublicBookingOut)
async def link_cancel(link_token: str, body: CancelBody, session: Session, state: State,
                      client: Temporal) -> PublicBookingOut:
    """A client without an account cancels; the refund follows the policy agreed at booking."""
    _, booking = await booking_from_link(session, state, link_token)
    require_changeable(booking, "cancelled")
    await run_update(client, booking, "cancel", CancelRequest(by=CancelledBy.CLIENT, reason=body.reason,
                                                              actor_user_id=booking.client_id))
    return await _public_booking(session, await reread(session, booking))


@router.post("/booking-links/{link_token}/feedback", response_model=Accepted)
async def link_feedback(link_token: str, body: FeedbackBody, session: Session, state: State) -> Accepted:
    """The client rates a completed session (the link in the feedback request)."""
    _, booking = await booking_from_link(session, state, link_token, links.FEEDBACK, lock=True)
    if booking.status != BookingStatus.COMPLETED:
        raise Problem(CONFLICT, "only a completed session can be rated")
    booking.feedback_rating, booking.feedback_comment = body.rating, body.comment
    await record_audit(session, tenant_id=booking.tenant_id, action="booking.feedback", actor_user_id=booking.client_id,
                       target_type="booking", target_id=booking.id, details={"rating": body.rating})
    return Accepted(detail="thank you for your feedback")


@router.get("/calendar-feeds/{feed_token}", response_class=Response,
            responses={200: {"content": {"text/calendar": {}}, "description": "an iCalendar (RFC 5545) feed"}})
async def calendar_feed(feed_token: str, session: Session, state: State) -> Response:
    """A consultant's bookings and webinar sessions as iCalendar, for calendar apps to subscribe to."""
    consultant = await consultant_from_feed(session, state, feed_token)
    since = datetime.now(UTC) - timedelta(days=30)
    rows = (await session.execute(
        select(Booking, Offering.title, User.full_name).join(Offering, Offering.id == Booking.offering_id)
        .join(User, User.id == Booking.client_id)
        .where(Booking.consultant_id == consultant.id, Booking.webinar_session_id.is_(None),
               Booking.status.in_([BookingStatus.HELD, BookingStatus.CONFIRMED, BookingStatus.COMPLETED]),
               Booking.ends_at >= since)
        .order_by(Booking.starts_at).limit(2000))).all()
    events = [ical.CalendarEvent(
        booking_id=b.id, starts_at=b.starts_at, ends_at=b.ends_at, sequence=b.sequence,
        summary=f"{title} with {client_name}", location=b.meeting_url,
        tentative=b.status == BookingStatus.HELD) for b, title, client_name in rows]
    webinars = (await session.execute(
        select(WebinarSession, Offering.title).join(Offering, Offering.id == WebinarSession.offering_id)
        .where(WebinarSession.consultant_id == consultant.id, WebinarSession.status == WebinarStatus.SCHEDULED,
               WebinarSession.ends_at >= since))).all()
    events += [ical.CalendarEvent(booking_id=w.id, starts_at=w.starts_at, ends_at=w.ends_at, sequence=0,
                                  summary=f"{title} (webinar, {w.seats_taken}/{w.capacity} seats)")
               for w, title in webinars]
    text = ical.feed(consultant.display_name, events, stamp=datetime.now(UTC))
    return Response(content=text, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})
