"""Building pydantic models from values the engine has already computed and checked.

``BaseModel.model_construct`` skips validation but is itself slow (~2 µs per object in
pydantic 2.14 — slower than validating); a chart holds about 115 models, mostly dasha periods.
``construct`` sets the same four instance attributes that ``model_construct`` sets, directly.
It is only for frozen models and complete value dicts; tests check that every model built this
way equals the one pydantic validates from its dump.
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_new = object.__new__
_set = object.__setattr__


@cache
def field_names(cls: type[BaseModel]) -> set[str]:
    # shared by all instances of cls: frozen models never mutate it, model_copy copies it
    return set(cls.model_fields)


def construct(cls: type[M], values: dict[str, Any]) -> M:
    """An instance of ``cls`` holding ``values`` (every field, already valid) as is."""
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", field_names(cls))
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj
