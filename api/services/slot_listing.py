"""Free slots as a `SlotsOut` JSON document, and the listing behind it.

A 1:1 offering's listing is computed for the viewer's whole range with neither notice nor
horizon applied (`free_slot_starts_at_any_time`): those are the only parts of the rule that
depend on the moment of asking. `SlotListing.document(now)` applies them (`starts_as_of`, a
bisection), which gives exactly the slots the rule computed at `now` would give. So a listing can
be kept and shown again, as the public page does (`api.slot_listings`), and stays right as time
passes.

Written straight to JSON: 60 days can hold 1,500 slots, and building a pydantic model per slot
cost more than finding them (see docs/bookings.md, "Performance").
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import orjson
from fastapi import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.bookings.slots import SlotRules, day_range, free_slot_starts_at_any_time, from_epoch_us, starts_as_of, zone
from models.bookings import (
    Consultant,
    Offering,
    OfferingKind,
    WebinarSession,
    WebinarStatus,
    slot_context,
    slot_rules,
)

JSON = "application/json"


def _utc(instant: datetime) -> str:
    return (instant if instant.utcoffset() == timedelta(0) else instant.astimezone(UTC)).isoformat()


# The same slots are listed again and again (every visitor of a page, every day of a range):
# formatting an aware datetime and encoding the slot's object cost more than finding the slot, so
# each slot's JSON (for a viewer's zone) is remembered, and embedded as it is (orjson.Fragment).
@lru_cache(maxsize=1 << 16)
def _slot_json(start_us: int, tz: ZoneInfo) -> orjson.Fragment:
    start = from_epoch_us(start_us)
    shown = start.astimezone(tz).isoformat()
    return orjson.Fragment(orjson.dumps({"starts_at": start.isoformat(), "local_start": shown,
                                         "local_date": shown[:10]}))


def _head(consultant: Consultant, offering: Offering, viewer: str, first_day: date, days: int) -> dict[str, Any]:
    """A `SlotsOut` document but its slots."""
    return {"offering_id": str(offering.id), "duration_minutes": offering.duration_minutes, "timezone": viewer,
            "consultant_timezone": consultant.timezone, "start": first_day.isoformat(), "days": days}


class SlotListing:
    """A 1:1 offering's free slots over one viewer's range, before notice and horizon."""

    __slots__ = ("_head", "_shown", "_tz", "consultant_id", "first_day", "rules", "starts", "viewer")

    def __init__(self, consultant: Consultant, offering: Offering, viewer: str, first_day: date, days: int,
                 starts: list[int]) -> None:
        self.consultant_id: uuid.UUID = consultant.id
        self.rules: SlotRules = slot_rules(offering)
        self.viewer, self.first_day, self.starts = viewer, first_day, starts
        self._tz = zone(viewer)
        self._head = _head(consultant, offering, viewer, first_day, days)
        self._shown: tuple[int, int, bytes] | None = None

    def document(self, now: datetime) -> bytes:
        """The `SlotsOut` document as of `now`. The last one made is kept: it changes only when
        `now` passes a slot's notice or reaches a new slot's horizon."""
        first, last = starts_as_of(self.starts, self.rules, now)
        shown = self._shown
        if shown is not None and shown[0] == first and shown[1] == last:
            return shown[2]
        tz = self._tz
        body = orjson.dumps({**self._head, "slots": [_slot_json(at, tz) for at in self.starts[first:last]]})
        self._shown = (first, last, body)
        return body


def viewer_range(consultant: Consultant, start: date | None, viewer_zone: str | None,
                 now: datetime) -> tuple[str, date]:
    """The viewer's zone and the range's first day on their clock (today when not given)."""
    viewer = viewer_zone or consultant.timezone
    return viewer, start or now.astimezone(zone(viewer)).date()


async def slot_listing(session: AsyncSession, consultant: Consultant, offering: Offering, *, start: date | None,
                       days: int, viewer_zone: str | None, now: datetime) -> SlotListing:
    """A 1:1 offering's listing: one statement (the slot context)."""
    viewer, first_day = viewer_range(consultant, start, viewer_zone, now)
    range_start, range_end = day_range(first_day, days, viewer)
    ctx = await slot_context(session, consultant, offering, range_start, range_end)
    starts = free_slot_starts_at_any_time(ctx.availability, ctx.rules, busy=ctx.busy,
                                          booked_per_day=ctx.booked_per_day, start=range_start, end=range_end)
    return SlotListing(consultant, offering, viewer, first_day, days, starts)


async def webinar_listing(session: AsyncSession, consultant: Consultant, offering: Offering, *, start: date | None,
                          days: int, viewer_zone: str | None, now: datetime) -> bytes:
    """A webinar's sessions with seats left, as a `SlotsOut` document."""
    viewer, first_day = viewer_range(consultant, start, viewer_zone, now)
    tz = zone(viewer)
    range_start, range_end = day_range(first_day, days, viewer)
    rows = (await session.execute(
        select(WebinarSession).where(
            WebinarSession.offering_id == offering.id, WebinarSession.status == WebinarStatus.SCHEDULED,
            WebinarSession.starts_at >= max(range_start, now + timedelta(minutes=offering.min_notice_minutes)),
            WebinarSession.starts_at < range_end, WebinarSession.seats_taken < WebinarSession.capacity,
        ).order_by(WebinarSession.starts_at))).scalars()
    out = []
    for ws in rows:
        local = ws.starts_at.astimezone(tz)
        out.append({"starts_at": _utc(ws.starts_at), "local_start": local.isoformat(),
                    "local_date": local.date().isoformat(), "webinar_session_id": str(ws.id),
                    "seats_left": ws.capacity - ws.seats_taken})
    return orjson.dumps({**_head(consultant, offering, viewer, first_day, days), "slots": out})


async def list_slots(
    session: AsyncSession, consultant: Consultant, offering: Offering, *,
    start: date | None, days: int, viewer_zone: str | None, now: datetime,
) -> Response:
    """Free slots as a SlotsOut JSON document (for a webinar, its sessions with seats left)."""
    if offering.kind == OfferingKind.WEBINAR:
        body = await webinar_listing(session, consultant, offering, start=start, days=days, viewer_zone=viewer_zone,
                                     now=now)
    else:
        listing = await slot_listing(session, consultant, offering, start=start, days=days,
                                     viewer_zone=viewer_zone, now=now)
        body = listing.document(now)
    return Response(body, media_type=JSON)
