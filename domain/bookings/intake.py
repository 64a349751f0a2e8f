"""Intake forms: the fields an offering asks the client for when booking, and their checking. Pure.

For astrology the usual form is date, time and place of birth:

    [{"name": "birth_date", "label": "Date of birth", "type": "date", "required": true},
     {"name": "birth_time", "label": "Time of birth", "type": "time", "required": false},
     {"name": "birth_place", "label": "Place of birth", "type": "text", "required": true}]
"""

from __future__ import annotations

import enum
import re
from datetime import date, time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class FieldType(enum.StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    DATE = "date"
    TIME = "time"
    NUMBER = "number"
    CHOICE = "choice"


class IntakeField(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=200)
    type: FieldType = FieldType.TEXT
    required: bool = False
    choices: list[str] | None = Field(None, max_length=50)

    @model_validator(mode="after")
    def _choices(self) -> IntakeField:
        if (self.type == FieldType.CHOICE) != bool(self.choices):
            raise ValueError("a choice field needs choices, and only a choice field has them")
        return self


class IntakeError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


_MAX = {FieldType.TEXT: 500, FieldType.LONG_TEXT: 5000}


def check_intake(form: list[IntakeField], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers, normalised to strings/numbers as the form says; IntakeError names the field."""
    known = {f.name: f for f in form}
    for name in answers:
        if name not in known:
            raise IntakeError(name, "this offering does not ask for it")
    clean: dict[str, Any] = {}
    for spec in form:
        value = answers.get(spec.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if spec.required:
                raise IntakeError(spec.name, f"'{spec.label}' is required")
            continue
        clean[spec.name] = _one(spec, value)
    return clean


def _one(spec: IntakeField, value: Any) -> Any:
    if spec.type == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise IntakeError(spec.name, "give a number")
        return value
    if not isinstance(value, str):
        raise IntakeError(spec.name, "give text")
    value = value.strip()
    if spec.type in _MAX:
        if len(value) > _MAX[spec.type]:
            raise IntakeError(spec.name, f"use at most {_MAX[spec.type]} characters")
        return value
    if spec.type == FieldType.DATE:
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise IntakeError(spec.name, "give a date as YYYY-MM-DD") from exc
    if spec.type == FieldType.TIME:
        if not re.fullmatch(r"\d{2}:\d{2}(:\d{2})?", value):
            raise IntakeError(spec.name, "give a time as HH:MM")
        try:
            return time.fromisoformat(value).isoformat(timespec="minutes")
        except ValueError as exc:
            raise IntakeError(spec.name, "give a time as HH:MM") from exc
    if value not in (spec.choices or []):
        raise IntakeError(spec.name, f"choose one of: {', '.join(spec.choices or [])}")
    return value
