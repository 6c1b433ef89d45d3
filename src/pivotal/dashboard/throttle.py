"""Slowing down password guessing: failed sign-ins counted per email and per client
address in the database, so every server process sees the same counts.

Past the limit, sign-in is refused for that email (or address) until the oldest counted
failure leaves the window, without checking the password, so a locked account gives no
answer to guesses. The check and the count are separate transactions (the password
check between them takes ~0.2 s and must not hold the write lock), so a burst of
parallel guesses can overshoot the limit by the number of requests in flight.
"""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import Connection, delete, insert, select

from pivotal.core import clock
from pivotal.db import tables

WINDOW_US = 15 * 60 * clock.MICROS_PER_SECOND
MAX_FAILURES_PER_EMAIL = 5
MAX_FAILURES_PER_ADDRESS = 20

attempts = tables.sign_in_attempts


def email_bucket(secret: bytes, email: str) -> str:
    # Hashed: the table should not collect every address anyone ever typed.
    return "email:" + hmac.new(secret, email.encode(), hashlib.sha256).hexdigest()


def address_bucket(address: str) -> str:
    return "ip:" + address[:100]


def _retry_after(conn: Connection, bucket: str, limit: int, now: int) -> int:
    """Seconds until ``bucket`` may try again (0: it may now)."""
    recent: list[int] = list(
        conn.execute(
            select(attempts.c.at_us)
            .where(attempts.c.bucket == bucket, attempts.c.at_us > now - WINDOW_US)
            .order_by(attempts.c.at_us.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
    if len(recent) < limit:
        return 0
    frees_at = recent[-1] + WINDOW_US
    return max(1, -(-(frees_at - now) // clock.MICROS_PER_SECOND))


def retry_after(conn: Connection, buckets: dict[str, int], now: int) -> int:
    """The longest wait among ``{bucket: limit}``; 0 when none is over its limit."""
    return max(
        (_retry_after(conn, bucket, limit, now) for bucket, limit in buckets.items()), default=0
    )


def record_failure(conn: Connection, buckets: list[str], now: int) -> None:
    conn.execute(insert(attempts), [{"bucket": bucket, "at_us": now} for bucket in buckets])
    # Rows past the window never count again; drop them while writing anyway.
    conn.execute(delete(attempts).where(attempts.c.at_us <= now - WINDOW_US))


def forget(conn: Connection, bucket: str) -> None:
    """A successful sign-in clears that email's failures (not the address's)."""
    conn.execute(delete(attempts).where(attempts.c.bucket == bucket))
