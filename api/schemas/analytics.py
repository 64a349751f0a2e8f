"""Analytics answers (docs/analytics.md). Money is integer minor units per currency; rates are
fractions 0..1 to four places, null when there is nothing to divide by."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel, Field

from domain.analytics import Period


class PeriodOut(BaseModel):
    first: date = Field(description="first local day, included")
    last: date = Field(description="last local day, included")
    days: int


class CurrencyAmount(BaseModel):
    currency: str
    amount_minor: int | None


class RevenueFigures(BaseModel):
    currency: str
    orders_paid: int
    gross: int = Field(description="order lines at their price (GST included where prices include it)")
    discounts: int
    refunds: int = Field(description="refunds processed in the period, whenever the order was paid")
    gst: int = Field(description="GST collected")
    collected: int = Field(description="order totals (store credit included)")
    net: int = Field(description="collected less GST less refunds")


class SessionFigures(BaseModel):
    booked: int = Field(description="sessions confirmed in the period")
    completed: int
    cancelled: int = Field(description="confirmed sessions cancelled in the period")
    no_show: int
    completion_rate: float | None = Field(description="completed / (completed + cancelled + no-show)")
    average_value: list[CurrencyAmount] = Field(description="average price of the sessions booked")


class ClientFigures(BaseModel):
    new: int = Field(description="clients whose first purchase falls in the period")
    active: int = Field(description="clients with a purchase in the period")
    repeat_rate: float | None = Field(description="share of active clients with two or more purchases by its end")
    lifetime_value: list[CurrencyAmount] = Field(
        description="average net spend of the active clients, from their first purchase to the period's end")


class QuotationFigures(BaseModel):
    sent: int
    accepted: int
    conversion_rate: float | None


class RemedyFigures(BaseModel):
    started: int
    completed: int
    stopped: int
    completion_rate: float | None = Field(description="completed / (completed + stopped)")


class CourseFigures(BaseModel):
    enrolments: int
    completions: int
    completion_rate: float | None = Field(description="completions / enrolments")


class FunnelFigures(BaseModel):
    page_views: int = Field(description="views of the public consultancy and consultant pages")
    slot_views: int = Field(description="views of an offering's free slots")
    held: int = Field(description="bookings started (held for payment, or confirmed at once when free)")
    paid: int = Field(description="bookings paid")
    slots_per_view: float | None
    held_per_slot_view: float | None
    paid_per_held: float | None


class Figures(BaseModel):
    period: PeriodOut
    revenue: list[RevenueFigures]
    sessions: SessionFigures
    clients: ClientFigures
    quotations: QuotationFigures
    remedies: RemedyFigures
    courses: CourseFigures
    funnel: FunnelFigures


class DailySeries(BaseModel):
    """One value per day of `days`, ready for a chart."""

    days: list[date]
    counts: dict[str, list[int]] = Field(description="each daily count by name (sessions_booked, page_views, ...)")
    revenue: dict[str, dict[str, list[int]]] = Field(description="currency -> figure (gross, net, ...) -> per day")


class DashboardOut(BaseModel):
    scope: str = Field(description="platform, consultancy or consultant")
    tenant_id: UUID | None = Field(description="the consultancy, when one is reported on")
    consultant_id: UUID | None
    timezone: str = Field(description="the IANA zone whose local days the figures follow")
    period: Period
    current: Figures
    previous: Figures
    series: DailySeries = Field(description="the current period, day by day")
