"""Demo data for `make dev`: a platform admin, an approved consultancy with a consultant and a
client, and a consultancy awaiting approval whose onboarding workflow is running. The demo
consultancy's notifications are sent through the local providers: the outbox (GET /api/v1/outbox,
GET /api/v1/admin/outbox) holds its emails and SMS, and the demo client has an in-app inbox; a
finished demo broadcast shows in the Temporal UI. The demo client is enrolled in a free drip
mini-course (`workers/seed_courses.py`), whose Enrollment workflow the relay starts.

Idempotent: running it again changes nothing that exists.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from api.services.astrology import apply_chart
from core.db import TenantScope, scoped_session
from core.security import Keys, hash_password
from core.settings import Settings
from core.workflow_starts import start_once
from domain.astrology import BirthData, ChartSettings, compute_chart
from domain.bookings.policies import CancellationPolicy, ReschedulePolicy
from domain.notifications import (
    BroadcastInput,
    BroadcastStatus,
    NotificationRequest,
    broadcast_workflow_id,
)
from domain.onboarding import OnboardingInput, onboarding_workflow_id
from domain.privacy.consents import ConsentKind, ConsentSource
from models.astrology import BirthProfile, InterpretiveText, SuggestionRule
from models.bookings import Consultant, Offering, OfferingKind, WebinarSession, WebinarStatus, blocked_range
from models.identity import Role, User
from models.notifications import Broadcast, NotificationPreference
from models.payments import Coupon, PaymentSettings, payment_settings
from models.platform import PendingWorkflowStart
from models.privacy import Consent
from models.tenancy import Tenant, TenantStatus
from workers.relay import relay_pending_starts
from workers.seed_checkout import seed_checkout
from workers.seed_courses import seed_course
from workers.seed_quotations import seed_quotation
from workers.seed_remedies import seed_remedies
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

DEMO_PASSWORD = "muhurta-demo-2026"
# A fixed TOTP secret for the demo admin only, so the README can show how to sign in.
DEMO_ADMIN_TOTP_SECRET = "MUHURTADEMOADMIN2FA3STUVWXYZ2345"


@dataclass
class SeedSummary:
    admin_email: str
    tenant_slug: str
    consultant_email: str
    client_email: str
    pending_slug: str
    pending_workflow_id: str
    broadcast_workflow_id: str | None = None


async def _user(session: AsyncSession, tenant_id: object, email: str) -> User | None:
    stmt = select(User).where(User.tenant_id.is_not_distinct_from(tenant_id), User.email == email)
    return (await session.execute(stmt)).scalar_one_or_none()


async def _tenant(session: AsyncSession, slug: str, name: str, status: TenantStatus) -> Tenant:
    tenant = (await session.execute(select(Tenant).where(Tenant.slug == slug))).scalar_one_or_none()
    if tenant is None:
        tenant = Tenant(slug=slug, name=name, status=status, timezone="Asia/Kolkata", settings={})
        session.add(tenant)
        await session.flush()
    return tenant


async def _ensure_user(session: AsyncSession, **fields: object) -> User:
    existing = await _user(session, fields["tenant_id"], str(fields["email"]))
    if existing:
        return existing
    user = User(password_hash=hash_password(DEMO_PASSWORD), email_verified_at=datetime.now(UTC), **fields)
    session.add(user)
    await session.flush()
    return user


#: What the demo sade sati rule suggested before it named the Kundli reading (not an offering).
LEGACY_SADE_SATI_KEY = "shani-shanti-puja"


async def _seed_astrology(session: AsyncSession, tenant_id: uuid.UUID, client_id: uuid.UUID,
                          reading_id: uuid.UUID | None) -> None:
    """A birth profile for the demo client, a few interpretive texts and a sade sati rule that
    suggests the demo consultant's Kundli reading (`reading_id`)."""
    exists = await session.scalar(select(BirthProfile.id).where(BirthProfile.client_id == client_id))
    if exists is not None:
        if reading_id is not None:  # a demo seeded before its rule named a real offering
            await session.execute(update(SuggestionRule).where(
                SuggestionRule.tenant_id == tenant_id, SuggestionRule.offering_key == LEGACY_SADE_SATI_KEY,
            ).values(offering_key=str(reading_id)))
        return
    birth = {"date": "1990-05-20", "time": "06:15", "place_name": "Jaipur", "country_code": "IN"}
    settings = ChartSettings()
    chart = compute_chart(BirthData.model_validate(birth), settings)
    profile = BirthProfile(tenant_id=tenant_id, client_id=client_id, label="Self", full_name="Priya Sharma",
                           gender="female", birth_date=chart.birth.local_date, birth_input=birth,
                           chart_settings=settings.model_dump(mode="json"))
    apply_chart(profile, chart, datetime.now(UTC))
    session.add(profile)
    for key, text in DEMO_TEXTS.items():
        session.add(InterpretiveText(tenant_id=tenant_id, key=key, locale="en", text=text))
    if reading_id is not None:
        session.add(SuggestionRule(
            tenant_id=tenant_id, name="Sade sati", kind="transit", offering_key=str(reading_id), priority=10,
            condition={"kind": "transit", "body": "saturn", "houses_from_moon": [12, 1, 2], "within_months": 12,
                       "include_current": True},
            reasons={"en": "{body} is in the {house_ordinal} from your Moon ({sign}) from {date}: sade sati. "
                           "A Kundli reading looks at what it means for you."},
            skip_if_ordered=True, active=True))
    await session.flush()


# Demo content only: each consultancy writes its own texts.
DEMO_TEXTS = {
    "driver:2": "(Demo text) Driver 2 — edit this under /api/v1/astrology/texts.",
    "mahadasha:venus": "(Demo text) Venus mahadasha — the consultancy's own words go here.",
}
WORKING_HOURS = [{"day": day, "start": start, "end": end}
                 for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
                 for start, end in (("10:00", "13:00"), ("15:00", "19:00"))]
READING_TITLE = "Kundli reading"
BIRTH_DETAILS = [
    {"name": "birth_date", "label": "Date of birth", "type": "date", "required": True},
    {"name": "birth_time", "label": "Time of birth", "type": "time", "required": False},
    {"name": "birth_place", "label": "Place of birth", "type": "text", "required": True},
]


async def _bookable(session: AsyncSession, tenant_id: object, user_id: object) -> uuid.UUID | None:
    """The demo consultant's public page: hours, a paid reading, a free call and a webinar.

    Returns the Kundli reading's id (what the demo suggestion rule suggests); None if a demo
    seeded earlier no longer has it."""
    existing = await session.scalar(select(Consultant.id).where(Consultant.user_id == user_id))
    if existing is not None:
        return await session.scalar(select(Offering.id).where(
            Offering.consultant_id == existing, Offering.title == READING_TITLE).order_by(Offering.created_at).limit(1))
    consultant = Consultant(tenant_id=tenant_id, user_id=user_id, slug="acharya", display_name="Acharya Demo",
                            headline="Vedic astrology, muhurta and remedies", timezone="Asia/Kolkata",
                            bio="Twenty years of chart readings. Sessions in English and Hindi.",
                            weekly_hours=WORKING_HOURS, is_public=True, calendar_feed_version=1)
    session.add(consultant)
    await session.flush()
    common = dict(tenant_id=tenant_id, consultant_id=consultant.id, currency="INR", buffer_before_minutes=0,
                  buffer_after_minutes=15, slot_interval_minutes=30, min_notice_minutes=240, horizon_days=60,
                  meeting_provider="jitsi", cancellation_policy=CancellationPolicy().model_dump(),
                  reschedule_policy=ReschedulePolicy().model_dump(), reminder_offsets_minutes=[1440, 60],
                  hold_minutes=15, completion_grace_hours=2, follow_up_days=90, is_active=True)
    reading = Offering(kind=OfferingKind.ONE_TO_ONE, title=READING_TITLE, duration_minutes=60, price_minor=150_000,
                       description="A full birth-chart reading with dasha periods.", intake_form=BIRTH_DETAILS,
                       max_per_day=4, **common)
    call = Offering(kind=OfferingKind.ONE_TO_ONE, title="Quick question", duration_minutes=20, price_minor=0,
                    description="Twenty minutes, free, for a first question.", intake_form=[], max_per_day=3,
                    **common)
    webinar = Offering(kind=OfferingKind.WEBINAR, title="Saturn transit 2027 (webinar)", duration_minutes=90,
                       price_minor=49_900, capacity=50, intake_form=[], **common)
    session.add_all([reading, call, webinar])
    await session.flush()
    starts = (datetime.now(UTC) + timedelta(days=14)).replace(hour=13, minute=30, second=0, microsecond=0)
    session.add(WebinarSession(tenant_id=tenant_id, offering_id=webinar.id, consultant_id=consultant.id,
                               starts_at=starts, ends_at=starts + timedelta(minutes=90),
                               blocked=blocked_range(webinar, starts), capacity=50, seats_taken=0,
                               status=WebinarStatus.SCHEDULED))
    return reading.id


async def _payments_demo(session: AsyncSession, tenant_id: uuid.UUID) -> None:
    """GST-registered payment settings (prices include 18 % GST) and a WELCOME10 coupon."""
    if await payment_settings(session, tenant_id) is None:
        session.add(PaymentSettings(
            tenant_id=tenant_id, currency="INR", gst_mode="inclusive", gst_rate_bp=1800, gstin="27AAPFU0939F1ZV",
            legal_name="Jyotish Demo Consultancy LLP", address="12 MG Road\nPune 411001", invoice_prefix="JD",
            payment_window_minutes=30))
    exists = await session.scalar(select(Coupon.id).where(Coupon.tenant_id == tenant_id, Coupon.code == "WELCOME10"))
    if exists is None:
        session.add(Coupon(tenant_id=tenant_id, code="WELCOME10", kind="percent", percent_bp=1000, currency="INR",
                           max_uses=100, max_uses_per_client=1, min_order_amount=0, uses=0, active=True,
                           offering_kinds=[], offering_ids=[], description="10 % off a first order"))
    await session.flush()


async def seed_demo(
    sessionmaker: async_sessionmaker[AsyncSession], keys: Keys, settings: Settings, client: Client | None
) -> SeedSummary:
    async with scoped_session(sessionmaker, TenantScope.system()) as session:
        admin = await _ensure_user(session, tenant_id=None, email="admin@muhurta.example.com",
                                   full_name="Platform Admin", role=Role.PLATFORM_ADMIN)
        if admin.totp_enabled_at is None:
            admin.totp_secret_encrypted = keys.encrypt(DEMO_ADMIN_TOTP_SECRET)
            admin.totp_enabled_at = datetime.now(UTC)

        demo = await _tenant(session, "demo", "Jyotish Demo Consultancy", TenantStatus.ACTIVE)
        consultant = await _ensure_user(session, tenant_id=demo.id, email="astro@demo.example.com",
                                        full_name="Acharya Demo", role=Role.OWNER, timezone="Asia/Kolkata")
        demo_client = await _ensure_user(session, tenant_id=demo.id, email="client@demo.example.com",
                                         full_name="Priya Client", role=Role.CLIENT, timezone="Asia/Kolkata",
                                         phone="+919800000001")
        hindi_client = await _ensure_user(session, tenant_id=demo.id, email="ravi@demo.example.com",
                                          full_name="Ravi Kumar", role=Role.CLIENT, timezone="Asia/Kolkata",
                                          locale="hi")
        has_prefs = (await session.execute(select(NotificationPreference.id).where(
            NotificationPreference.user_id == hindi_client.id))).first()
        if not has_prefs:  # Ravi keeps quiet hours (22:00-07:00 IST) and reads WhatsApp
            session.add(NotificationPreference(tenant_id=demo.id, user_id=hindi_client.id, email=True, sms=True,
                                               whatsapp=True, in_app=True, announcements=True,
                                               quiet_hours_start=time(22), quiet_hours_end=time(7)))
        await _demo_consents(session, demo.id, demo_client.id, hindi_client.id)
        reading_id = await _bookable(session, demo.id, consultant.id)
        await _seed_astrology(session, demo.id, demo_client.id, reading_id)
        await _payments_demo(session, demo.id)
        await seed_course(session, settings, demo.id, consultant.id, demo_client.id)
        await seed_quotation(session, demo.id, consultant.id, demo_client)
        await seed_remedies(session, settings, demo.id, consultant.id, demo_client.id)
        await seed_checkout(session, demo.id, consultant.id, reading_id)
        demo_id, consultant_id = demo.id, consultant.id
        client_ids = (demo_client.id, hindi_client.id)

        pending = await _tenant(session, "pending-demo", "Numerology Newcomer", TenantStatus.PENDING)
        owner = await _ensure_user(session, tenant_id=pending.id, email="newcomer@pending.example.org",
                                   full_name="Newcomer Consultant", role=Role.OWNER)
        pending_id, owner_id = pending.id, owner.id
        onboarding = _pending_onboarding(settings, pending_id, owner_id)
        if await session.scalar(select(PendingWorkflowStart.id).where(
                PendingWorkflowStart.workflow_id == onboarding.workflow_id)) is None:
            session.add(onboarding)  # the worker's relay starts it if Temporal cannot be reached now

    await _demo_notifications(sessionmaker, keys, settings, demo_id, consultant_id, client_ids)
    broadcast_id = await _demo_broadcast(sessionmaker, settings, client, demo_id, consultant_id)

    workflow_id = onboarding_workflow_id(pending_id)
    if client is not None:  # start it now, as the worker's relay would
        await relay_pending_starts(sessionmaker, client, grace=timedelta(0))
    return SeedSummary(
        admin_email="admin@muhurta.example.com", tenant_slug="demo", consultant_email="astro@demo.example.com",
        client_email="client@demo.example.com", pending_slug="pending-demo", pending_workflow_id=workflow_id,
        broadcast_workflow_id=broadcast_id,
    )


async def _demo_consents(session: AsyncSession, tenant_id: uuid.UUID, *client_ids: uuid.UUID) -> None:
    """Both demo clients agreed to the terms and to marketing (the demo broadcast reaches them),
    Ravi to WhatsApp too; recorded once."""
    for client_id in client_ids:
        if await session.scalar(select(Consent.id).where(Consent.user_id == client_id).limit(1)) is not None:
            continue
        kinds = [ConsentKind.TERMS, ConsentKind.MARKETING]
        if client_id == client_ids[-1]:
            kinds.append(ConsentKind.WHATSAPP)
        session.add_all([Consent(tenant_id=tenant_id, user_id=client_id, kind=kind.value, version="demo",
                                 granted=True, recorded_at=datetime.now(UTC), source=ConsentSource.CLIENT.value)
                         for kind in kinds])


def _pending_onboarding(settings: Settings, tenant_id: uuid.UUID, owner_id: uuid.UUID) -> PendingWorkflowStart:
    """The demo's pending consultancy waits for an admin in its Onboarding workflow."""
    return PendingWorkflowStart(
        tenant_id=tenant_id, workflow_id=onboarding_workflow_id(tenant_id), workflow_type="Onboarding",
        task_queue=settings.temporal_task_queue,
        payload=OnboardingInput(tenant_id=tenant_id, owner_user_id=owner_id, email_verified=True)
        .model_dump(mode="json"),
        search_attributes={TENANT_ID.name: str(tenant_id), ENTITY_STATUS.name: "awaiting_approval"},
        memo={"summary": "Onboarding of consultancy 'pending-demo' (demo data)"})


async def _demo_notifications(
    sessionmaker: async_sessionmaker[AsyncSession], keys: Keys, settings: Settings, tenant_id: uuid.UUID,
    consultant_id: uuid.UUID, client_ids: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """A booked session told to both sides, a reminder and a welcome: outbox entries and an inbox.

    Sent through the local providers whatever the settings say (no demo mail leaves the machine);
    the dedupe keys make a second run send nothing.
    """
    from activities.notification_providers import ProviderFactory
    from activities.notifications import NotificationDeferred, Notifier

    notifier = Notifier(sessionmaker, settings, keys, ProviderFactory(settings, keys, local_only=True))
    now = datetime.now(UTC)
    starts_at = (now + timedelta(days=2)).replace(hour=13, minute=0, second=0, microsecond=0)  # 18:30 IST
    session_vars = {"service_name": "Kundli reading (60 min)", "starts_at": starts_at.isoformat(),
                    "duration_minutes": 60, "join_url": "https://meet.example.com/demo-kundli"}
    priya, ravi = client_ids
    requests = [
        NotificationRequest(dedupe_key="seed-demo:session-1:booked", tenant_id=tenant_id, recipient_user_id=priya,
                            event="session_booked", variables={**session_vars, "counterpart_name": "Acharya Demo"}),
        NotificationRequest(dedupe_key="seed-demo:session-1:booked-consultant", tenant_id=tenant_id,
                            recipient_user_id=consultant_id, event="session_booked",
                            variables={**session_vars, "counterpart_name": "Priya Client"}),
        NotificationRequest(dedupe_key="seed-demo:session-1:reminder-24h", tenant_id=tenant_id,
                            recipient_user_id=priya, event="session_reminder", urgent=True,
                            variables={**session_vars, "counterpart_name": "Acharya Demo"}),
        NotificationRequest(dedupe_key="seed-demo:welcome", tenant_id=tenant_id, recipient_user_id=priya,
                            event="announcement", channels=None,
                            variables={"title": "Welcome to Jyotish Demo",
                                       "message": "Your account is ready. Book a reading whenever you like."}),
        NotificationRequest(dedupe_key="seed-demo:session-2:booked", tenant_id=tenant_id, recipient_user_id=ravi,
                            event="session_booked", urgent=True,
                            variables={**session_vars, "counterpart_name": "Acharya Demo"}),
    ]
    for request in requests:
        with contextlib.suppress(NotificationDeferred):  # only real providers defer; the demo uses none
            await notifier.deliver(request)


async def _demo_broadcast(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, client: Client | None,
    tenant_id: uuid.UUID, consultant_id: uuid.UUID,
) -> str | None:
    """A broadcast to the demo clients, run by its workflow, so the Temporal UI shows one."""
    if client is None:
        return None
    broadcast_id = uuid.uuid5(tenant_id, "demo-broadcast")
    workflow_id = broadcast_workflow_id(broadcast_id)
    async with scoped_session(sessionmaker, TenantScope.of(tenant_id)) as session:
        if await session.get(Broadcast, broadcast_id) is None:
            session.add(Broadcast(
                id=broadcast_id, tenant_id=tenant_id, created_by=consultant_id, event="announcement",
                variables={"title": "Diwali timings", "message": "The office is closed on 1 November. Readings "
                                                               "resume on 2 November. Wishing you light!"},
                channels=None, filter={}, workflow_id=workflow_id, status=BroadcastStatus.RUNNING.value,
                created_at=datetime.now(UTC)))
    await start_once(
        client, workflow_type="Broadcast", workflow_id=workflow_id, task_queue=settings.temporal_task_queue,
        payload=BroadcastInput(broadcast_id=broadcast_id, tenant_id=tenant_id).model_dump(mode="json"),
        search_attributes={TENANT_ID.name: str(tenant_id), ENTITY_STATUS.name: BroadcastStatus.RUNNING.value},
        memo={"summary": "Broadcast of 'announcement' to clients of 'demo' (demo data)"},
    )
    return workflow_id
