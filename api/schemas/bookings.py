"""Requests and responses of consultants, availability, offerings, slots and bookings."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from api.schemas.common import Email, Name, Phone, Slug, TimeZone
from api.schemas.identity import Strict
from api.schemas.payments import CouponCode
from domain.bookings.consultation import BookingStatus, FollowUp
from domain.bookings.intake import IntakeField
from domain.bookings.policies import CancellationPolicy, ReschedulePolicy
from domain.bookings.slots import WEEKDAYS, Window, check_windows, parse_clock

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def _clock(value: str) -> str:
    minutes = parse_clock(value)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Clock = Annotated[str, StringConstraints(max_length=5), AfterValidator(_clock)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


class TimeWindow(Strict):
    start: Clock = Field(description="HH:MM on the consultant's clock")
    end: Clock = Field(description="HH:MM, after start; 24:00 is midnight at the end of the day")

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: str, info: Any) -> str:
        start = info.data.get("start")
        if start is not None:
            Window.of(start, end)
        return end


class WeeklyWindow(TimeWindow):
    day: Weekday


def _weekly(items: list[WeeklyWindow]) -> list[WeeklyWindow]:
    for day in WEEKDAYS:
        check_windows(Window.of(i.start, i.end) for i in items if i.day == day)
    return sorted(items, key=lambda i: (WEEKDAYS.index(i.day), i.start))


def _windows(items: list[TimeWindow]) -> list[TimeWindow]:
    check_windows(Window.of(i.start, i.end) for i in items)
    return sorted(items, key=lambda i: i.start)


WeeklyHours = Annotated[list[WeeklyWindow], Field(max_length=70), AfterValidator(_weekly)]
DayWindows = Annotated[list[TimeWindow], Field(max_length=10), AfterValidator(_windows)]


# -- consultants ---------------------------------------------------------------------------
def _https(value: str) -> str:
    if not value.startswith(("https://", "http://")) or " " in value:
        raise ValueError("use a full web address starting with https://")
    return value


Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class SocialLink(Strict):
    label: Label = Field(description="e.g. Instagram, YouTube, website")
    url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_https)] = Field(
        examples=["https://instagram.com/acharya.demo"])


class ProfileFields(Strict):
    """What a public page shows besides the bio; the photo is an image uploaded through /files."""

    photo_file_id: UUID | None = Field(None, description="an image (png, jpeg, webp) of the consultancy's files")
    languages: Annotated[list[Label], Field(max_length=20)] | None = None
    specialities: Annotated[list[Label], Field(max_length=30)] | None = None
    experience_years: int | None = Field(None, ge=0, le=80)
    social_links: Annotated[list[SocialLink], Field(max_length=10)] | None = None


class ConsultantCreate(ProfileFields):
    user_id: UUID | None = Field(None, description="a consultant of the consultancy; yourself if omitted")
    slug: Slug = Field(description="the consultant's address on the public booking page")
    display_name: Name
    headline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    bio: Text | None = None
    timezone: TimeZone = Field(description="the zone of the weekly hours")
    weekly_hours: WeeklyHours = Field(default_factory=list)
    is_public: bool = True


class ConsultantUpdate(ProfileFields):
    slug: Slug | None = None
    display_name: Name | None = None
    headline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None
    bio: Text | None = None
    timezone: TimeZone | None = None
    weekly_hours: WeeklyHours | None = None
    is_public: bool | None = None


class ConsultantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    user_id: UUID
    slug: str
    display_name: str
    headline: str | None
    bio: str | None
    timezone: str
    weekly_hours: list[dict[str, str]]
    is_public: bool
    photo_file_id: UUID | None
    languages: list[str]
    specialities: list[str]
    experience_years: int | None
    social_links: list[dict[str, str]]


class OverrideIn(Strict):
    windows: DayWindows = Field(description="the hours of that date; empty for a day off")
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] | None = None


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    on_date: date
    windows: list[dict[str, str]]
    note: str | None


class CalendarFeedOut(BaseModel):
    url: str = Field(description="secret: anyone with it can read the calendar; rotate to revoke")


# -- offerings -----------------------------------------------------------------------------
Minutes = Annotated[int, Field(ge=0, le=24 * 60)]
Offset = Annotated[int, Field(ge=5, le=14 * 24 * 60)]


class OfferingFields(Strict):
    title: Name
    description: Text | None = None
    duration_minutes: int = Field(ge=5, le=12 * 60)
    price_minor: int = Field(0, ge=0, le=10**12, description="minor units (paise); 0 is free")
    currency: str = Field("INR", max_length=3, pattern=r"^[A-Z]{3}$")
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    slot_interval_minutes: int = Field(30, ge=5, le=240, description="start times every this many minutes")
    min_notice_minutes: int = Field(240, ge=0, le=60 * 24 * 30)
    horizon_days: int = Field(60, ge=1, le=365, description="how far ahead one may book")
    max_per_day: int | None = Field(None, ge=1, le=100)
    capacity: int | None = Field(None, ge=1, le=100_000, description="webinars: seats per session")
    meeting_provider: Literal["jitsi"] = "jitsi"
    intake_form: list[IntakeField] = Field(default_factory=list, max_length=30)
    cancellation_policy: CancellationPolicy = Field(default_factory=CancellationPolicy)
    reschedule_policy: ReschedulePolicy = Field(default_factory=ReschedulePolicy)
    reminder_offsets_minutes: list[Offset] = Field(default_factory=lambda: [1440, 60], max_length=5)
    hold_minutes: int = Field(15, ge=5, le=24 * 60, description="how long a paid booking holds its slot unpaid")
    completion_grace_hours: int = Field(2, ge=0, le=24 * 7)
    follow_up_days: int | None = Field(90, ge=1, le=730, description="null: no follow-up nudge")
    is_active: bool = True


class OfferingCreate(OfferingFields):
    consultant_id: UUID
    kind: Literal["one_to_one", "webinar"] = "one_to_one"


class OfferingUpdate(Strict):
    title: Name | None = None
    description: Text | None = None
    duration_minutes: int | None = Field(None, ge=5, le=12 * 60)
    price_minor: int | None = Field(None, ge=0, le=10**12)
    currency: str | None = Field(None, max_length=3, pattern=r"^[A-Z]{3}$")
    buffer_before_minutes: Minutes | None = None
    buffer_after_minutes: Minutes | None = None
    slot_interval_minutes: int | None = Field(None, ge=5, le=240)
    min_notice_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)
    horizon_days: int | None = Field(None, ge=1, le=365)
    max_per_day: int | None = Field(None, ge=1, le=100)
    capacity: int | None = Field(None, ge=1, le=100_000)
    intake_form: list[IntakeField] | None = Field(None, max_length=30)
    cancellation_policy: CancellationPolicy | None = None
    reschedule_policy: ReschedulePolicy | None = None
    reminder_offsets_minutes: list[Offset] | None = Field(None, max_length=5)
    hold_minutes: int | None = Field(None, ge=5, le=24 * 60)
    completion_grace_hours: int | None = Field(None, ge=0, le=24 * 7)
    follow_up_days: int | None = Field(None, ge=1, le=730)
    is_active: bool | None = None


class OfferingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    consultant_id: UUID
    kind: str
    title: str
    description: str | None
    duration_minutes: int
    price_minor: int
    currency: str
    buffer_before_minutes: int
    buffer_after_minutes: int
    slot_interval_minutes: int
    min_notice_minutes: int
    horizon_days: int
    max_per_day: int | None
    capacity: int | None
    meeting_provider: str
    intake_form: list[dict[str, Any]]
    cancellation_policy: dict[str, Any]
    reschedule_policy: dict[str, Any]
    reminder_offsets_minutes: list[int]
    hold_minutes: int
    completion_grace_hours: int
    follow_up_days: int | None
    is_active: bool


class WebinarSessionCreate(Strict):
    starts_at: AwareDatetime
    capacity: int | None = Field(None, ge=1, le=100_000, description="the offering's capacity if omitted")


class WebinarSessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    offering_id: UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    seats_taken: int
    status: str


# -- public pages --------------------------------------------------------------------------
class PublicOffering(BaseModel):
    id: UUID
    kind: str
    title: str
    description: str | None
    duration_minutes: int
    price_minor: int
    currency: str
    capacity: int | None
    intake_form: list[dict[str, Any]]
    cancellation_policy: str
    reschedule_policy: dict[str, Any]


class Rating(BaseModel):
    average: float | None = Field(description="1 to 5, from the feedback clients gave after their sessions")
    count: int


class PublicConsultant(BaseModel):
    slug: str
    display_name: str
    headline: str | None
    bio: str | None
    timezone: str
    photo_url: str | None = None
    languages: list[str] = Field(default_factory=list)
    specialities: list[str] = Field(default_factory=list)
    experience_years: int | None = None
    social_links: list[dict[str, str]] = Field(default_factory=list)
    rating: Rating = Field(default_factory=lambda: Rating(average=None, count=0))
    offerings: list[PublicOffering] = Field(default_factory=list)


class PublicConsultancy(BaseModel):
    slug: str
    name: str
    consultants: list[PublicConsultant]


class SlotOut(BaseModel):
    starts_at: datetime = Field(description="UTC; book with this value (or local_start: the same instant)")
    local_start: datetime = Field(description="on the viewer's clock, with its offset")
    local_date: date
    webinar_session_id: UUID | None = Field(None, description="webinars only")
    seats_left: int | None = Field(None, description="webinars only")


class SlotsOut(BaseModel):
    offering_id: UUID
    duration_minutes: int = Field(description="every slot lasts this long (real time)")
    timezone: str = Field(description="the viewer's zone the local times are in")
    consultant_timezone: str
    start: date
    days: int
    slots: list[SlotOut]


# -- bookings ------------------------------------------------------------------------------
class BookingRequest(Strict):
    offering_id: UUID
    starts_at: AwareDatetime | None = Field(None, description="a slot's starts_at (1:1 sessions)")
    webinar_session_id: UUID | None = Field(None, description="webinars: the session to take a seat in")
    timezone: TimeZone | None = Field(None, description="the client's zone for messages; their profile's if omitted")
    intake: dict[str, Any] = Field(default_factory=dict, description="answers to the offering's intake form")


class BookingCreate(BookingRequest):
    client_id: UUID | None = Field(None, description="staff booking for a client; clients book for themselves")
    coupon_code: CouponCode | None = Field(None, description="a paid session: a coupon on its order")
    use_wallet: bool = Field(False, description="a paid session: the client's store credit pays first")
    use_credit: bool = Field(False, description="pay with one credit of the client's session package for this "
                                                "offering (the one that expires first); confirmed at once")


class GuestBookingCreate(BookingRequest):
    full_name: Name
    email: Email
    phone: Phone | None = None
    coupon_code: CouponCode | None = Field(None, description="a paid session: a coupon on its order, as for a "
                                                             "signed-in client")
    use_wallet: bool = Field(False, description="store credit needs an account: true is refused (422); sign in")
    use_credit: bool = Field(False, description="session-package credits need an account: true is refused "
                                                "(422); sign in")


class BookingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    status: BookingStatus
    offering_id: UUID
    consultant_id: UUID
    client_id: UUID
    webinar_session_id: UUID | None
    starts_at: datetime
    ends_at: datetime
    client_timezone: str
    intake: dict[str, Any]
    price_minor: int
    currency: str
    hold_expires_at: datetime | None
    paid_at: datetime | None
    amount_paid_minor: int
    payment_method: str | None
    order_id: UUID | None = Field(None, description="a paid booking's order: pay it with "
                                                    "POST /orders/{order_id}/checkout before hold_expires_at")
    meeting_url: str | None
    sequence: int
    reschedule_count: int
    cancelled_at: datetime | None
    cancelled_by: str | None
    cancel_reason: str | None
    refund_percent: int | None
    refund_due_minor: int
    refund_status: str
    completed_at: datetime | None
    no_show_at: datetime | None
    summary: str | None
    feedback_rating: int | None
    workflow_id: str
    created_at: datetime
    private_notes: str | None = Field(None, description="only for the consultant and the owner")


class PublicBookingOut(BaseModel):
    """What a signed link shows: enough to recognise the booking and act on it."""

    id: UUID
    status: BookingStatus
    offering_id: UUID
    offering_title: str
    consultant_name: str
    tenant_slug: str = Field(description="with consultant_slug and offering_id: where to list slots to move to")
    consultant_slug: str
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    timezone: str
    meeting_url: str | None
    cancellation_policy: str
    can_cancel: bool
    can_reschedule: bool
    price_minor: int
    currency: str
    order_id: UUID | None = Field(None, description="a paid booking's order (null when the offering is free)")
    order_status: str | None = Field(None, description="the order's status: pending_payment, fulfilled, expired…")
    amount_due_minor: int = Field(0, description="what is left to pay now, in minor units (0 once paid)")
    hold_expires_at: datetime | None = Field(None, description="a held booking must be paid by then")
    can_pay: bool = Field(False, description="held and unpaid within its hold: pay with POST "
                                             "/booking-links/{token}/checkout")


class RescheduleBody(Strict):
    starts_at: AwareDatetime


class CancelBody(Strict):
    reason: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class CompleteBody(Strict):
    summary: Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)] | None = None
    private_notes: Annotated[str, StringConstraints(max_length=20_000)] | None = Field(
        None, description="encrypted at rest; never shown to the client")


class NoShowBody(Strict):
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None


class MarkPaidBody(Strict):
    amount_minor: int = Field(ge=0, le=10**12)
    method: Literal["cash", "upi", "bank_transfer", "card_offline", "other"]
    reference: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class StopFollowUpsBody(Strict):
    which: list[FollowUp] = Field(default_factory=lambda: list(FollowUp), min_length=1)


class FeedbackBody(Strict):
    rating: int = Field(ge=1, le=5)
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] | None = None
