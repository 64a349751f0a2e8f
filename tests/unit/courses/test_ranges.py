"""Range requests for lesson media: what is served for each `Range` header."""

from __future__ import annotations

import pytest

from domain.courses.ranges import ByteRange, Unsatisfiable, parse_range


@pytest.mark.parametrize(("header", "expected"), [
    (None, None),
    ("bytes=0-99", ByteRange(0, 99)),
    ("bytes=100-", ByteRange(100, 999)),
    ("bytes=-10", ByteRange(990, 999)),
    ("bytes=-5000", ByteRange(0, 999)),          # more than the file: all of it
    ("bytes=900-5000", ByteRange(900, 999)),     # clipped to the end
    ("bytes=0-0", ByteRange(0, 0)),
    ("bytes=5-2", None),                         # invalid: ignored, the whole file
    ("bytes=0-9,20-29", None),                   # several ranges: the whole file
    ("items=0-9", None),
])
def test_ranges(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=2000-3000", "bytes=-0"])
def test_unsatisfiable(header):
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_content_range():
    assert ByteRange(0, 99).content_range(1000) == "bytes 0-99/1000"
    assert ByteRange(0, 99).length == 100
