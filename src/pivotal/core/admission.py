"""Admission: authenticate a request's key, then count it against the key's rate limit.

Every authenticated request pays for this before any work, so it is kept to the fewest
steps, all on one connection the request's read can reuse. Where the limiter lives in
the database (the default): on PostgreSQL one statement (the key lookup, with the
migration's ``pivotal_rate_limit_take`` called for an active key only); on SQLite a
lookup through the driver, then one short write transaction for the hit (rarely one
more, for hits ``Leases.keep`` hands back). A key with
room to spare takes several hits per decision (ratelimit.Leases): until they are spent,
in the same second, its requests need only the lookup (a hit is spent just before it;
a key found revoked then forgets its hits), which on SQLite can find a single row too
(``admit_and_find``), as PostgreSQL's statement always can. A request refused
with 401 never reaches the limiter (SPEC §6), and a revoked key is refused on its very
next request, whichever process serves it: nothing about keys is cached.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnClause,
    Connection,
    Select,
    and_,
    bindparam,
    column,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import SQLAlchemyError

from pivotal.core import auth, clock
from pivotal.core.errors import AuthenticationFailed
from pivotal.core.lookup import PointLookup, by_ref
from pivotal.core.ratelimit import (
    WINDOW_SECONDS,
    DatabaseStore,
    Grant,
    RateLimiter,
    Unspent,
    Window,
    postgres_lock_id,
    take_parameters,
)
from pivotal.db.engine import Database, fetch

log = logging.getLogger("pivotal.ratelimit")

T = TypeVar("T")
DIGESTS_KEPT = 1024  # Authorization headers whose digest Admission.digest remembers
# "Bearer " and the longest key: a longer header is padded, and not remembered.
_REMEMBERED_HEADER_LENGTH = len("Bearer ") + len(auth.TEST_PREFIX) + auth.MAX_SECRET_LENGTH

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
                   :want, :share, :back_second, :back_hits
               ) AS h
           ) END AS decision
    FROM {auth.KEY_TABLES}
    WHERE k.key_hash = :key_hash
    """
)
# The same columns with no decision: for a request whose hit comes from a lease.
_LOOKUP_POSTGRES = text(
    f"SELECT {auth.KEY_COLUMNS}, NULL::bigint[] AS decision"
    f" FROM {auth.KEY_TABLES} WHERE k.key_hash = :key_hash"
)
_ADMISSION_COLUMNS = (
    *(column(name) for name in auth.KEY_COLUMN_NAMES),
    column("decision", postgresql.ARRAY(BigInteger)),
)
# SQLite's lookup, for a request whose hit comes from a lease (its decisions are a
# write transaction of their own, never part of a read).
_LOOKUP_SQLITE = text(
    f"SELECT {auth.KEY_COLUMNS} FROM {auth.KEY_TABLES} WHERE k.key_hash = :key_hash"
)
_KEY_COLUMNS: tuple[ColumnClause[Any], ...] = tuple(column(name) for name in auth.KEY_COLUMN_NAMES)


@lru_cache(maxsize=32)
def _admit_and_find(point: PointLookup, ref_column: str, decide: bool) -> Select[Any]:
    """Admission's statement (``decide``: with the limiter's decision) joined to the row
    ``point`` finds by ``ref_column`` in the key's workspace, read only for an active
    key the limiter admitted. The admission part is MATERIALIZED: evaluated once,
    whatever the planner does with the join (its function call counts a hit)."""
    admission = (
        (_ADMIT_POSTGRES if decide else _LOOKUP_POSTGRES)
        .columns(*_ADMISSION_COLUMNS)
        .cte("a")
        .prefix_with("MATERIALIZED")
    )
    found = by_ref(point.visible, point.table, ref_column, admission.c.workspace_id).lateral("r")
    admitted = and_(
        admission.c.revoked_at.is_(None),
        or_(admission.c.decision.is_(None), admission.c.decision[1] > 0),
    )
    return select(admission, found).select_from(admission.outerjoin(found, admitted))


@lru_cache(maxsize=32)
def _find_with_key(point: PointLookup, ref_column: str) -> Select[Any]:
    """SQLite's lookup joined to the row ``point`` finds by ``ref_column`` in the key's
    workspace. SQLite has no LATERAL: the row's query is a plain subquery, joined on its
    workspace, which SQLite flattens into the join."""
    key = _LOOKUP_SQLITE.columns(*_KEY_COLUMNS).subquery("a")
    rows = point.visible.where(point.table.c[ref_column] == bindparam("ref"))
    found = rows.where(point.table.c.deleted_at.is_(None)).subquery("r")
    return select(key, found).select_from(
        key.outerjoin(found, found.c.workspace_id == key.c.workspace_id)
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
        self._digests: dict[str, str] = {}  # Authorization header -> digest
        self._in_database = isinstance(limiter.store, DatabaseStore)

    def admit(self, header: str | None) -> Admitted:
        """Authenticate (401) and count the request; the caller settles the quota (429)."""
        digest = self.digest(header)
        with self.db.connect() as conn:
            return self.admit_on(conn, digest)

    def digest(self, header: str | None) -> str:
        """The stored form of the header's key; a malformed header is a 401 before any
        database work.

        Remembered for the headers seen last (an integration sends the same one all
        day): the check and the HMAC cost more than the rest of a key's lookup. Only a
        well-formed header of a plain length is remembered (the format allows padding),
        and forgetting them all when full bounds what made-up keys can take.
        """
        if header is not None and (digest := self._digests.get(header)) is not None:
            return digest
        digest = auth.hash_key(self._pepper(), auth.bearer_token(header))
        assert header is not None  # bearer_token refuses a missing header
        if len(header) <= _REMEMBERED_HEADER_LENGTH:
            if len(self._digests) >= DIGESTS_KEPT:
                self._digests.clear()
            self._digests[header] = digest
        return digest

    def admit_on(self, conn: Connection, digest: str) -> Admitted:
        """``admit`` on a connection from ``Database.connect()``: the hit has committed
        when it returns."""
        now = time.time()
        second = math.floor(now)
        now_us = clock.now_us()
        if not self.db.is_sqlite:
            if self._in_database:
                key, window, _ = self._decide_postgres(conn, digest, second)
            else:
                key = auth.lookup(conn, digest)
                window = self.limiter.store.hit(key.id, key.rate_limit, second)
            if auth.needs_touch(key, now_us):
                auth.touch(conn, key.id, now_us)  # autocommit: a statement of its own
            return Admitted(key, window, now)
        # SQLite: the lookup reads on its own, so a made-up key never waits for (or
        # holds) the one writer; only a known key's decision takes the write transaction.
        leases = self.limiter.leases
        try:
            key = auth.lookup(conn, digest)
        except AuthenticationFailed:
            leases.forget(digest)  # a revoked key's hits die with it, as on PostgreSQL
            raise
        touch = auth.needs_touch(key, now_us)
        spent = leases.spend(digest, second) if self._in_database else None
        if spent is not None:
            window = spent
        elif self._in_database:
            want, back = leases.ask(digest, second)
            with self.db.sqlite_driver_write(conn) as driver:
                grant = DatabaseStore.take_sqlite(
                    driver, key.id, key.rate_limit, second, want, back, leases.share
                )
                if touch:
                    auth.touch(conn, key.id, now_us)
            touch = False
            owed = leases.keep(digest, key.rate_limit, second, grant)  # committed
            if owed is not None:
                self._give_back(key.id, owed, conn)
            window = grant.window()
        else:
            window = self.limiter.store.hit(key.id, key.rate_limit, second)
        if touch:
            with self.db.sqlite_driver_write(conn):
                auth.touch(conn, key.id, now_us)
        return Admitted(key, window, now)

    def admit_then(self, conn: Connection, digest: str, then: Callable[[Admitted], T]) -> T:
        """``admit_on``, then ``then`` with the decision, for work that shares the
        connection (the fast lane's reads).

        The hit has committed before ``then`` runs, so whatever ``then`` raises (a 403,
        a 404, the 429 of ``RateLimiter.settle``, a bug) the request counts. On SQLite
        ``then`` runs in a read transaction of the driver's: its statements must go
        through the driver (``fetch``).
        """
        admitted = self.admit_on(conn, digest)
        if not self.db.is_sqlite:
            return then(admitted)  # autocommit: each statement sees the latest commits
        with self.db.sqlite_driver_read(conn):
            return then(admitted)

    def admit_and_find(
        self, conn: Connection, digest: str, point: PointLookup, ref_column: str, ref: Any
    ) -> tuple[Admitted, dict[str, Any] | None] | None:
        """``admit_on``, and the row of ``point`` whose ``ref_column`` is ``ref`` in the
        key's workspace (by column name; None when there is none), in one statement.

        Where the limiter is in the database: on PostgreSQL always; on SQLite when the
        hit comes from a lease (a decision is a write transaction of its own there).
        Otherwise None, before any work: the caller admits, then reads.
        """
        if not self._in_database:
            return None
        now = time.time()
        second = math.floor(now)
        if self.db.is_sqlite:
            window = self.limiter.leases.spend(digest, second)
            if window is None:
                return None
            rows = fetch(conn, _find_with_key(point, ref_column), {"key_hash": digest, "ref": ref})
            key, found = self._key_and_row(rows, digest, len(_KEY_COLUMNS), point)
        else:
            key, window, found = self._decide_postgres(
                conn, digest, second, (point, ref_column, ref)
            )
        now_us = clock.now_us()
        if auth.needs_touch(key, now_us):
            with self.db.sqlite_driver_write(conn) if self.db.is_sqlite else nullcontext():
                auth.touch(conn, key.id, now_us)
        return Admitted(key, window, now), found

    def _give_back(self, bucket: str, owed: Unspent, conn: Connection) -> None:
        """Give back hits ``Leases.keep`` found nobody can spend, on a best-effort basis:
        the request was admitted already, and a failure costs only early refusals until
        those hits leave the window."""
        try:
            if self.db.is_sqlite:
                with self.db.sqlite_driver_write(conn) as driver:
                    DatabaseStore.give_back_sqlite(driver, bucket, owed)
            else:
                DatabaseStore.give_back_postgres(conn, bucket, owed)
        except SQLAlchemyError as exc:
            log.warning("rate-limit hits not given back (%s): %s", bucket, exc)

    def _key_and_row(
        self, rows: list[Any], digest: str, key_width: int, point: PointLookup | None
    ) -> tuple[auth.ApiKey, dict[str, Any] | None]:
        """The active key of a lookup's rows (or its 401) and, with ``point``, the row
        found beside it (its columns after the first ``key_width``), if any."""
        try:
            key = auth.key_from_row(rows[0] if rows else None, digest)  # 401 unless active
        except AuthenticationFailed:
            # Revoked while this process held hits for it: they die with the key (a
            # revoked key has no budget left to spend, nor to give back).
            self.limiter.leases.forget(digest)
            raise
        found = None
        if point is not None and (values := rows[0][key_width:])[0] is not None:
            found = dict(zip(point.visible.selected_columns.keys(), values, strict=True))
        return key, found

    def _decide_postgres(
        self,
        conn: Connection,
        digest: str,
        second: int,
        find: tuple[PointLookup, str, Any] | None = None,
    ) -> tuple[auth.ApiKey, Window, dict[str, Any] | None]:
        """The key, this request's hit and (with ``find``) the row it asks for, in one
        statement: the lookup alone when this process holds a lease for the key, else
        the lookup with the limiter's decision."""
        leases = self.limiter.leases
        spent = leases.spend(digest, second)
        params: dict[str, Any] = {"key_hash": digest}
        if spent is None:
            want, back = leases.ask(digest, second)
            params.update(
                now=second, window=WINDOW_SECONDS, **take_parameters(want, back, leases.share)
            )
        if find is None:
            statement: Any = _ADMIT_POSTGRES if spent is None else _LOOKUP_POSTGRES
        else:
            point, ref_column, params["ref"] = find
            statement = _admit_and_find(point, ref_column, spent is None)
        rows = fetch(conn, statement, params)
        key, found = self._key_and_row(
            rows, digest, len(_ADMISSION_COLUMNS), None if find is None else find[0]
        )
        if spent is None:
            granted, used, oldest = rows[0].decision
            grant = Grant(int(granted), int(used), int(oldest))
            owed = leases.keep(digest, key.rate_limit, second, grant)  # committed already
            if owed is not None:
                self._give_back(key.id, owed, conn)
            window = grant.window()
        else:
            window = spent
        return key, window, found
