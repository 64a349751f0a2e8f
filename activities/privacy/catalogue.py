"""Where a client's personal data lives, read from the models themselves.

Nothing here lists tables by hand: a table names a client when a foreign key points at
`users.id` (level 1: bookings, orders, birth profiles, ...) or at a level-1 table (level 2:
an order's lines, invoices and payments; an enrolment's notes and certificate). A table added
later is exported and erased without a change here. `RULES` only says how a table is erased
when deleting its rows is not right (records the law or the business must keep).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Enum, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from models import Base


@dataclass(frozen=True)
class Link:
    """Rows of `table` whose `column` holds the client's id (parent None) or a parent row's id."""

    table: Table
    column: Column[Any]
    parent: Link | None = None

    @property
    def name(self) -> str:
        return self.table.name


class Erase(StrEnum):
    DELETE = "delete"        # the rows go
    SCRUB = "scrub"          # the rows stay; the columns in `SCRUBBED` are cleared
    KEEP = "keep"            # the rows stay as they are (ids, amounts, statuses: nothing personal)
    DETACH = "detach"        # the link column is set to NULL (who uploaded, who acted)


# How each table is erased when deleting is not right. Anything not here: rows linked through a
# foreign key declared ON DELETE SET NULL are detached, every other linked row is deleted.
# After the rules, the sweep (activities/privacy/erasure.py) replaces the client's email, phone
# and name wherever they are still written in the tenant's text.
RULES: dict[str, Erase] = {
    "users": Erase.SCRUB,
    "orders": Erase.SCRUB,          # GST: invoices and payments are kept for the retention period
    "order_lines": Erase.KEEP,
    "invoices": Erase.SCRUB,
    "payments": Erase.KEEP,
    "refunds": Erase.KEEP,
    "wallet_accounts": Erase.KEEP,  # store credit owed: money, not personal data
    "wallet_entries": Erase.KEEP,
    "coupon_redemptions": Erase.KEEP,
    "bookings": Erase.SCRUB,        # the consultant's calendar and revenue history stay, the content goes
    "enrollments": Erase.SCRUB,
    "enrollment_lessons": Erase.KEEP,
    "certificates": Erase.SCRUB,
    "consents": Erase.SCRUB,        # what was agreed, and when, is the evidence the law asks for
    "privacy_requests": Erase.KEEP,  # the record that an erasure happened
    "audit_events": Erase.SCRUB,
    "stored_files": Erase.DELETE,   # their bytes are deleted from the storage first
    "notification_deliveries": Erase.DELETE,
    "outbox_messages": Erase.DELETE,
    "memberships": Erase.SCRUB,     # what was paid for, and when, stays with its charges
    "membership_charges": Erase.KEEP,  # payments received (GST retention), like `payments`
}

# column -> value written by a SCRUB (None clears; a string replaces)
SCRUBBED: dict[str, dict[str, Any]] = {
    "orders": {"note": None, "review_reason": None},
    "invoices": {},  # `buyer` is rewritten in Python (the state and GSTIN stay for GST)
    "bookings": {"intake": {}, "summary": None, "private_notes_encrypted": None, "feedback_comment": None,
                 "cancel_reason": None, "meeting_url": None},
    "enrollments": {},
    "certificates": {},  # client_name is swept, and the certificate revoked
    "consents": {"ip": None, "user_agent": None},
    "audit_events": {"ip": None},
    "memberships": {"end_reason": None, "short_url": None},  # may quote the client; the mandate's link
}

# Never exported: secrets and hashes that mean nothing to the client and must not leave.
SECRET_COLUMN_MARKERS = ("password", "_hash", "encrypted", "totp", "token")


def is_secret(column: Column[Any]) -> bool:
    return any(marker in column.name for marker in SECRET_COLUMN_MARKERS)


def _user_links() -> list[Link]:
    users = Base.metadata.tables["users"]
    links: list[Link] = []
    for table in Base.metadata.sorted_tables:
        if table is users:
            continue
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            if fk.column.table is users:
                links.append(Link(table, fk.parent))
    return links


def _child_links(parents: list[Link]) -> list[Link]:
    """Tables whose foreign key points at the primary key of a level-1 table."""
    by_table = {link.table: link for link in parents}
    level1 = set(by_table)
    links: list[Link] = []
    for table in Base.metadata.sorted_tables:
        if table in level1 or table.name in ("users", "tenants"):
            continue
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            parent_table = fk.column.table
            if parent_table in level1 and fk.column.primary_key:
                links.append(Link(table, fk.parent, by_table[parent_table]))
    return links


def client_links() -> list[Link]:
    """Every (table, column) path by which a row belongs to a client, level 1 then level 2.

    A table linked to users by two columns (a report's client and who uploaded it) appears once
    per column. Level-2 links use the first level-1 link of their parent table that names a
    client (`client_id` or `user_id` preferred over `created_by`-like columns).
    """
    level1 = _user_links()
    preferred: dict[Table, Link] = {}
    for link in level1:
        current = preferred.get(link.table)
        if current is None or (link.column.name in ("client_id", "user_id")
                               and current.column.name not in ("client_id", "user_id")):
            preferred[link.table] = link
    return level1 + _child_links(list(preferred.values()))


def text_columns(table: Table) -> list[Column[Any]]:
    """Columns that may hold a person's name, email or phone written out (for the sweep)."""
    return [c for c in table.columns
            if isinstance(c.type, String | Text) and not isinstance(c.type, Enum) and not is_secret(c)]


def json_columns(table: Table) -> list[Column[Any]]:
    return [c for c in table.columns if isinstance(c.type, JSON | JSONB)]


def rule_for(link: Link) -> Erase:
    rule = RULES.get(link.name)
    if rule is not None:
        return rule
    fk = next(iter(link.column.foreign_keys), None)
    if fk is not None and (fk.ondelete or "").upper() == "SET NULL":
        return Erase.DETACH
    return Erase.DELETE
