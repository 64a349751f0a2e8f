"""Checks every request makes before its route: text with a NUL character is refused.

PostgreSQL cannot store U+0000 in text (asyncpg raises, the request was a 500), and no person
types one: it is a probe or a broken client. A path parameter, a query parameter, a JSON body
or a form field holding one is a 422 naming that field, before anything is read or written.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile

from api.problems import VALIDATION, Problem

NUL = "\x00"


def _nul_in_json(value: Any, where: list[str]) -> list[str] | None:
    if isinstance(value, str):
        return where if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return [*where, key.replace(NUL, "\\u0000")]
            if (found := _nul_in_json(item, [*where, key])) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := _nul_in_json(item, [*where, str(index)])) is not None:
                return found
    return None


def _refuse(field: str) -> Problem:
    message = "must not contain a NUL character (U+0000)"
    return Problem(VALIDATION, f"{field}: {message}", field=field,
                   extra={"errors": [{"field": field, "message": message, "code": "nul_character"}]})


async def refuse_nul_characters(request: Request) -> None:
    """A FastAPI dependency of every route (see api/app.py), run after FastAPI has read the body
    and form the route declares (Starlette keeps them on the request as `_body` and `_form`)."""
    for name, value in request.path_params.items():
        if NUL in str(value):
            raise _refuse(name)
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise _refuse(name.replace(NUL, "\\u0000"))
    # A body the route takes is read (and kept on the request) by FastAPI before this runs; one
    # the route reads raw itself (webhooks, after checking its size) is left to the route.
    body = getattr(request, "_body", None)
    if request.headers.get("content-type", "").startswith("application/json") and body is not None:
        if b"\\u0000" not in body:
            return
        try:
            document = json.loads(body)
        except ValueError:
            return  # the route answers malformed-json
        if (found := _nul_in_json(document, [])) is not None:
            raise _refuse(".".join(found) or "body")
        return
    form = getattr(request, "_form", None)
    for name, value in form.multi_items() if form is not None else ():
        if not isinstance(value, UploadFile) and (NUL in name or NUL in value):
            raise _refuse(name.replace(NUL, "\\u0000"))
