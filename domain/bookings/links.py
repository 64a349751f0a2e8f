"""Signed links of bookings: purposes, lifetimes and paths (the tokens are made by core.signing)."""

from __future__ import annotations

from datetime import timedelta

MANAGE = "booking"        # view, reschedule or cancel a booking without an account
FEEDBACK = "feedback"     # rate a completed session
CALENDAR = "calendar"     # a consultant's iCalendar feed (no expiry; rotating it revokes the old one)

VALID_AFTER_END = {MANAGE: timedelta(days=7), FEEDBACK: timedelta(days=60)}


def manage_path(token: str) -> str:
    return f"/api/v1/booking-links/{token}"


def checkout_path(token: str) -> str:
    """Where a client without an account pays their held booking (POST; the manage link's token)."""
    return f"/api/v1/booking-links/{token}/checkout"


def feedback_path(token: str) -> str:
    return f"/api/v1/booking-links/{token}/feedback"


def calendar_path(token: str) -> str:
    return f"/api/v1/calendar-feeds/{token}"
