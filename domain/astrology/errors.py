"""Domain errors of the astrology and numerology engine.

Every error carries a stable machine ``code``, a human ``message``, the input ``field`` at fault
(dotted path, or ``None``) and JSON-ready ``details``. The API layer maps them to 422
problem+json; nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any, ClassVar, TypeVar

E = TypeVar("E", bound=Enum)


class EngineInputError(ValueError):
    """Base class: the input cannot be turned into a chart or a number."""

    code: ClassVar[str] = "invalid_input"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: dict[str, Any] = dict(details or {})

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (code, message, field and the details)."""
        return {"code": self.code, "message": self.message, "field": self.field, **self.details}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, field={self.field!r}, {self.message!r})"


class InvalidCoordinatesError(EngineInputError):
    code = "coordinates_out_of_range"


class DateOutOfRangeError(EngineInputError):
    code = "date_out_of_range"


class UnknownTimezoneError(EngineInputError):
    code = "unknown_timezone"


class TimezoneNotFoundError(EngineInputError):
    """No IANA zone could be found for the coordinates."""

    code = "timezone_not_found"


class InvalidUtcOffsetError(EngineInputError):
    code = "invalid_utc_offset"


class ConflictingOptionsError(EngineInputError):
    code = "conflicting_options"


class PlaceRequiredError(EngineInputError):
    code = "place_required"


class NonexistentLocalTimeError(EngineInputError):
    """The wall-clock time was skipped by a clock change (spring forward)."""

    code = "nonexistent_local_time"


class AmbiguousLocalTimeError(EngineInputError):
    """The wall-clock time happened twice (fall back); the caller must say which."""

    code = "ambiguous_local_time"


class UnknownPlaceError(EngineInputError):
    code = "unknown_place"


class AmbiguousPlaceError(EngineInputError):
    """Several places match; ``details['candidates']`` lists them."""

    code = "ambiguous_place"


class DashaOutOfRangeError(EngineInputError):
    """The instant lies before birth or after the 120-year Vimshottari cycle."""

    code = "dasha_out_of_range"


class InvalidSettingError(EngineInputError):
    code = "invalid_setting"


class InvalidNameError(EngineInputError):
    """A name has no letter that the chosen numerology table can value."""

    code = "invalid_name"


def coerce_enum(cls: type[E], value: object, field: str) -> E:
    """``cls(value)``, or an ``InvalidSettingError`` naming the allowed values."""
    try:
        return cls(value)
    except ValueError:
        allowed = [str(m.value) for m in cls]
        raise InvalidSettingError(
            f"{value!r} is not one of {', '.join(allowed)}.",
            field=field,
            details={"allowed": allowed},
        ) from None
