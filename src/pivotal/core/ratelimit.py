"""Per-key rate limits (SPEC §6): a 60-second moving window through the ``limits`` library.

Storage is chosen once per process: Redis when ``PIVOTAL_REDIS_URL`` is set, otherwise
the database, so every process sharing it shares each key's budget; memory only when
``PIVOTAL_RATE_LIMIT_STORAGE=memory`` says this process is alone. One algorithm
throughout: ``MovingWindowRateLimiter``.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, MovingWindowSupport, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from pivotal.core import clock
from pivotal.core.errors import RateLimited
from pivotal.db import tables
from pivotal.db.engine import Database

WINDOW_SECONDS = 60
_hits = tables.rate_limit_hits


class DatabaseStorage(Storage, MovingWindowSupport):
    """A moving-window storage in our own database: one row per accepted request.

    Each acquisition runs in one write transaction that first takes a per-bucket lock
    (an advisory lock on PostgreSQL; SQLite runs one writer at a time anyway), so
    concurrent processes cannot both take the last slot.
    """

    STORAGE_SCHEME = None

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = clock.now_us()
        window_start = now - expiry * clock.MICROS_PER_SECOND
        with self.db.transaction(write=True) as conn:
            if not self.db.is_sqlite:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_id(key)})
            conn.execute(delete(_hits).where(_hits.c.bucket == key, _hits.c.at_us <= window_start))
            used = conn.execute(
                select(func.count()).select_from(_hits).where(_hits.c.bucket == key)
            ).scalar_one()
            if used + amount > limit:
                return False
            conn.execute(insert(_hits), [{"bucket": key, "at_us": now}] * amount)
        return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = clock.now_us()
        window_start = now - expiry * clock.MICROS_PER_SECOND
        with self.db.transaction(write=False) as conn:
            oldest, used = conn.execute(
                select(func.min(_hits.c.at_us), func.count()).where(
                    _hits.c.bucket == key, _hits.c.at_us > window_start
                )
            ).one()
        if not used:
            return now / clock.MICROS_PER_SECOND, 0
        return oldest / clock.MICROS_PER_SECOND, int(used)

    # The counter half of the Storage interface, kept consistent with the window above.
    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = clock.now_us()
        with self.db.transaction(write=True) as conn:
            conn.execute(insert(_hits), [{"bucket": key, "at_us": now}] * amount)
            window_start = now - expiry * clock.MICROS_PER_SECOND
            return int(
                conn.execute(
                    select(func.count()).where(_hits.c.bucket == key, _hits.c.at_us > window_start)
                ).scalar_one()
            )

    def get(self, key: str) -> int:
        return self.get_moving_window(key, 0, WINDOW_SECONDS)[1]

    def get_expiry(self, key: str) -> float:
        start, _ = self.get_moving_window(key, 0, WINDOW_SECONDS)
        return start + WINDOW_SECONDS

    def check(self) -> bool:
        try:
            with self.db.transaction(write=False) as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.db.transaction(write=True) as conn:
            return conn.execute(delete(_hits)).rowcount

    def clear(self, key: str) -> None:
        with self.db.transaction(write=True) as conn:
            conn.execute(delete(_hits).where(_hits.c.bucket == key))


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def prune_database_hits(db: Database) -> None:
    """Drop rows no window can see any more (buckets of keys that went quiet)."""
    horizon = clock.now_us() - 2 * WINDOW_SECONDS * clock.MICROS_PER_SECOND
    with db.transaction(write=True) as conn:
        conn.execute(delete(_hits).where(_hits.c.at_us < horizon))


def make_storage(choice: str, db: Database, redis_url: str | None) -> Any:
    """The storage for ``choice`` (auto, memory, database, redis)."""
    if choice == "auto":
        # Memory only when asked for: a server cannot know whether another process
        # (a second `serve`, granian workers) shares its database.
        choice = "redis" if redis_url else "database"
    if choice == "redis":
        if not redis_url:
            raise ValueError("PIVOTAL_RATE_LIMIT_STORAGE=redis needs PIVOTAL_REDIS_URL")
        # Wrapped so that an unreachable Redis surfaces as one StorageError (a 503).
        return storage_from_string(redis_url, wrap_exceptions=True)
    if choice == "memory":
        return MemoryStorage()
    if choice == "database":
        return DatabaseStorage(db)
    raise ValueError(f"unknown rate limit storage {choice!r}")


@dataclass(frozen=True)
class Quota:
    """Where a key stands after a request: what the X-RateLimit-* headers say."""

    limit: int
    remaining: int
    reset: int  # Unix seconds when a slot frees

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }


class RateLimiter:
    def __init__(self, storage: Any) -> None:
        self.storage = storage
        self.strategy = MovingWindowRateLimiter(storage)

    def hit(self, key_id: str, per_minute: int) -> Quota:
        """Count one request for the key, or raise the 429 with its headers."""
        item = RateLimitItemPerMinute(per_minute)
        allowed = self.strategy.hit(item, "key", key_id)
        stats = self.strategy.get_window_stats(item, "key", key_id)
        now = time.time()
        reset = max(math.ceil(stats.reset_time), math.ceil(now))
        quota = Quota(limit=per_minute, remaining=max(0, stats.remaining), reset=reset)
        if not allowed:
            retry_after = max(1, math.ceil(stats.reset_time - now))
            raise RateLimited(
                "rate_limited",
                f"Rate limit exceeded. Retry after {retry_after} seconds.",
                headers={**quota.headers(), "Retry-After": str(retry_after)},
            )
        return quota
