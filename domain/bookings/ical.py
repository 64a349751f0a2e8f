"""iCalendar (RFC 5545) text for booking invitations and a consultant's calendar feed. Pure.

* Times are UTC (`DTSTART:20261123T043000Z`), so no VTIMEZONE is needed and every client shows
  the session on its own clock.
* The UID is stable per booking (`booking-<id>@<domain>`): a reschedule sends the same UID with a
  higher SEQUENCE and calendars move the event instead of adding one; a cancellation sends
  METHOD:CANCEL with STATUS:CANCELLED (RFC 5546 iTIP).
* Lines end with CRLF and are folded at 75 octets; text values are escaped.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

PRODID = "-//Muhurta//Bookings 1.0//EN"
UID_DOMAIN = "muhurta.app"


class Method(enum.StrEnum):
    REQUEST = "REQUEST"   # an invitation, or its update after a reschedule
    CANCEL = "CANCEL"
    PUBLISH = "PUBLISH"   # a read-only feed


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class CalendarEvent:
    booking_id: UUID
    starts_at: datetime
    ends_at: datetime
    sequence: int
    summary: str
    description: str = ""
    location: str | None = None      # the meeting link
    organizer: Person | None = None
    attendees: tuple[Person, ...] = ()
    cancelled: bool = False
    tentative: bool = False           # held, waiting for payment


def booking_uid(booking_id: UUID) -> str:
    return f"booking-{booking_id}@{UID_DOMAIN}"


def utc_stamp(instant: datetime) -> str:
    if instant.tzinfo is None:
        raise ValueError("iCalendar times must be aware datetimes")
    return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11)."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _param(value: str) -> str:
    """A parameter value (CN=...): quoted if it holds separators; quotes themselves are dropped."""
    cleaned = value.replace('"', "'").replace("\r", " ").replace("\n", " ")
    return f'"{cleaned}"' if any(c in cleaned for c in ":;,") else cleaned


def fold(line: str) -> str:
    """Fold a content line into chunks of at most 75 octets, never splitting a UTF-8 character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts: list[str] = []
    limit = 75
    while data:
        cut = min(limit, len(data))
        while cut < len(data) and (data[cut] & 0xC0) == 0x80:  # inside a multi-byte character
            cut -= 1
        parts.append(data[:cut].decode())
        data = data[cut:]
        limit = 74  # continuation lines start with a space
    return "\r\n ".join(parts)


def _event_lines(event: CalendarEvent, stamp: datetime, *, with_people: bool) -> list[str]:
    status = "CANCELLED" if event.cancelled else ("TENTATIVE" if event.tentative else "CONFIRMED")
    lines = [
        "BEGIN:VEVENT",
        f"UID:{booking_uid(event.booking_id)}",
        f"DTSTAMP:{utc_stamp(stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SEQUENCE:{event.sequence}",
        f"STATUS:{status}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
        if event.location.startswith(("https://", "http://")):
            lines.append(f"URL:{event.location}")
    if with_people and event.organizer:
        lines.append(f"ORGANIZER;CN={_param(event.organizer.name)}:mailto:{event.organizer.email}")
    if with_people:
        partstat = "DECLINED" if event.cancelled else "NEEDS-ACTION"
        for person in event.attendees:
            lines.append(f"ATTENDEE;CN={_param(person.name)};ROLE=REQ-PARTICIPANT;PARTSTAT={partstat};"
                         f"RSVP={'FALSE' if event.cancelled else 'TRUE'}:mailto:{person.email}")
    lines.append("TRANSP:TRANSPARENT" if event.cancelled else "TRANSP:OPAQUE")
    lines.append("END:VEVENT")
    return lines


def _calendar(lines: Iterable[str]) -> str:
    return "".join(fold(line) + "\r\n" for line in lines)


def invitation(event: CalendarEvent, method: Method, *, stamp: datetime) -> str:
    """One booking as an iTIP message: METHOD:REQUEST (new or moved) or METHOD:CANCEL."""
    if method == Method.PUBLISH:
        raise ValueError("an invitation is a REQUEST or a CANCEL")
    if (method == Method.CANCEL) != event.cancelled:
        raise ValueError("METHOD:CANCEL goes with a cancelled event, and only with one")
    return _calendar([
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", f"METHOD:{method.value}",
        *_event_lines(event, stamp, with_people=True),
        "END:VCALENDAR",
    ])


def feed(name: str, events: Iterable[CalendarEvent], *, stamp: datetime) -> str:
    """A consultant's calendar for subscription (METHOD:PUBLISH), events in time order."""
    body: list[str] = []
    for event in sorted(events, key=lambda e: (e.starts_at, str(e.booking_id))):
        body += _event_lines(event, stamp, with_people=False)
    return _calendar([
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(name)}", "X-PUBLISHED-TTL:PT15M", "REFRESH-INTERVAL;VALUE=DURATION:PT15M",
        *body,
        "END:VCALENDAR",
    ])


def unfold(text: str) -> list[str]:
    """Content lines of an iCalendar text (for reading it back, e.g. in tests)."""
    return text.replace("\r\n ", "").split("\r\n")[:-1]
