"""Admission: authenticate a request's key, then count it against the key's rate limit.

Every authenticated request pays for this before any work, so it is kept to the fewest
steps, all on one connection the request's read can reuse. Where the limiter lives in
the database (the default): on PostgreSQL one statement (the key lookup, with the
migration's ``pivotal_rate_limit_take`` called for an active key only); on SQLite a
lookup through the driver, then one short write transaction for the hit. A key with
room to spare takes several hits per decision (ratelimit.Leases): until they are spent,
in the same second, its requests need only the lookup. A request refused with 401 never
reaches the limiter (SPEC §6), and a revoked key is refused on its very next request,
whichever process serves it: nothing about keys is cached.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Connection, text

from pivotal.core import auth, clock
from pivotal.core.errors import ApiError
from pivotal.core.ratelimit import (
    WINDOW_SECONDS,
    DatabaseStore,
    Grant,
    RateLimiter,
    Window,
    postgres_lock_id,
    take_parameters,
)
from pivotal.db.engine import Database, fetch

T = TypeVar("T")

# auth's key lookup plus the limiter's decision as [granted, used, oldest].
# The decision is a scalar subquery inside CASE, which PostgreSQL evaluates only for an
# active key (a filter beside the function call would still run it, counting the hit).
_ADMIT_POSTGRES = text(
    f"""
    SELECT {auth.KEY_COLUMNS},
           CASE WHEN k.revoked_at IS NULL THEN (
               SELECT ARRAY[h.granted::bigint, h.used, h.oldest]
               FROM pivotal_rate_limit_take(
                   k.id, k.rate_limit, :now, :window, {postgres_lock_id("k.id")},
                   :want, :back_second, :back_hits
               ) AS h
           ) END AS decision
    FROM {auth.KEY_TABLES}
    WHERE k.key_hash = :key_hash
    """
)


@dataclass(frozen=True)
class Admitted:
    """An authenticated key and the limiter's decision about this request."""

    key: auth.ApiKey
    window: Window
    at: float  # Unix time of the decision, for Retry-After


class Admission:
    def __init__(self, db: Database, limiter: RateLimiter, pepper: Callable[[], bytes]) -> None:
        self.db = db
        self.limiter = limiter
        self._pepper = pepper
        self._in_database = isinstance(limiter.store, DatabaseStore)

    def admit(self, header: str | None) -> Admitted:
        """Authenticate (401) and count the request; the caller settles the quota (429)."""
        digest = self.digest(header)
        with self.db.connect() as conn:
            return self.admit_on(conn, digest)

    def digest(self, header: str | None) -> str:
        """The stored form of the header's key; a malformed header is a 401 before any
        database work."""
        return auth.hash_key(self._pepper(), auth.bearer_token(header))

    def admit_on(self, conn: Connection, digest: str) -> Admitted:
        """``admit`` on a connection from ``Database.connect()``."""
        return self.admit_then(conn, digest, _decision)

    def admit_then(self, conn: Connection, digest: str, then: Callable[[Admitted], T]) -> T:
        """Admit on ``conn`` (a ``Database.connect()`` connection), then call ``then`` with
        the decision, for work that shares the connection (the fast lane's reads).

        On SQLite ``then`` runs inside the hit's write transaction (or, when the hit
        needs no write, a read transaction of the driver's), so its reads need no
        transaction of their own, and its statements must go through the driver
        (``fetch``). An ApiError it raises (a 403, a 404, the 429 of
        ``RateLimiter.settle``) is raised once the hit has committed: refused requests
        count too.
        """
        now = time.time()
        second = math.floor(now)
        now_us = clock.now_us()
        if not self.db.is_sqlite:
            if self._in_database:
                key, window = self._decide_postgres(conn, digest, second)
            else:
                key = auth.lookup(conn, digest)
                window = self.limiter.store.hit(key.id, key.rate_limit, second)
            if auth.needs_touch(key, now_us):
                auth.touch(conn, key.id, now_us)  # autocommit: a statement of its own
            return then(Admitted(key, window, now))
        # SQLite: the lookup reads on its own, so a made-up key never waits for (or
        # holds) the one writer; only a known key's decision takes the write transaction.
        key = auth.lookup(conn, digest)
        leases = self.limiter.leases
        if self._in_database:
            spent = leases.spend(digest, second)
            if spent is None:
                want, back = leases.ask(digest, second)
                refused: ApiError | None = None
                with self.db.sqlite_driver_write(conn) as driver:
                    grant = DatabaseStore.take_sqlite(
                        driver, key.id, key.rate_limit, second, want, back
                    )
                    if auth.needs_touch(key, now_us):
                        auth.touch(conn, key.id, now_us)
                    try:
                        result = then(Admitted(key, grant.window(), now))
                    except ApiError as error:
                        refused = error
                leases.keep(digest, key.rate_limit, second, grant)  # committed
                if refused is not None:
                    raise refused
                return result
            window = spent
        else:
            window = self.limiter.store.hit(key.id, key.rate_limit, second)
        if auth.needs_touch(key, now_us):
            with self.db.sqlite_driver_write(conn):
                auth.touch(conn, key.id, now_us)
        with self.db.sqlite_driver_read(conn):
            return then(Admitted(key, window, now))

    def _decide_postgres(
        self, conn: Connection, digest: str, second: int
    ) -> tuple[auth.ApiKey, Window]:
        """The key and this request's hit: from this process's lease, with the lookup
        alone, or from one statement doing both (the lookup and the function)."""
        leases = self.limiter.leases
        spent = leases.spend(digest, second)
        if spent is not None:
            # Revoked since the lease was taken: a 401, and the lease dies with the key.
            return auth.lookup(conn, digest), spent
        want, back = leases.ask(digest, second)
        params = {"key_hash": digest, "now": second, "window": WINDOW_SECONDS}
        rows = fetch(conn, _ADMIT_POSTGRES, {**params, **take_parameters(want, back)})
        key = auth.key_from_row(rows[0] if rows else None, digest)  # 401 unless active
        granted, used, oldest = rows[0].decision
        grant = Grant(int(granted), int(used), int(oldest))
        leases.keep(digest, key.rate_limit, second, grant)  # committed with the statement
        return key, grant.window()


def _decision(admitted: Admitted) -> Admitted:
    return admitted
