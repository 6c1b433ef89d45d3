"""Time as integer microseconds since the Unix epoch (UTC), and its ISO 8601 form.

Storing microseconds as BIGINT keeps ordering, cursors and tie-breaking identical on
SQLite and PostgreSQL, and formatting is cheaper than going through datetime objects.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS_PER_SECOND = 1_000_000


_DATETIME_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}(:\d{2}([.,]\d{1,6})?)?([Zz]|[+-]\d{2}(:?\d{2})?)?",
    re.ASCII,
)


def now_us() -> int:
    """The current time in microseconds."""
    return time.time_ns() // 1000


def to_us(value: datetime) -> int:
    """Microseconds for an aware datetime (naive ones are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    delta = value - EPOCH
    return (delta.days * 86_400 + delta.seconds) * MICROS_PER_SECOND + delta.microseconds


def from_us(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def iso(micros: int | None) -> str | None:
    """``2026-05-26T17:21:09.412345Z`` for a stored timestamp, None stays None."""
    if micros is None:
        return None
    seconds, fraction = divmod(micros, MICROS_PER_SECOND)
    return f"{_iso_second(seconds)}.{fraction:06d}Z"


@lru_cache(maxsize=4096)
def _iso_second(seconds: int) -> str:
    # A page of rows written close together shares its seconds: format those once.
    # Not strftime: its %Y does not zero-pad years before 1000 on every platform. One
    # %-format over gmtime's tuple is the quickest of the spellings (a page has 200).
    return "%04d-%02d-%02dT%02d:%02d:%02d" % time.gmtime(seconds)[:6]  # noqa: UP031


def parse_datetime(text: str) -> int:
    """Parse an ISO 8601 date-time (any offset, naive = UTC) to microseconds.

    Raises ValueError when the text is not such a date-time.
    """
    # datetime.fromisoformat alone is too lenient (3.11 skips a stray character before
    # the offset), so the shape is checked first.
    if not _DATETIME_SHAPE.fullmatch(text):
        raise ValueError("not an ISO 8601 date-time")
    micros = to_us(datetime.fromisoformat(text))
    if not MIN_US <= micros <= MAX_US:
        # An offset can push year 1 or 9999 out of what a UTC timestamp can show.
        raise ValueError("outside the years 0001-9999 in UTC")
    return micros


MIN_US = to_us(datetime(1, 1, 1, tzinfo=UTC))
MAX_US = to_us(datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC))


def parse_date(text: str) -> date:
    """Parse a strict ``YYYY-MM-DD`` calendar date. Raises ValueError otherwise."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError("not a YYYY-MM-DD date")
    return date.fromisoformat(text)


def date_to_us(value: date) -> int:
    return to_us(datetime(value.year, value.month, value.day, tzinfo=UTC))
