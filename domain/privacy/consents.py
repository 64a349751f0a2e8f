"""Consents: the kinds a client decides on, and what the latest decision per kind means."""

from __future__ import annotations

import enum


class ConsentKind(enum.StrEnum):
    TERMS = "terms"          # the consultancy's terms of service
    PRIVACY = "privacy"      # its privacy notice
    MARKETING = "marketing"  # announcements, offers and nudges by email or SMS
    WHATSAPP = "whatsapp"    # messages on WhatsApp at all (Meta's opt-in rule)


class ConsentSource(enum.StrEnum):
    CLIENT = "client"  # the client, signed in
    STAFF = "staff"    # recorded by the consultancy (a paper form, a phone call), audited
