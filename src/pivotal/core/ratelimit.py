"""Per-key rate limits (SPEC §6): a 60-second sliding window counted in one-second slots.

A bucket keeps one counter per Unix second; a request is admitted while the slots of the
last 60 seconds hold fewer hits than the key's limit, and then adds one to the current
slot. Counting slots rather than single hits keeps every decision at most 60 additions,
however high a key's limit, and one step (a Lua script on Redis, one short transaction
in the database, a lock in memory) both decides and reports the window, so the headers
describe exactly the state the decision saw.

The store is chosen once per process: Redis when ``PIVOTAL_REDIS_URL`` is set, otherwise
the database, so every process sharing it shares each key's budget; memory only when
``PIVOTAL_RATE_LIMIT_STORAGE=memory`` says this process is alone. With the database, a
key with room to spare takes several hits per decision and spends them itself within
that second (``Leases``).
"""

from __future__ import annotations

import logging
import math
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import redis
from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from pivotal.core.errors import RateLimited, ServiceUnavailable
from pivotal.db.engine import Database

WINDOW_SECONDS = 60
log = logging.getLogger("pivotal.ratelimit")


@dataclass(frozen=True)
class Window:
    """A bucket's window as one decision left it."""

    allowed: bool
    used: int  # hits inside the window, this one included when allowed
    oldest: int  # the oldest second still holding a hit: its slot frees at oldest + 60


@dataclass(frozen=True)
class Grant:
    """A database decision that may cover several hits."""

    granted: int  # hits granted (0: refused)
    used: int  # hits inside the window, the whole grant included
    oldest: int

    def window(self) -> Window:
        """The window as the request that asked sees it: the first hit is its own, the
        rest are not spent yet."""
        unspent = max(self.granted - 1, 0)
        return Window(self.granted > 0, self.used - unspent, self.oldest)


Unspent = tuple[int, int]  # (second, hits) of a grant not spent, to give back


class WindowStore(Protocol):
    def hit(self, bucket: str, limit: int, now: int) -> Window:
        """Admit one hit at Unix second ``now`` if the window has room; count only admitted hits."""

    def check(self) -> bool:
        """Whether the store answers (deep health)."""

    def prune(self, now: int) -> None:
        """Forget slots no window can see any more."""


class MemoryStore:
    """This process only: for a single server that shares its database with nobody."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, limit: int, now: int) -> Window:
        with self._lock:
            slots = self._buckets.setdefault(bucket, {})
            for second in [s for s in slots if s <= now - WINDOW_SECONDS]:
                del slots[second]
            used = sum(slots.values())
            allowed = used < limit
            if allowed:
                slots[now] = slots.get(now, 0) + 1
                used += 1
            return Window(allowed, used, min(slots, default=now))

    def check(self) -> bool:
        return True

    def prune(self, now: int) -> None:
        with self._lock:
            for bucket, slots in list(self._buckets.items()):
                if all(second <= now - WINDOW_SECONDS for second in slots):
                    del self._buckets[bucket]


def postgres_lock_id(bucket_sql: str) -> str:
    """SQL for a bucket's advisory lock key: the first 8 bytes of sha256(bucket), signed.

    ``bucket_sql`` is SQL (a bind parameter or a column), never a value. Computed by the
    server, so every statement that takes a bucket's lock takes the same one.
    """
    digest = f"encode(sha256(convert_to({bucket_sql}, 'UTF8')), 'hex')"
    return f"('x' || left({digest}, 16))::bit(64)::bigint"


_TAKE_POSTGRES = text(
    "SELECT granted, used, oldest FROM pivotal_rate_limit_take("
    f":bucket, :limit, :now, :window, {postgres_lock_id(':bucket')},"
    " :want, :share, :back_second, :back_hits)"
)
# Unspent hits out of their slot, never below 0, in SQL both engines read: in SQLite's
# decision (run through sqlite3, where named parameters are native), and on PostgreSQL
# outside one (Leases.keep's hits a newer lease left unspendable), where it only ever
# lowers one older slot, so the row's own lock is enough.
_GIVE_BACK_SQL = (
    "UPDATE rate_limit_slots SET hits = CASE WHEN hits > :hits THEN hits - :hits ELSE 0 END"
    " WHERE bucket = :bucket AND second = :second"
)
_GIVE_BACK = text(_GIVE_BACK_SQL)
# The rest of SQLite's decision, through sqlite3 too.
_WINDOW_SQL = (
    "SELECT COALESCE(SUM(hits), 0), MIN(CASE WHEN hits > 0 THEN second END)"
    " FROM rate_limit_slots WHERE bucket = :bucket AND second > :start"
)
_ADD_SQL = (
    "INSERT INTO rate_limit_slots (bucket, second, hits) VALUES (:bucket, :second, :hits)"
    " ON CONFLICT (bucket, second) DO UPDATE SET hits = rate_limit_slots.hits + :hits"
)
_PRUNE = text("DELETE FROM rate_limit_slots WHERE second <= :start")


def take_parameters(want: int, back: Unspent | None, share: int) -> dict[str, int]:
    """The want, share and give-back parameters of ``pivotal_rate_limit_take`` (migration
    0009)."""
    back_second, back_hits = back or (0, 0)
    return {"want": want, "share": share, "back_second": back_second, "back_hits": back_hits}


def grantable(want: int, room: int, share: int) -> int:
    """Hits a decision grants: up to ``want``, at most 1/``share`` of the ``room`` left
    (but one hit whenever there is room), never beyond the room."""
    return min(want, max(room // share, 1), room)


class DatabaseStore:
    """Slots in our own database, shared by every process that uses it.

    Each decision holds a per-bucket lock, so two processes can never both take the
    last hit of a window: on PostgreSQL an advisory lock inside one function call (the
    migration's ``pivotal_rate_limit_take``, one round trip), on SQLite the one writer.
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def hit(self, bucket: str, limit: int, now: int) -> Window:
        return self.take(bucket, limit, now).window()

    def take(
        self,
        bucket: str,
        limit: int,
        now: int,
        want: int = 1,
        back: Unspent | None = None,
        share: int = 1,
    ) -> Grant:
        """Give back ``back``, then grant hits at second ``now`` (see ``grantable``)."""
        if not self.db.is_sqlite:
            with self.db.autocommit() as conn:
                granted, used, oldest = conn.execute(
                    _TAKE_POSTGRES,
                    {
                        "bucket": bucket,
                        "limit": limit,
                        "now": now,
                        "window": WINDOW_SECONDS,
                        **take_parameters(want, back, share),
                    },
                ).one()
            return Grant(int(granted), int(used), int(oldest))
        with self.db.connect() as conn, self.db.sqlite_driver_write(conn) as driver:
            return self.take_sqlite(driver, bucket, limit, now, want, back, share)

    @staticmethod
    def take_sqlite(
        conn: sqlite3.Connection,
        bucket: str,
        limit: int,
        now: int,
        want: int = 1,
        back: Unspent | None = None,
        share: int = 1,
    ) -> Grant:
        """``take`` inside the caller's SQLite write transaction (the one writer is the
        lock)."""
        if back is not None:
            DatabaseStore.give_back_sqlite(conn, bucket, back)
        start = now - WINDOW_SECONDS
        used, oldest = conn.execute(_WINDOW_SQL, {"bucket": bucket, "start": start}).fetchone()
        oldest = now if oldest is None else int(oldest)
        granted = grantable(want, limit - used, share)
        if granted <= 0:
            return Grant(0, int(used), oldest)
        conn.execute(_ADD_SQL, {"bucket": bucket, "second": now, "hits": granted})
        return Grant(granted, int(used) + granted, oldest)

    @staticmethod
    def give_back_sqlite(conn: sqlite3.Connection, bucket: str, back: Unspent) -> None:
        """Unspent hits out of their slot, inside the caller's SQLite write transaction."""
        conn.execute(_GIVE_BACK_SQL, {"bucket": bucket, "second": back[0], "hits": back[1]})

    @staticmethod
    def give_back_postgres(conn: Connection, bucket: str, back: Unspent) -> None:
        """Unspent hits out of their slot, on an autocommit PostgreSQL connection."""
        conn.execute(_GIVE_BACK, {"bucket": bucket, "second": back[0], "hits": back[1]})

    def check(self) -> bool:
        try:
            with self.db.transaction(write=False) as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def prune(self, now: int) -> None:
        with self.db.transaction(write=True) as conn:
            conn.execute(_PRUNE, {"start": now - WINDOW_SECONDS})


@dataclass
class _Lease:
    limit: int  # the key's limit at that decision
    second: int  # hits are spent in the second they were granted, never later
    unspent: int
    used: int  # the window's hits at the decision, every unspent one included
    oldest: int


class Leases:
    """Hits of a key's shared window taken by this process ahead of use.

    Taking hits one at a time costs every request a locked read-modify-write of the
    key's slot in the database (about 90 us of PostgreSQL CPU here). A key with room to
    spare is granted up to ``MOST`` hits in one decision, never more than 1/``SHARE`` of
    the room it has left then (the database decides, under its lock), and this process
    spends them during that same second, so each hit still sits in the second it was
    used. Unspent hits are given back with the key's next decision, or at once when a
    slow request's grant can no longer be spent (``keep``).

    The limit always holds: every hit spent was granted under the database's lock. What
    it costs, only for keys with at least 2 * ``SHARE`` requests of room (the defaults
    of 60 and 30 never get there): with several processes, hits another one holds
    unspent can refuse a request early, and a process's X-RateLimit-Remaining does not
    see the others' requests of the current second. Hits left unspent when a process
    dies (or a decision fails), or when a key's requests stop within the second, stay
    counted until they leave the window.

    Keyed by the key's digest: on PostgreSQL the process decides before its one
    statement (lookup and decision) tells it the key's id.
    """

    MOST = 64
    SHARE = 1024

    def __init__(self, most: int = MOST, share: int = SHARE) -> None:
        self.most = most
        self.share = share
        self._leases: dict[str, _Lease] = {}
        self._lock = threading.Lock()

    def spend(self, digest: str, second: int) -> Window | None:
        """One hit of this second's lease for the key, or None: ask the database."""
        with self._lock:
            lease = self._leases.get(digest)
            if lease is None or lease.second != second or lease.unspent == 0:
                return None
            lease.unspent -= 1
            return Window(True, lease.used - lease.unspent, lease.oldest)

    def ask(self, digest: str, second: int) -> tuple[int, Unspent | None]:
        """How many hits the next decision asks for, and an older lease's unspent hits
        to give back with it (taken out of this book: given back once)."""
        with self._lock:
            lease = self._leases.get(digest)
            if lease is None:
                return 1, None
            back = None
            # Only an older second's hits: a newer lease (this request began before
            # another thread took it) is still being spent.
            if lease.unspent and lease.second < second:
                if lease.second > second - WINDOW_SECONDS:  # still in the window
                    back = (lease.second, lease.unspent)
                lease.unspent = 0
            room = lease.limit - (lease.used - lease.unspent)
            # The database's own rule; at least one hit is always worth asking for.
            return max(1, grantable(self.most, room, self.share)), back

    def keep(self, digest: str, limit: int, second: int, grant: Grant) -> Unspent | None:
        """Record a committed decision, whose first hit (if any) the asking request spent;
        a refusal too, so that the next ask knows how much room the key had.

        Returns hits no request of this process can spend any more, which the caller
        gives back at once: a slow thread's grant for a second a newer lease has
        replaced, or the older lease this one replaces when such a grant joined it after
        its give-back. Dropped instead, they would refuse requests early until they
        left the window.
        """
        unspent = max(grant.granted - 1, 0)
        with self._lock:
            lease = self._leases.get(digest)
            if lease is not None and lease.second > second:
                # A newer lease is here already; this second's hits have passed.
                return (second, unspent) if unspent else None
            if lease is not None and lease.second == second:
                # Another thread's lease for the same second: pool the unspent hits.
                lease.unspent += unspent
                lease.used = max(lease.used, grant.used)
                return None
            self._leases[digest] = _Lease(limit, second, unspent, grant.used, grant.oldest)
            if lease is not None and lease.unspent:
                return (lease.second, lease.unspent)
            return None

    def forget(self, digest: str) -> None:
        """Drop a key's lease (the key is revoked)."""
        with self._lock:
            self._leases.pop(digest, None)

    def prune(self, now: int) -> None:
        """Forget the leases of keys unused for a whole window (nothing left to give back)."""
        with self._lock:
            for digest, lease in list(self._leases.items()):
                if lease.second <= now - WINDOW_SECONDS:
                    del self._leases[digest]


# One round trip, atomic on the Redis server: drop slots that left the window, sum the
# rest, and count the hit only when there is room. The hash expires once its last slot
# could matter, so idle keys leave nothing behind.
_REDIS_HIT = """
local limit = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local fields = redis.call('HGETALL', KEYS[1])
local used = 0
local oldest = nil
for i = 1, #fields, 2 do
  local second = tonumber(fields[i])
  if second <= now - window then
    redis.call('HDEL', KEYS[1], fields[i])
  else
    used = used + tonumber(fields[i + 1])
    if oldest == nil or second < oldest then oldest = second end
  end
end
local allowed = 0
if used < limit then
  redis.call('HINCRBY', KEYS[1], now, 1)
  redis.call('EXPIRE', KEYS[1], window + 1)
  used = used + 1
  allowed = 1
  if oldest == nil then oldest = now end
end
if oldest == nil then oldest = now end
return {allowed, used, oldest}
"""


class RedisStore:
    """Slots in a Redis hash per bucket; an unreachable Redis fails closed, as a 503."""

    PREFIX = "pivotal:ratelimit:"

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        self._script = self.client.register_script(_REDIS_HIT)

    def hit(self, bucket: str, limit: int, now: int) -> Window:
        try:
            allowed, used, oldest = self._script(
                keys=[self.PREFIX + bucket], args=[limit, now, WINDOW_SECONDS]
            )
        except redis.RedisError as exc:
            log.error("rate-limit storage unavailable: %s", exc)
            raise ServiceUnavailable(
                "service_unavailable", "Rate limiting is unavailable; retry shortly."
            ) from exc
        return Window(bool(allowed), int(used), int(oldest))

    def check(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False

    def prune(self, now: int) -> None:
        """Nothing to do: each hash expires by itself."""


def make_store(choice: str, db: Database, redis_url: str | None) -> WindowStore:
    """The store for ``choice`` (auto, memory, database, redis)."""
    if choice == "auto":
        # Memory only when asked for: a server cannot know whether another process
        # (a second `serve`, granian workers) shares its database.
        choice = "redis" if redis_url else "database"
    if choice == "redis":
        if not redis_url:
            raise ValueError("PIVOTAL_RATE_LIMIT_STORAGE=redis needs PIVOTAL_REDIS_URL")
        return RedisStore(redis_url)
    if choice == "memory":
        return MemoryStore()
    if choice == "database":
        return DatabaseStore(db)
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

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        """``headers()`` as an ASGI server takes them."""
        return [
            (b"x-ratelimit-limit", b"%d" % self.limit),
            (b"x-ratelimit-remaining", b"%d" % self.remaining),
            (b"x-ratelimit-reset", b"%d" % self.reset),
        ]


class RateLimiter:
    def __init__(self, store: WindowStore) -> None:
        self.store = store
        self.leases = Leases()  # used with the database store (core/admission.py)

    @staticmethod
    def settle(window: Window, per_minute: int, now: float) -> Quota:
        """The quota a decision taken at ``now`` left, or the 429 with its headers."""
        reset = window.oldest + WINDOW_SECONDS
        quota = Quota(limit=per_minute, remaining=max(0, per_minute - window.used), reset=reset)
        if not window.allowed:
            retry_after = max(1, math.ceil(reset - now))
            raise RateLimited(
                "rate_limited",
                f"Rate limit exceeded. Retry after {retry_after} seconds.",
                headers={**quota.headers(), "Retry-After": str(retry_after)},
            )
        return quota

    def prune(self) -> None:
        now = math.floor(time.time())
        self.store.prune(now)
        self.leases.prune(now)
