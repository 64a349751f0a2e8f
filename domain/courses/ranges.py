"""HTTP range requests (RFC 9110 §14) for lesson video and audio, so players can seek.

One range per request is served (`bytes=0-1023`, `bytes=1024-`, `bytes=-500`); a header we do
not understand, or several ranges, is ignored and the whole file is sent (the RFC allows it).
A range that starts past the end is unsatisfiable (416).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int   # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


class Unsatisfiable(ValueError):
    """The range lies wholly outside the file."""


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, clipped to the file; None for the whole file; Unsatisfiable."""
    if not header:
        return None
    found = _RANGE.match(header)
    if found is None:
        return None  # several ranges or another unit: send it all
    first, last = found.group(1), found.group(2)
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable(header)
        return ByteRange(max(size - suffix, 0), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None  # invalid: ignore it
    if start >= size:
        raise Unsatisfiable(header)
    return ByteRange(start, min(end, size - 1))
