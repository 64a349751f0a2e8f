"""Reading everything the product holds about one client, table by table (catalogue.client_links)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import enum
import uuid
from collections import defaultdict
from typing import Any

from psycopg.types.range import Range
from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from activities.privacy.catalogue import Link, client_links, is_secret
from models import Base
from models.identity import User


def jsonable(value: Any) -> Any:
    """A column value as JSON can carry it (ids and instants as strings, money stays an integer)."""
    if isinstance(value, uuid.UUID | dt.datetime | dt.date | dt.time | decimal.Decimal):
        return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Range):  # a booking's blocked time
        return {"lower": jsonable(value.lower), "upper": jsonable(value.upper), "bounds": value.bounds}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)  # a type added later still exports, as text


def _public_row(table: Table, row: Any) -> dict[str, Any]:
    return {c.name: jsonable(row._mapping[c]) for c in table.columns if not is_secret(c)}


def _key(table: Table, row: Any) -> tuple[Any, ...]:
    return tuple(row._mapping[c] for c in table.primary_key.columns)


async def addresses_of(session: AsyncSession, client_id: uuid.UUID) -> list[str]:
    """The email and phone the client is written to by: messages may name them without a user id."""
    user = await session.get(User, client_id)
    if user is None:
        return []
    return [a for a in (user.email, user.phone) if a]


async def gather(session: AsyncSession, client_id: uuid.UUID) -> dict[str, list[dict[str, Any]]]:
    """Every row naming the client, per table; level-1 links first, then their children."""
    ids: dict[Link, set[Any]] = {}
    found: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = defaultdict(dict)
    users = Base.metadata.tables["users"]
    me = (await session.execute(select(users).where(users.c.id == client_id))).first()
    if me is not None:
        found["users"][_key(users, me)] = _public_row(users, me)
    addresses = await addresses_of(session, client_id)
    for link in client_links():
        if link.parent is None:
            wanted: set[Any] = {client_id}
        else:
            parent_rows = ids.get(link.parent, set())
            if not parent_rows:
                continue
            wanted = parent_rows
        condition: Any = link.column.in_(wanted)
        if link.parent is None and addresses and "recipient" in link.table.c:
            condition = or_(condition, link.table.c.recipient.in_(addresses))
        rows = (await session.execute(select(link.table).where(condition))).all()
        pk = list(link.table.primary_key.columns)
        ids[link] = {r._mapping[pk[0]] for r in rows} if len(pk) == 1 else set()
        for row in rows:
            found[link.name][_key(link.table, row)] = _public_row(link.table, row)
    return {name: list(rows.values()) for name, rows in sorted(found.items()) if rows}
