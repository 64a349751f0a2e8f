"""Report delivery: the states, timings and messages between the API, the workflow and its activities.

A report sold by an order (or an order line) is delivered by `ReportDeliveryWorkflow`, whose id is
`report-<order id>`; the delivery's own id in the database and the API *is* that order id, so
there is one id to follow everywhere.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

REPORT_DELIVERY_WORKFLOW = "ReportDelivery"
DUE_SOON_BEFORE = timedelta(hours=24)   # the consultant is alerted this long before the due date
OPEN_WATCH = timedelta(days=90)         # after delivery, how long the workflow waits for the first open


def report_delivery_workflow_id(order_id: UUID) -> str:
    return f"report-{order_id}"


class ReportDeliveryStatus(enum.StrEnum):
    AWAITING_UPLOAD = "awaiting_upload"
    OVERDUE = "overdue"                      # still awaiting the upload, due date passed
    DELIVERED = "delivered"                  # sent to the client (email + in-app)
    OPENED = "opened"                        # the client has opened it
    DELIVERED_BY_HAND = "delivered_by_hand"  # staff said it was handed over another way


FINAL_STATUSES = frozenset({ReportDeliveryStatus.DELIVERED, ReportDeliveryStatus.OPENED,
                            ReportDeliveryStatus.DELIVERED_BY_HAND})


class ReportDeliveryInput(BaseModel):
    """How a delivery starts: from the staff endpoint now, from the order workflow once payments exist."""

    tenant_id: UUID
    order_id: UUID = Field(description="the order (or order line) that sold the report; also the delivery's id")
    client_id: UUID
    consultant_id: UUID
    title: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime
    reference: str | None = Field(None, max_length=64, description="the order's human reference, if any")
    requested_by: UUID | None = None


class ReportUploaded(BaseModel):
    file_id: UUID
    uploaded_at: datetime
    uploaded_by: UUID | None = None


class ReportOpened(BaseModel):
    file_id: UUID
    at: datetime


class ManualDelivery(BaseModel):
    actor_user_id: UUID
    actor_role: str
    note: str | None = Field(None, max_length=1000)
    request_id: str | None = None
    ip: str | None = None


class ReportDeliveryState(BaseModel):
    order_id: UUID
    tenant_id: UUID
    client_id: UUID
    consultant_id: UUID
    status: ReportDeliveryStatus
    due_at: datetime
    started_at: datetime
    file_id: UUID | None = None
    uploaded_at: datetime | None = None
    delivered_at: datetime | None = None
    delivered_by: UUID | None = Field(None, description="who marked it delivered by hand")
    note: str | None = None
    first_opened_at: datetime | None = None
    due_soon_alert_at: datetime | None = None
    overdue_alert_at: datetime | None = None


# -- activity contracts --------------------------------------------------------------------
class ReportRef(BaseModel):
    workflow_id: str
    tenant_id: UUID
    order_id: UUID


AlertKind = Literal["due_soon", "overdue"]


class ConsultantAlert(BaseModel):
    ref: ReportRef
    kind: AlertKind
    at: datetime
    # False: only recorded; the message is SEND_ALERT, sent by the workflow's outbox afterwards.
    send: bool = True


class AlertOutcome(BaseModel):
    sent: bool
    uploaded_file_id: UUID | None = Field(
        None, description="a report the database shows uploaded (a signal that was lost): deliver it")


class DeliverReport(BaseModel):
    ref: ReportRef
    file_id: UUID
    at: datetime
    # False: only marked delivered; the client's message is SEND_DELIVERED, sent by the outbox.
    send: bool = True


class Delivered(BaseModel):
    file_id: UUID
    delivered_at: datetime


class RecordOpened(BaseModel):
    ref: ReportRef
    at: datetime


class RecordManual(BaseModel):
    ref: ReportRef
    delivery: ManualDelivery
    at: datetime


ENSURE_DELIVERY = "reports.ensure_delivery"
ALERT_CONSULTANT = "reports.alert_consultant"
DELIVER_REPORT = "reports.deliver"
RECORD_OPENED = "reports.record_opened"
SEND_ALERT = "reports.send_alert"
SEND_DELIVERED = "reports.send_delivered"
RECORD_BY_HAND = "reports.record_by_hand"


def start_arguments(inp: ReportDeliveryInput) -> tuple[str, dict[str, str], dict[str, Any]]:
    """Workflow id, search attributes and memo for starting a delivery (API or order workflow)."""
    return (
        report_delivery_workflow_id(inp.order_id),
        {"TenantId": str(inp.tenant_id), "ClientId": str(inp.client_id),
         "ConsultantId": str(inp.consultant_id), "EntityStatus": ReportDeliveryStatus.AWAITING_UPLOAD.value},
        {"summary": summary(inp.order_id, ReportDeliveryStatus.AWAITING_UPLOAD, inp.due_at)},
    )


def summary(order_id: UUID, status: ReportDeliveryStatus, due_at: datetime) -> str:
    """The memo's human summary: ids, status and dates only (memos are not encrypted)."""
    return f"Report for order {order_id}: {status.value.replace('_', ' ')}, due {due_at:%Y-%m-%d %H:%M} UTC"
