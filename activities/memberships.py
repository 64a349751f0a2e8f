"""Membership activities: mirror the workflow's state, make the Razorpay subscription (once), ask
Razorpay to pause, resume or cancel it, grant each paid period's credits and invoice it (once per
payment id: activities/membership_invoices.py),
close the credits when their period or the membership ends, pick the courses to open, and the
client's messages. No database transaction is held while Razorpay is asked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.membership_invoices import invoice_charge
from activities.notifications import Notifier, attempt_time, deliver_or_retry
from activities.payments.gateway_health import GatewayKeysWatch
from activities.payments.razorpay_gateway import (
    GatewayKeysRefused,
    GatewayRefused,
    GatewayUnavailable,
    RazorpayGateway,
)
from core.db import TenantScope, scoped_session
from core.razorpay import GatewayCredentials, PaymentsNotConfigured
from core.security import Keys
from core.settings import Settings
from domain.courses.enrollment import LIVE as LIVE_ENROLMENT
from domain.memberships import (
    CLOSE_GRANTS,
    COURSES_TO_OPEN,
    CREATE_SUBSCRIPTION,
    GATEWAY_CALL,
    GATEWAY_UNAVAILABLE,
    GRANT_PERIOD,
    MAX_BILLING_CYCLES,
    NOTIFY,
    PAST_DUE_EVENT,
    PAST_DUE_GRACE,
    SAVE,
    Checkout,
    CloseGrants,
    GatewayCall,
    GatewayOp,
    GrantedPeriod,
    MembershipNotice,
    MembershipRef,
    PeriodGrant,
    SaveStep,
    SubscriptionRequest,
    course_enrollment_id,
    period_grant_id,
)
from domain.notification_templates import format_instant, language_of
from domain.notifications import NotificationRequest
from domain.packages import GrantStatus, MoveKind
from domain.payments.money import format_amount
from domain.payments.pricing import GstMode, line_tax
from models.base import utcnow
from models.bookings import Offering
from models.catalogue import PackageGrant, _move, close_grant
from models.courses import Course, Enrollment
from models.identity import User
from models.memberships import Membership, MembershipCharge, MembershipPlan
from models.payments import credentials_for, payment_settings


def _now() -> datetime:
    """Temporal's clock in an activity (right on the time-skipping server), else the wall clock."""
    return attempt_time() or utcnow()


def _unavailable(exc: Exception) -> ApplicationError:
    return ApplicationError(f"Razorpay: {exc}", type=GATEWAY_UNAVAILABLE)


def _refused(exc: Exception) -> ApplicationError:
    return ApplicationError(f"Razorpay refused: {exc}", type=type(exc).__name__, non_retryable=True)


class MembershipActivities:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, keys: Keys,
                 notifier: Notifier | None = None) -> None:
        self.sessionmaker, self.settings, self.keys = sessionmaker, settings, keys
        self.notifier = notifier or Notifier(sessionmaker, settings, keys)
        self.keys_watch = GatewayKeysWatch(sessionmaker, keys, self.notifier)

    def all(self) -> list[Callable[..., Any]]:
        return [self.save, self.create_subscription, self.gateway_call, self.grant_period, self.close_grants,
                self.courses_to_open, self.notify]

    def _session(self, ref: MembershipRef) -> Any:
        return scoped_session(self.sessionmaker, TenantScope.of(ref.tenant_id))

    @activity.defn(name=SAVE)
    async def save(self, step: SaveStep) -> None:
        """The workflow's state, mirrored into `memberships` for the API's reads."""
        state = step.state
        async with self._session(step.ref) as session:
            row = await session.get(Membership, step.ref.membership_id, with_for_update=True)
            if row is None:
                raise ApplicationError(f"membership {step.ref.membership_id} is gone", non_retryable=True)
            row.status = state.status.value
            row.current_start, row.current_end = state.current_start, state.current_end
            row.cancel_at_period_end, row.past_due_since = state.cancel_at_period_end, state.past_due_since
            row.periods_paid, row.ended_at = state.periods_paid, state.ended_at
            row.end_reason = state.end_reason[:300] if state.end_reason else None
            row.gateway_error = state.gateway_error[:300] if state.gateway_error else None

    async def _credentials(self, session: AsyncSession, tenant_id: UUID, key_id: str | None = None
                           ) -> GatewayCredentials:
        try:
            return await credentials_for(session, tenant_id, self.settings, self.keys, key_id=key_id)
        except PaymentsNotConfigured as exc:
            raise ApplicationError(str(exc), type="PaymentsNotConfigured", non_retryable=True) from exc

    @activity.defn(name=CREATE_SUBSCRIPTION)
    async def create_subscription(self, request: SubscriptionRequest) -> Checkout:
        """The Razorpay subscription of this membership, made once (a later call answers the first).
        Razorpay's plan is made on the plan's first subscription in each account."""
        ref, terms = request.ref, request.terms
        async with self._session(ref) as session:
            row = await session.get(Membership, ref.membership_id)
            if row is None:
                raise ApplicationError("the membership is gone", non_retryable=True)
            if row.gateway_subscription_id and row.gateway_key_id:
                return Checkout(subscription_id=row.gateway_subscription_id, short_url=row.short_url,
                                key_id=row.gateway_key_id)
            credentials = await self._credentials(session, ref.tenant_id)
            plan = await session.get(MembershipPlan, terms.plan_id)
            setup = await payment_settings(session, ref.tenant_id)
            # what Razorpay charges each month: the price, plus GST when the settings add it on top
            amount = line_tax(terms.price_minor, GstMode(setup.gst_mode) if setup else GstMode.NONE,
                              setup.gst_rate_bp if setup else 0)[2]
            gateway_plan = str((plan.gateway_plans or {}).get(credentials.key_id) or "") if plan else ""
        gateway = RazorpayGateway(credentials)
        notes = {"membership_id": str(ref.membership_id), "tenant_id": str(ref.tenant_id)}
        try:  # no transaction is open while Razorpay is asked
            async with self.keys_watch.watching(ref.tenant_id, credentials):
                if not gateway_plan:
                    made = await gateway.create_plan(period="monthly", amount=amount, currency=terms.currency,
                                                     name=terms.title[:200], notes={"plan_id": str(terms.plan_id)})
                    gateway_plan = str(made["id"])
                    async with self._session(ref) as session:
                        plan = await session.get(MembershipPlan, terms.plan_id, with_for_update=True)
                        if plan is not None:
                            known = dict(plan.gateway_plans or {})
                            gateway_plan = str(known.setdefault(credentials.key_id, gateway_plan))
                            plan.gateway_plans = known
                subscription = await gateway.create_subscription(
                    plan_id=gateway_plan, total_count=MAX_BILLING_CYCLES, expire_by=int(request.expire_by.timestamp()),
                    notes=notes)
        except GatewayUnavailable as exc:
            raise _unavailable(exc) from exc
        except (GatewayKeysRefused, GatewayRefused) as exc:
            raise _refused(exc) from exc
        async with self._session(ref) as session:
            row = await session.get(Membership, ref.membership_id, with_for_update=True)
            assert row is not None
            if not row.gateway_subscription_id:  # else another attempt recorded its own first: keep that one
                row.gateway_subscription_id = str(subscription["id"])[:40]
                row.gateway_key_id = credentials.key_id[:40]
                row.short_url = (subscription.get("short_url") or "")[:300] or None
            assert row.gateway_subscription_id is not None
            return Checkout(subscription_id=row.gateway_subscription_id, short_url=row.short_url,
                            key_id=row.gateway_key_id or credentials.key_id)

    @activity.defn(name=GATEWAY_CALL)
    async def gateway_call(self, call: GatewayCall) -> str:
        """Pause, resume or cancel the subscription at Razorpay; a repeat finds it done already."""
        async with self._session(call.ref) as session:
            row = await session.get(Membership, call.ref.membership_id)
            credentials = await self._credentials(session, call.ref.tenant_id, row.gateway_key_id if row else None)
        gateway = RazorpayGateway(credentials)
        try:
            async with self.keys_watch.watching(call.ref.tenant_id, credentials):
                current = await gateway.fetch_subscription(call.subscription_id)
                status = str(current.get("status") or "")
                if status in ("cancelled", "completed", "expired"):
                    return f"already {status}"
                if call.op == GatewayOp.PAUSE:
                    return "already paused" if status == "paused" else (await gateway.pause_subscription(
                        call.subscription_id))["status"]
                if call.op == GatewayOp.RESUME:
                    return "already active" if status != "paused" else (await gateway.resume_subscription(
                        call.subscription_id))["status"]
                at_end = call.op == GatewayOp.CANCEL_AT_PERIOD_END and status == "active"
                answer = await gateway.cancel_subscription(call.subscription_id, at_cycle_end=at_end)
                return f"{answer.get('status')}{' (at the period end)' if at_end else ''}"
        except GatewayUnavailable as exc:
            raise _unavailable(exc) from exc
        except (GatewayKeysRefused, GatewayRefused) as exc:
            raise _refused(exc) from exc

    @activity.defn(name=GRANT_PERIOD)
    async def grant_period(self, grant: PeriodGrant) -> GrantedPeriod:
        """Record one charge, invoice it and grant its period's credits, in one transaction, once per
        payment id (a replay: new=False, nothing more recorded, invoiced or granted)."""
        ref, terms, payment_id = grant.ref, grant.terms, grant.charge.payment_id
        assert payment_id is not None
        charged_at = _now()
        async with self._session(ref) as session:
            recorded = (await session.execute(insert(MembershipCharge).values(
                tenant_id=ref.tenant_id, membership_id=ref.membership_id, payment_id=payment_id,
                amount=grant.charge.amount, currency=grant.charge.currency, period_start=grant.period_start,
                period_end=grant.period_end, charged_at=charged_at,
            ).on_conflict_do_nothing(index_elements=["payment_id"]).returning(MembershipCharge.id))).scalar()
            if recorded is None:
                return GrantedPeriod(new=False, credits=0)
            await invoice_charge(session, grant, charged_at)
            offering = await session.get(Offering, terms.offering_id) if terms.offering_id else None
            if not terms.credits_per_period or offering is None or offering.tenant_id != ref.tenant_id:
                return GrantedPeriod(new=True, credits=0)
            row = PackageGrant(
                id=period_grant_id(ref.membership_id, payment_id), tenant_id=ref.tenant_id, package_id=None,
                membership_id=ref.membership_id, offering_id=offering.id, client_id=grant.client_id, order_id=None,
                title=terms.title[:200], credits_total=terms.credits_per_period, credits_used=0,
                credit_back_min_percent=100, status=GrantStatus.ACTIVE.value, expires_at=grant.period_end,
                workflow_id=f"{ref.workflow_id}/{payment_id}"[:100])
            session.add(row)
            await session.flush()
            await _move(session, row, MoveKind.GRANT, terms.credits_per_period, f"grant:{row.id}",
                        note=f"membership period paid by {payment_id}")
            charge = await session.get(MembershipCharge, recorded)
            assert charge is not None
            charge.grant_id = row.id
            return GrantedPeriod(new=True, credits=terms.credits_per_period)

    @activity.defn(name=CLOSE_GRANTS)
    async def close_grants(self, step: CloseGrants) -> int:
        """Expire the credits of periods that are over (or revoke all that is left); returns credits closed."""
        async with self._session(step.ref) as session:
            stmt = select(PackageGrant.id).where(PackageGrant.membership_id == step.ref.membership_id,
                                                 PackageGrant.status == GrantStatus.ACTIVE.value)
            if not step.revoke:
                stmt = stmt.where(PackageGrant.expires_at <= step.at)
            closed = 0
            for grant_id in (await session.execute(stmt)).scalars().all():
                closed += await close_grant(
                    session, grant_id, GrantStatus.REVOKED if step.revoke else GrantStatus.EXPIRED,
                    "the membership ended" if step.revoke else "the membership's period ended")
            return closed

    @activity.defn(name=COURSES_TO_OPEN)
    async def courses_to_open(self, step: PeriodGrant) -> list[UUID]:
        """The plan's courses the member is not already enrolled in (through a purchase, say)."""
        ref = step.ref
        async with self._session(ref) as session:
            courses = set((await session.execute(select(Course.id).where(
                Course.tenant_id == ref.tenant_id, Course.id.in_(step.terms.course_ids)))).scalars())
            live = (await session.execute(select(Enrollment.course_id, Enrollment.id).where(
                Enrollment.client_id == step.client_id,
                Enrollment.status.in_([s.value for s in LIVE_ENROLMENT])))).all()
            taken = {course for course, enrollment in live
                     if enrollment != course_enrollment_id(ref.membership_id, course)}
            return [c for c in step.terms.course_ids if c in courses and c not in taken]

    @activity.defn(name=NOTIFY)
    async def notify(self, notice: MembershipNotice) -> int:
        """The client's message (1 if a channel took it now or before)."""
        async with self._session(notice.ref) as session:
            row = await session.get(Membership, notice.ref.membership_id)
            client = await session.get(User, row.client_id) if row else None
            if row is None or client is None:
                return 0
            language = language_of(client.locale)
            zone = client.timezone or "UTC"
            base = self.settings.public_base_url.rstrip("/")
            variables: dict[str, Any] = {"client_name": client.full_name, "plan_title": row.title}
            if notice.event == PAST_DUE_EVENT:
                since = row.past_due_since or _now()
                variables.update(price=format_amount(row.price_minor, row.currency),
                                 grace_until=format_instant(since + PAST_DUE_GRACE, zone, language),
                                 link=row.short_url or f"{base}/api/v1/me/memberships")
            else:
                variables.update(ended=format_instant(row.ended_at or _now(), zone, language),
                                 reason=row.end_reason or "ended", link=f"{base}/api/v1/membership-plans")
            request = NotificationRequest(
                dedupe_key=f"{notice.ref.workflow_id}:{notice.step}", tenant_id=row.tenant_id,
                recipient_user_id=client.id, event=notice.event, at=attempt_time(), variables=variables,
                data={"membership_id": str(row.id), "link": variables["link"]})
        outcome = await deliver_or_retry(self.notifier, request)
        return 1 if outcome.sent_on else 0
