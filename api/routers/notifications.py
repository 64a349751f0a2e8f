"""Notifications: my inbox and preferences; the consultancy's templates, provider settings, delivery
log and broadcasts; the platform's delivery log."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Path, Query, Request, status
from sqlalchemy import func, select, update
from temporalio.service import RPCError

from api.deps import CurrentTenant, CurrentUser, PlatformSession, Principal, Session, State, require
from api.pagination import Page, Paging, paginate
from api.permissions import Permission
from api.problems import CONFLICT, NOT_FOUND, Problem
from api.schemas.notifications import (
    BroadcastCreate,
    BroadcastOut,
    DeliveryOut,
    EventOut,
    InAppOut,
    MarkedRead,
    NotificationSettingsIn,
    NotificationSettingsOut,
    PreferencesOut,
    PreferencesUpdate,
    TemplateIn,
    TemplateOut,
    UnreadCount,
)
from api.services.notifications import (
    apply_settings,
    check_broadcast,
    check_template,
    effective_templates,
    preferences_out,
    recipient_timezone,
    settings_out,
)
from api.workflow_starts import start_after_commit
from domain.notification_channels import Channel, DeliveryStatus
from domain.notification_events import AUTOMATIC_VARIABLES, EVENTS, event_spec
from domain.notification_texts.base import TemplateText
from domain.notifications import BroadcastInput, BroadcastProgress, BroadcastStatus, broadcast_workflow_id
from models.identity import User
from models.notifications import (
    Broadcast,
    InAppNotification,
    NotificationDelivery,
    NotificationPreference,
    NotificationTemplate,
    TenantNotificationSettings,
)
from models.platform import record_audit
from workflows.search_attributes import ENTITY_STATUS, TENANT_ID

router = APIRouter(tags=["notifications"])

Language = Annotated[str, Path(pattern=r"^(en|hi)$", description="en or hi")]
EventName = Annotated[str, Path(max_length=100, description="an event of GET /notification-events")]


# -- my inbox -------------------------------------------------------------------------------------------
def _mine(principal: Principal):  # type: ignore[no-untyped-def]
    return select(InAppNotification).where(InAppNotification.user_id == principal.user_id)


@router.get("/me/notifications", response_model=Page[InAppOut])
async def list_my_notifications(
    session: Session, paging: Paging,
    unread: Annotated[bool | None, Query(description="only unread (true) or read (false) ones")] = None,
    principal: Principal = require(Permission.OWN_NOTIFICATIONS),
) -> Page[InAppOut]:
    """My in-app notifications, newest first."""
    stmt = _mine(principal)
    if unread is not None:
        stmt = stmt.where(InAppNotification.read_at.is_(None) if unread else InAppNotification.read_at.is_not(None))
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": InAppNotification.created_at},
                                  default_sort="-created_at", id_column=InAppNotification.id)
    return Page[InAppOut](items=[InAppOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/me/notifications/unread-count", response_model=UnreadCount)
async def count_my_unread(
    session: Session, principal: Principal = require(Permission.OWN_NOTIFICATIONS)
) -> UnreadCount:
    count = await session.scalar(select(func.count()).select_from(InAppNotification).where(
        InAppNotification.user_id == principal.user_id, InAppNotification.read_at.is_(None)))
    return UnreadCount(unread=count or 0)


@router.post("/me/notifications/{notification_id}/read", response_model=InAppOut)
async def mark_read(
    notification_id: UUID, session: Session, principal: Principal = require(Permission.OWN_NOTIFICATIONS)
) -> InAppOut:
    row = (await session.execute(_mine(principal).where(InAppNotification.id == notification_id))).scalar_one_or_none()
    if row is None:
        raise Problem(NOT_FOUND, "you have no notification with this id", field="notification_id")
    if row.read_at is None:
        row.read_at = datetime.now(UTC)
        await session.flush()
    return InAppOut.model_validate(row)


@router.post("/me/notifications/read-all", response_model=MarkedRead)
async def mark_all_read(session: Session, principal: Principal = require(Permission.OWN_NOTIFICATIONS)) -> MarkedRead:
    result = await session.execute(update(InAppNotification).where(
        InAppNotification.user_id == principal.user_id, InAppNotification.read_at.is_(None),
    ).values(read_at=datetime.now(UTC)).returning(InAppNotification.id))
    return MarkedRead(marked=len(result.all()))


# -- my preferences ------------------------------------------------------------------------------------------
async def _me(session: Session, principal: CurrentUser) -> User:
    user = await session.get(User, principal.user_id)
    if user is None or not user.is_active:
        raise Problem(NOT_FOUND, "your account no longer exists")
    return user


async def _preferences(session: Session, user: User) -> NotificationPreference | None:
    return (await session.execute(select(NotificationPreference).where(
        NotificationPreference.user_id == user.id))).scalar_one_or_none()


@router.get("/me/notification-preferences", response_model=PreferencesOut)
async def read_my_preferences(
    session: Session, principal: Principal = require(Permission.OWN_NOTIFICATIONS)
) -> PreferencesOut:
    user = await _me(session, principal)
    return preferences_out(await _preferences(session, user), await recipient_timezone(session, user))


@router.patch("/me/notification-preferences", response_model=PreferencesOut)
async def update_my_preferences(
    body: PreferencesUpdate, session: Session, principal: Principal = require(Permission.OWN_NOTIFICATIONS)
) -> PreferencesOut:
    """Opt in or out per channel; quiet hours in your own time zone (urgent messages still come)."""
    user = await _me(session, principal)
    row = await _preferences(session, user)
    if row is None:
        row = NotificationPreference(tenant_id=user.tenant_id, user_id=user.id, email=True, sms=True,
                                     whatsapp=False, in_app=True, announcements=True)
        session.add(row)
    changes = body.model_dump(exclude_unset=True)
    for name in ("email", "sms", "whatsapp", "in_app", "announcements"):
        if name in changes and changes[name] is not None:
            setattr(row, name, changes[name])
    if "quiet_hours" in changes:
        quiet = body.quiet_hours
        row.quiet_hours_start = quiet.start if quiet else None
        row.quiet_hours_end = quiet.end if quiet else None
    await session.flush()
    return preferences_out(row, await recipient_timezone(session, user))


# -- events and templates --------------------------------------------------------------------------------------
@router.get("/notification-events", response_model=list[EventOut])
async def list_events(
    tenant: CurrentTenant, principal: Principal = require(Permission.VIEW_DELIVERIES)
) -> list[EventOut]:
    """Every event the platform sends, its variables and sample values (for template editors)."""
    return [EventOut(name=s.name, description=s.description, audience=s.audience, variables=dict(s.variables),
                     automatic_variables=AUTOMATIC_VARIABLES, sample=dict(s.sample),
                     default_channels=list(s.default_channels), urgent=s.urgent, mandatory=s.mandatory,
                     broadcast=s.broadcast)
            for s in sorted(EVENTS.values(), key=lambda s: s.name)]


async def _overrides(session: Session, tenant_id: UUID) -> dict[tuple[str, Channel, str], NotificationTemplate]:
    rows = (await session.execute(select(NotificationTemplate).where(
        NotificationTemplate.tenant_id == tenant_id))).scalars()
    return {(r.event, Channel(r.channel), r.locale): r for r in rows}


@router.get("/notification-templates", response_model=list[TemplateOut])
async def list_templates(
    tenant: CurrentTenant, session: Session,
    event: Annotated[str | None, Query(max_length=100)] = None,
    channel: Annotated[Channel | None, Query()] = None,
    locale: Annotated[str | None, Query(pattern=r"^(en|hi)$")] = None,
    principal: Principal = require(Permission.MANAGE_NOTIFICATIONS),
) -> list[TemplateOut]:
    """The templates in effect: your overrides, and the built-in text where you have none."""
    return effective_templates(await _overrides(session, tenant.id), event, channel, locale)


@router.put("/notification-templates/{event}/{channel}/{locale}", response_model=TemplateOut)
async def put_template(
    event: EventName, channel: Channel, locale: Language, body: TemplateIn, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_NOTIFICATIONS),
) -> TemplateOut:
    """Your own wording. It is rendered with the event's sample values before it is saved: a
    variable the event does not have, or a syntax error, is refused (template-invalid)."""
    preview = check_template(event, channel, locale, body.subject, body.body)
    existing = (await _overrides(session, tenant.id)).get((event, channel, locale))
    if existing is None:
        existing = NotificationTemplate(tenant_id=tenant.id, event=event, channel=channel.value, locale=locale,
                                        subject=body.subject, body=body.body)
        session.add(existing)
    existing.subject, existing.body, existing.updated_by = body.subject, body.body, principal.user_id
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="notifications.template_saved",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="notification_template", target_id=f"{event}/{channel.value}/{locale}")
    return TemplateOut(event=event, channel=channel, locale=locale, subject=body.subject, body=body.body,
                       source="tenant", preview=preview)


@router.delete("/notification-templates/{event}/{channel}/{locale}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_template(
    event: EventName, channel: Channel, locale: Language, tenant: CurrentTenant, session: Session,
    principal: Principal = require(Permission.MANAGE_NOTIFICATIONS),
) -> None:
    """Go back to the built-in text."""
    existing = (await _overrides(session, tenant.id)).get((event, channel, locale))
    if existing is None:
        raise Problem(NOT_FOUND, "you have no template of your own for this event, channel and language",
                      field="event")
    await session.delete(existing)
    await record_audit(session, tenant_id=tenant.id, action="notifications.template_deleted",
                       actor_user_id=principal.user_id, actor_role=principal.role.value,
                       target_type="notification_template", target_id=f"{event}/{channel.value}/{locale}")


# -- the consultancy's sender identity and provider accounts ------------------------------------------------------
async def _settings_row(session: Session, tenant_id: UUID) -> TenantNotificationSettings | None:
    return (await session.execute(select(TenantNotificationSettings).where(
        TenantNotificationSettings.tenant_id == tenant_id))).scalar_one_or_none()


@router.get("/tenant/notification-settings", response_model=NotificationSettingsOut)
async def read_notification_settings(
    tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_NOTIFICATIONS),
) -> NotificationSettingsOut:
    """Who sends your messages, from which address; secrets are never returned (only whether set)."""
    return settings_out(await _settings_row(session, tenant.id), state.settings, tenant.slug)


@router.patch("/tenant/notification-settings", response_model=NotificationSettingsOut)
async def update_notification_settings(
    body: NotificationSettingsIn, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.MANAGE_NOTIFICATIONS),
) -> NotificationSettingsOut:
    """Bring your own SendGrid key (and verified sender) or Twilio account; stored encrypted."""
    row = await _settings_row(session, tenant.id)
    if row is None:
        row = TenantNotificationSettings(tenant_id=tenant.id)
        session.add(row)
    fields = apply_settings(row, body, state.keys)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="notifications.settings_updated",
                       actor_user_id=principal.user_id, actor_role=principal.role.value, target_type="tenant",
                       target_id=tenant.id, details={"fields": fields})
    return settings_out(row, state.settings, tenant.slug)


# -- delivery log -------------------------------------------------------------------------------------------------
def _filtered(stmt, status_: DeliveryStatus | None, channel: Channel | None, event: str | None,  # type: ignore[no-untyped-def]
              user_id: UUID | None, request_key: str | None):
    if status_:
        stmt = stmt.where(NotificationDelivery.status == status_.value)
    if channel:
        stmt = stmt.where(NotificationDelivery.channel == channel.value)
    if event:
        stmt = stmt.where(NotificationDelivery.event == event)
    if user_id:
        stmt = stmt.where(NotificationDelivery.user_id == user_id)
    if request_key:
        stmt = stmt.where(NotificationDelivery.request_key == request_key)
    return stmt


@router.get("/notifications/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(
    tenant: CurrentTenant, session: Session, paging: Paging,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel: Annotated[Channel | None, Query()] = None,
    event: Annotated[str | None, Query(max_length=100)] = None,
    user_id: Annotated[UUID | None, Query(description="the recipient")] = None,
    request_key: Annotated[str | None, Query(max_length=280, description="the sender's dedupe key")] = None,
    principal: Principal = require(Permission.VIEW_DELIVERIES),
) -> Page[DeliveryOut]:
    """Every message this consultancy sent: channel, event, recipient, status, provider id, error."""
    stmt = _filtered(select(NotificationDelivery).where(NotificationDelivery.tenant_id == tenant.id),
                     status_, channel, event, user_id, request_key)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": NotificationDelivery.created_at},
                                  default_sort="-created_at", id_column=NotificationDelivery.id)
    return Page[DeliveryOut](items=[DeliveryOut.model_validate(r) for r in rows], next_cursor=cursor)


@router.get("/admin/notification-deliveries", response_model=Page[DeliveryOut], tags=["admin"])
async def list_all_deliveries(
    session: PlatformSession, paging: Paging,
    tenant_id: Annotated[UUID | None, Query()] = None,
    status_: Annotated[DeliveryStatus | None, Query(alias="status")] = None,
    channel: Annotated[Channel | None, Query()] = None,
    event: Annotated[str | None, Query(max_length=100)] = None,
    admin: Principal = require(Permission.ADMIN_OUTBOX),
) -> Page[DeliveryOut]:
    stmt = _filtered(select(NotificationDelivery), status_, channel, event, None, None)
    if tenant_id:
        stmt = stmt.where(NotificationDelivery.tenant_id == tenant_id)
    rows, cursor = await paginate(session, stmt, paging, sortable={"created_at": NotificationDelivery.created_at},
                                  default_sort="-created_at", id_column=NotificationDelivery.id)
    return Page[DeliveryOut](items=[DeliveryOut.model_validate(r) for r in rows], next_cursor=cursor)


# -- broadcasts ---------------------------------------------------------------------------------------------------
@router.post("/broadcasts", status_code=status.HTTP_202_ACCEPTED, response_model=BroadcastOut)
async def start_broadcast(
    body: BroadcastCreate, request: Request, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.SEND_BROADCASTS),
) -> BroadcastOut:
    """Send one event's template (e.g. `announcement`) to the clients the filter selects.

    The values are checked against every template it may use first. The `broadcast-<id>`
    workflow then sends in batches, holding clients in their quiet hours until those end; follow
    it with GET /broadcasts/{id} or in the Temporal UI.
    """
    overrides = {k: TemplateText(v.subject, v.body) for k, v in (await _overrides(session, tenant.id)).items()}
    check_broadcast(body.event, body.variables, body.channels, overrides)
    broadcast_id = uuid4()
    workflow_id = broadcast_workflow_id(broadcast_id)
    row = Broadcast(id=broadcast_id, tenant_id=tenant.id, created_by=principal.user_id, event=body.event,
                    variables=body.variables, channels=[c.value for c in body.channels] if body.channels else None,
                    filter=body.filter.model_dump(mode="json"), workflow_id=workflow_id,
                    status=BroadcastStatus.RUNNING.value, created_at=datetime.now(UTC))
    session.add(row)
    await session.flush()
    await record_audit(session, tenant_id=tenant.id, action="broadcast.started", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="broadcast", target_id=broadcast_id,
                       details={"event": body.event})
    await start_after_commit(
        request, session, state, workflow_type="Broadcast", workflow_id=workflow_id,
        payload=BroadcastInput(broadcast_id=broadcast_id, tenant_id=tenant.id), tenant_id=tenant.id,
        search_attributes={TENANT_ID.name: str(tenant.id), ENTITY_STATUS.name: BroadcastStatus.RUNNING.value},
        memo={"summary": f"Broadcast of '{event_spec(body.event).name}' to clients of '{tenant.slug}'"},
    )
    return BroadcastOut.of(row)


@router.get("/broadcasts", response_model=Page[BroadcastOut])
async def list_broadcasts(
    tenant: CurrentTenant, session: Session, paging: Paging,
    principal: Principal = require(Permission.SEND_BROADCASTS),
) -> Page[BroadcastOut]:
    rows, cursor = await paginate(session, select(Broadcast).where(Broadcast.tenant_id == tenant.id), paging,
                                  sortable={"created_at": Broadcast.created_at}, default_sort="-created_at",
                                  id_column=Broadcast.id)
    return Page[BroadcastOut](items=[BroadcastOut.of(r) for r in rows], next_cursor=cursor)


async def _broadcast(session: Session, tenant_id: UUID, broadcast_id: UUID) -> Broadcast:
    row = await session.get(Broadcast, broadcast_id)
    if row is None or row.tenant_id != tenant_id:
        raise Problem(NOT_FOUND, "this consultancy has no broadcast with this id", field="broadcast_id")
    return row


@router.get("/broadcasts/{broadcast_id}", response_model=BroadcastOut)
async def read_broadcast(
    broadcast_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.SEND_BROADCASTS),
) -> BroadcastOut:
    """Progress from the database, with the workflow's own view (`live`) when Temporal answers."""
    row = await _broadcast(session, tenant.id, broadcast_id)
    live = None
    if state.temporal is not None:
        try:
            live = await state.temporal.get_workflow_handle(row.workflow_id).query(
                "progress", result_type=BroadcastProgress)
        except RPCError:
            live = None
    return BroadcastOut.of(row, live)


@router.post("/broadcasts/{broadcast_id}/cancel", response_model=BroadcastOut)
async def cancel_broadcast(
    broadcast_id: UUID, tenant: CurrentTenant, session: Session, state: State,
    principal: Principal = require(Permission.SEND_BROADCASTS),
) -> BroadcastOut:
    """Stop sending; clients already reached stay reached."""
    row = await _broadcast(session, tenant.id, broadcast_id)
    if row.status in (BroadcastStatus.COMPLETED.value, BroadcastStatus.CANCELLED.value):
        raise Problem(CONFLICT, f"this broadcast is {row.status} already")
    if state.temporal is not None:
        await state.temporal.get_workflow_handle(row.workflow_id).signal("cancel")
    await record_audit(session, tenant_id=tenant.id, action="broadcast.cancelled", actor_user_id=principal.user_id,
                       actor_role=principal.role.value, target_type="broadcast", target_id=broadcast_id)
    return BroadcastOut.of(row)
