"""Cursor pagination and sorting, written once for every list endpoint.

`?limit=20&sort=-created_at&cursor=...`: the cursor is opaque (base64 of the last row's sort
key and id), stable under inserts, and tied to the sort it was made with.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from api.problems import VALIDATION, Problem

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None
    sort: str | None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=100, description="items per page")] = 20,
    cursor: Annotated[str | None, Query(max_length=500, description="next_cursor of the previous page")] = None,
    sort: Annotated[str | None, Query(max_length=50, description="field, '-' prefix for descending")] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor, sort=sort)


Paging = Annotated[PageParams, Depends(page_params)]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"t": "dt", "v": value.isoformat()}
    if isinstance(value, UUID):
        return {"t": "uuid", "v": str(value)}
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        return datetime.fromisoformat(value["v"]) if value["t"] == "dt" else UUID(value["v"])
    return value


async def paginate(
    session: AsyncSession,
    stmt: Select[Any],
    params: PageParams,
    *,
    sortable: dict[str, InstrumentedAttribute[Any]],
    default_sort: str,
    id_column: InstrumentedAttribute[Any],
) -> tuple[list[Any], str | None]:
    """Apply sort, cursor and limit to `stmt` (selecting one entity); return rows and next cursor."""
    sort = params.sort or default_sort
    name = sort.lstrip("-")
    if name not in sortable:
        raise Problem(VALIDATION, f"sort by one of: {', '.join(sorted(sortable))}", field="sort")
    column, descending = sortable[name], sort.startswith("-")

    if params.cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(params.cursor.encode()))
            if data["s"] != sort:
                raise ValueError("cursor made for another sort")
            last_value, last_id = _decode(data["v"]), _decode(data["id"])
        except (ValueError, KeyError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
            raise Problem(VALIDATION, "the cursor is not valid for this list and sort", field="cursor") from exc
        if descending:
            stmt = stmt.where(or_(column < last_value, and_(column == last_value, id_column < last_id)))
        else:
            stmt = stmt.where(or_(column > last_value, and_(column == last_value, id_column > last_id)))

    order = (column.desc(), id_column.desc()) if descending else (column.asc(), id_column.asc())
    rows = list((await session.execute(stmt.order_by(*order).limit(params.limit + 1))).scalars())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        last = rows[-1]
        payload = {"s": sort, "v": _encode(getattr(last, column.key)), "id": _encode(getattr(last, id_column.key))}
        next_cursor = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()
    return rows, next_cursor
