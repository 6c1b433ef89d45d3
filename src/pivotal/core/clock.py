"""Time as integer microseconds since the Unix epoch (UTC), and its ISO 8601 form.

Storing microseconds as BIGINT keeps ordering, cursors and tie-breaking identical on
SQLite and PostgreSQL, and formatting is cheaper than going through datetime objects.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROS_PER_SECOND = 1_000_000


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
    return from_us(micros).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_datetime(text: str) -> int:
    """Parse an ISO 8601 date-time (any offset, naive = UTC) to microseconds.

    Raises ValueError when the text is not such a date-time.
    """
    if len(text) < 10 or len(text) > 64 or not text[:4].isdigit() or "T" not in text.upper():
        raise ValueError("not an ISO 8601 date-time")
    return to_us(datetime.fromisoformat(text))


def parse_date(text: str) -> date:
    """Parse a strict ``YYYY-MM-DD`` calendar date. Raises ValueError otherwise."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        raise ValueError("not a YYYY-MM-DD date")
    return date.fromisoformat(text)


def date_to_us(value: date) -> int:
    return to_us(datetime(value.year, value.month, value.day, tzinfo=UTC))
