"""The iCalendar text itself: RFC 5545 line endings, folding, escaping, UTC times, UID and SEQUENCE."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.bookings.ical import CalendarEvent, Method, Person, escape_text, feed, fold, invitation, unfold

BOOKING = uuid.UUID("0b6f3b2e-8f7e-4a53-9d39-0d3c1e9a7f11")
IST = timezone(timedelta(hours=5, minutes=30))
STAMP = datetime(2026, 11, 22, 9, 15, 0, tzinfo=UTC)


def event(**changes) -> CalendarEvent:
    base = dict(
        booking_id=BOOKING, starts_at=datetime(2026, 11, 23, 10, 0, tzinfo=IST),
        ends_at=datetime(2026, 11, 23, 11, 0, tzinfo=IST), sequence=0,
        summary="Kundli reading, with notes; part 1", description="Bring your birth details.\nThank you",
        location="https://meet.jit.si/muhurta-abc123",
        organizer=Person("Acharya Demo", "astro@demo.example.com"),
        attendees=(Person("Priya Client", "client@demo.example.com"),),
    )
    base.update(changes)
    return CalendarEvent(**base)


def test_request_invitation_exact_text():
    text = invitation(event(), Method.REQUEST, stamp=STAMP)
    assert text == (
        "BEGIN:VCALENDAR\r\n"
        "VERSION:2.0\r\n"
        "PRODID:-//Muhurta//Bookings 1.0//EN\r\n"
        "CALSCALE:GREGORIAN\r\n"
        "METHOD:REQUEST\r\n"
        "BEGIN:VEVENT\r\n"
        "UID:booking-0b6f3b2e-8f7e-4a53-9d39-0d3c1e9a7f11@muhurta.app\r\n"
        "DTSTAMP:20261122T091500Z\r\n"
        "DTSTART:20261123T043000Z\r\n"
        "DTEND:20261123T053000Z\r\n"
        "SEQUENCE:0\r\n"
        "STATUS:CONFIRMED\r\n"
        "SUMMARY:Kundli reading\\, with notes\\; part 1\r\n"
        "DESCRIPTION:Bring your birth details.\\nThank you\r\n"
        "LOCATION:https://meet.jit.si/muhurta-abc123\r\n"
        "URL:https://meet.jit.si/muhurta-abc123\r\n"
        "ORGANIZER;CN=Acharya Demo:mailto:astro@demo.example.com\r\n"
        "ATTENDEE;CN=Priya Client;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TR\r\n"  # 75 octets
        " UE:mailto:client@demo.example.com\r\n"
        "TRANSP:OPAQUE\r\n"
        "END:VEVENT\r\n"
        "END:VCALENDAR\r\n"
    )


def test_reschedule_keeps_the_uid_and_bumps_the_sequence_cancel_says_so():
    moved = unfold(invitation(event(sequence=1, starts_at=datetime(2026, 11, 24, 4, 30, tzinfo=UTC),
                                    ends_at=datetime(2026, 11, 24, 5, 30, tzinfo=UTC)), Method.REQUEST, stamp=STAMP))
    assert "UID:booking-0b6f3b2e-8f7e-4a53-9d39-0d3c1e9a7f11@muhurta.app" in moved
    assert "SEQUENCE:1" in moved and "DTSTART:20261124T043000Z" in moved and "METHOD:REQUEST" in moved
    cancelled = unfold(invitation(event(sequence=2, cancelled=True), Method.CANCEL, stamp=STAMP))
    assert "METHOD:CANCEL" in cancelled and "STATUS:CANCELLED" in cancelled and "SEQUENCE:2" in cancelled
    assert any(line.startswith("ATTENDEE") and "PARTSTAT=DECLINED" in line for line in cancelled)
    with pytest.raises(ValueError, match="CANCEL"):
        invitation(event(), Method.CANCEL, stamp=STAMP)
    with pytest.raises(ValueError, match="aware"):
        invitation(event(starts_at=datetime(2026, 11, 23, 10, 0)), Method.REQUEST, stamp=STAMP)


def test_lines_fold_at_75_octets_without_splitting_characters():
    long = "SUMMARY:" + "ज्योतिष परामर्श " * 12
    folded = fold(long)
    for piece in folded.split("\r\n"):
        assert len(piece.encode()) <= 75
    assert folded.replace("\r\n ", "") == long
    text = invitation(event(summary="ज्योतिष " * 20), Method.REQUEST, stamp=STAMP)
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")


def test_escaping_and_names_with_separators():
    assert escape_text("a\\b;c,d\ne") == "a\\\\b\\;c\\,d\\ne"
    text = unfold(invitation(event(organizer=Person("Sharma, Dr.: Vastu", "v@example.com")), Method.REQUEST,
                             stamp=STAMP))
    assert 'ORGANIZER;CN="Sharma, Dr.: Vastu":mailto:v@example.com' in text


def test_feed_lists_events_in_time_order_without_attendees():
    later = event(booking_id=uuid.uuid4(), starts_at=datetime(2026, 12, 1, 4, 0, tzinfo=UTC),
                  ends_at=datetime(2026, 12, 1, 5, 0, tzinfo=UTC), tentative=True)
    lines = unfold(feed("Acharya Demo", [later, event()], stamp=STAMP))
    assert lines[:5] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Muhurta//Bookings 1.0//EN",
                         "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    starts = [line for line in lines if line.startswith("DTSTART")]
    assert starts == ["DTSTART:20261123T043000Z", "DTSTART:20261201T040000Z"]
    assert "STATUS:TENTATIVE" in lines
    assert not any(line.startswith(("ATTENDEE", "ORGANIZER")) for line in lines)
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == 2
