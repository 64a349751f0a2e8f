"""Analytics: a consultant's, a consultancy's and the platform's figures over a period of local
days in the viewer's zone, beside the period before, with a daily series and a CSV export.

Read from the daily roll-ups the AnalyticsRollup schedule keeps (docs/analytics.md).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy import select

from api.deps import Context, Principal, Session, require
from api.permissions import Permission, allowed
from api.problems import FORBIDDEN, NOT_FOUND, Problem
from api.schemas.analytics import DashboardOut
from api.schemas.common import TimeZone
from api.services import analytics as service
from core.db import TenantScope, enter_scope
from domain.analytics import DayRange, Period, RangeError, resolve
from models.bookings import Consultant
from models.identity import User
from models.tenancy import Tenant

router = APIRouter(tags=["analytics"])
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "one row per local day"}}


class PeriodQuery:
    """The period asked for, resolved on the viewer's calendar."""

    def __init__(
        self,
        period: Annotated[Period, Query(description="today, week (ISO), month, quarter, year or custom")]
        = Period.MONTH,
        on: Annotated[date | None, Query(description="a local day inside the period (default today)")] = None,
        first: Annotated[date | None, Query(alias="from", description="period=custom: first local day")] = None,
        last: Annotated[date | None, Query(alias="to", description="period=custom: last local day, included")]
        = None,
        timezone: Annotated[TimeZone | None, Query(
            description="the IANA zone whose days are reported (default yours, else the consultancy's)")] = None,
    ) -> None:
        self.period, self.on, self.first, self.last, self.timezone = period, on, first, last, timezone

    def ranges(self, zone: str) -> tuple[DayRange, DayRange]:
        try:
            return resolve(self.period, datetime.now(ZoneInfo(zone)).date(), on=self.on, first=self.first,
                           last=self.last)
        except RangeError as exc:
            raise Problem(service.RANGE_INVALID, str(exc), field=exc.field) from exc


async def period_query(
    period: Annotated[Period, Query(description="today, week (ISO), month, quarter, year or custom")] = Period.MONTH,
    on: Annotated[date | None, Query(description="a local day inside the period (default today)")] = None,
    first: Annotated[date | None, Query(alias="from", description="period=custom: first local day")] = None,
    last: Annotated[date | None, Query(alias="to", description="period=custom: last local day, included")] = None,
    timezone: Annotated[TimeZone | None, Query(
        description="the IANA zone whose days are reported (default yours, else the consultancy's)")] = None,
) -> PeriodQuery:
    """The query parameters as an async dependency (a class dependency runs in the thread pool)."""
    return PeriodQuery(period, on, first, last, timezone)


Asked = Annotated[PeriodQuery, Depends(period_query)]


async def _zone(session: Session, asked: PeriodQuery, principal: Principal, tenant: Tenant | None) -> str:
    if asked.timezone:
        return asked.timezone
    own = await session.scalar(select(User.timezone).where(User.id == principal.user_id))
    return own or (tenant.timezone if tenant else None) or "UTC"


async def _tenant_scope(session: Session, context: Context, principal: Principal,
                        consultant_id: UUID | None) -> service.Scope:
    """Owners and staff see the consultancy or any of its consultants; a consultant their own."""
    tenant = context.tenant
    assert tenant is not None  # require() checked it
    if consultant_id is not None:
        found = await session.scalar(select(Consultant.user_id).where(
            Consultant.id == consultant_id, Consultant.tenant_id == tenant.id))
        if found is None:
            raise Problem(NOT_FOUND, "no consultant has this id here", field="consultant_id")
        if not allowed(principal.role, Permission.VIEW_ANALYTICS) and found != principal.user_id:
            raise Problem(FORBIDDEN, "you may see your own figures only", field="consultant_id")
        return service.Scope(tenant.id, consultant_id)
    if allowed(principal.role, Permission.VIEW_ANALYTICS):
        return service.Scope(tenant.id)
    own = await session.scalar(select(Consultant.id).where(
        Consultant.user_id == principal.user_id, Consultant.tenant_id == tenant.id))
    if own is None:
        raise Problem(FORBIDDEN, "you have no consultant profile here, so no figures of your own")
    return service.Scope(tenant.id, own)


async def _dashboard(session: Session, scope: service.Scope, zone: str, asked: PeriodQuery) -> DashboardOut:
    current, previous = asked.ranges(zone)
    await service.ensure_filled(session, scope, zone)
    now, before, daily = await service.dashboard(session, scope, zone, current, previous)
    return DashboardOut(
        scope=scope.name, tenant_id=scope.tenant_id, consultant_id=scope.consultant_id, timezone=zone,
        period=asked.period, current=now, previous=before, series=daily)


async def _csv(session: Session, scope: service.Scope, zone: str, asked: PeriodQuery) -> Response:
    current, _ = asked.ranges(zone)
    await service.ensure_filled(session, scope, zone)
    body = service.series_csv(await service.series(session, scope, zone, current))
    name = f"analytics-{scope.name}-{current.first}-{current.last}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/analytics/dashboard", response_model=DashboardOut)
async def dashboard(
    session: Session, context: Context, asked: Asked,
    consultant_id: Annotated[UUID | None, Query(description="one consultant's figures (owners, staff)")] = None,
    principal: Principal = require(Permission.OWN_ANALYTICS),
) -> DashboardOut:
    """Revenue, sessions, clients, quotations, remedies, courses and the booking funnel of the
    period, beside the period before, with the current period day by day. Owners and staff see
    the consultancy (or one consultant); a consultant sees their own figures."""
    scope = await _tenant_scope(session, context, principal, consultant_id)
    return await _dashboard(session, scope, await _zone(session, asked, principal, context.tenant), asked)


@router.get("/analytics/export.csv", response_class=Response, responses=CSV)
async def export_csv(
    session: Session, context: Context, asked: Asked,
    consultant_id: Annotated[UUID | None, Query(description="one consultant's figures (owners, staff)")] = None,
    principal: Principal = require(Permission.OWN_ANALYTICS),
) -> Response:
    """The daily series of the period as CSV: counts, then money per currency (`gross_INR`, ...)."""
    scope = await _tenant_scope(session, context, principal, consultant_id)
    return await _csv(session, scope, await _zone(session, asked, principal, context.tenant), asked)


async def _platform_scope(session: Session, tenant_id: UUID | None) -> service.Scope:
    await enter_scope(session, TenantScope.system())
    if tenant_id is not None and await session.get(Tenant, tenant_id) is None:
        raise Problem(NOT_FOUND, "no consultancy has this id", field="tenant_id")
    return service.Scope(tenant_id)


@router.get("/admin/analytics/dashboard", response_model=DashboardOut)
async def platform_dashboard(
    session: Session, asked: Asked,
    tenant_id: Annotated[UUID | None, Query(description="one consultancy's figures")] = None,
    principal: Principal = require(Permission.ADMIN_ANALYTICS),
) -> DashboardOut:
    """The platform's figures: every consultancy together (or one), in the admin's zone."""
    scope = await _platform_scope(session, tenant_id)
    return await _dashboard(session, scope, await _zone(session, asked, principal, None), asked)


@router.get("/admin/analytics/export.csv", response_class=Response, responses=CSV)
async def platform_export_csv(
    session: Session, asked: Asked,
    tenant_id: Annotated[UUID | None, Query(description="one consultancy's figures")] = None,
    principal: Principal = require(Permission.ADMIN_ANALYTICS),
) -> Response:
    """The platform's daily series as CSV."""
    scope = await _platform_scope(session, tenant_id)
    return await _csv(session, scope, await _zone(session, asked, principal, None), asked)
