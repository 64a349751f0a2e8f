"""Applying a PATCH body to a row: a null for a column the database requires is a 422.

A PATCH schema's fields are optional (`X | None = None`): left out means "keep". An explicit
`null` for a column that is NOT NULL used to reach PostgreSQL (a 500 NotNullViolation). The
row's own mapping says which columns may be null, so this cannot drift from the database.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from api.problems import VALIDATION, Problem


def required_nulls(model: type[Any], changes: dict[str, Any]) -> list[str]:
    """The fields of `changes` that are null although `model`'s column for them is NOT NULL."""
    columns = inspect(model).columns
    return [name for name, value in changes.items()
            if value is None and name in columns and not columns[name].nullable]


def refuse_required_nulls(model: type[Any], changes: dict[str, Any]) -> None:
    if nulls := required_nulls(model, changes):
        message = "may not be null: leave it out to keep the current value"
        raise Problem(VALIDATION, f"{nulls[0]}: {message}", field=nulls[0],
                      extra={"errors": [{"field": n, "message": message, "code": "null_not_allowed"} for n in nulls]})


def apply_changes(row: Any, changes: dict[str, Any]) -> None:
    """Set each change on `row`, after refusing nulls for required columns (nothing is set then)."""
    refuse_required_nulls(type(row), changes)
    for name, value in changes.items():
        setattr(row, name, value)
