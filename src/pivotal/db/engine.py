"""Engines and transactions for SQLite (embedded default) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import contextvars
import queue
import sqlite3
import threading
import time
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    Select,
    TextClause,
    UpdateBase,
    create_engine,
    event,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from pivotal.db import libpq

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 10_000


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the sqlite3 module so that we can say
        # BEGIN IMMEDIATE for writes: a deferred transaction that reads first and writes
        # later can fail with "database is locked" without ever waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Straight to the driver: every transaction runs this.
        sqlite_driver(connection).execute(connection.info.get("sqlite_begin", "BEGIN"))


class Database:
    """One engine plus the two ways the app uses it: read and write transactions."""

    def __init__(self, url: str, *, pool_size: int = 10, threads: int = 8) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # SQLite takes one writer at a time. Queueing this process's writers on a lock
        # keeps them out of SQLite's busy handler, which waits by sleeping (1 ms, 2 ms,
        # ... 100 ms) and turns contention into latency; other processes still meet the
        # busy timeout as before.
        self._sqlite_writer = threading.RLock()
        if self.is_sqlite:
            self.engine = create_engine(
                url,
                connect_args={"check_same_thread": False},
                pool_size=pool_size,
                max_overflow=30,
            )
            _configure_sqlite(self.engine)
        else:
            # No pre-ping: it would cost a round trip on every checkout. A connection the
            # server dropped fails its request once (503, see core/handlers.py), and the
            # whole pool is then replaced (by SQLAlchemy, or by fetch for its statements).
            self.engine = create_engine(
                url, pool_size=pool_size, max_overflow=30, connect_args=libpq.CONNECT_ARGS
            )
        # PostgreSQL work from async code runs on these (see run); more mostly contend
        # for the GIL. Never more than the pool has connections.
        self._workers = _Workers(min(threads, pool_size), "pivotal-db")
        self._sqlite_slot = _Slot()  # see connect; unused on PostgreSQL
        if self.is_sqlite:
            self._autocommit_engine = self.engine
        else:
            # Reads and admission (autocommit) get a pool of their own: switching a shared
            # connection in and out of autocommit on every checkout cost a fifth of the
            # requests per second of a GET.
            self._autocommit_engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=30,
                isolation_level="AUTOCOMMIT",
                connect_args=libpq.CONNECT_ARGS,
            )

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Connection]:
        """Yield a connection inside one transaction: committed on success, else rolled back.

        On PostgreSQL a read runs in autocommit instead: under READ COMMITTED each
        statement of a transaction takes its own snapshot anyway, so a read sees exactly
        the same without the BEGIN and COMMIT round trips. On SQLite it runs on the
        connection ``connect`` keeps, when that is free.
        """
        if self.is_sqlite:
            with self.connect() as connection, self.sqlite_transaction(connection, write=write):
                yield connection
            return
        if not write:
            with self.autocommit() as connection:
                yield connection
            return
        with self.engine.connect() as connection, connection.begin():
            yield connection

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """Yield a PostgreSQL connection outside any transaction: each statement commits
        by itself (for work that is a single statement, or reads)."""
        with self._autocommit_engine.connect() as connection:
            yield connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection outside any transaction, for a request's work done in steps.

        Kept between requests rather than checked out of the pool and back for each
        (about a sixth of a GET's CPU here): on PostgreSQL one per worker thread (see
        ``run``), in autocommit; on SQLite one for the process, used by one request at a
        time (work runs inline on the event loop; any other user at the same moment,
        such as admission on a thread with the Redis limiter, takes the pool's).
        On SQLite, SQLAlchemy statements belong inside ``sqlite_transaction``, and so
        does a ``fetch`` that falls back to SQLAlchemy; the driver's own statements
        (``sqlite_driver``, a ``fetch`` on the driver path) commit by themselves, or
        inside ``sqlite_driver_write`` or ``sqlite_driver_read``.
        """
        if self.is_sqlite:
            slot: _Slot | None = self._sqlite_slot
        else:
            slot = self._workers.slot()  # None off the workers
        engine = self.engine if self.is_sqlite else self._autocommit_engine
        if slot is None or not slot.take():  # taken: a second connection in one job
            with engine.connect() as connection:
                yield connection
            return
        try:
            held = slot.connection
            if held is None or not slot.usable(engine.pool):
                slot.drop(close=True)
                held = slot.connection = engine.connect()
                slot.pool = engine.pool
            yield held
        finally:
            slot.put_back(self.is_sqlite)

    @contextmanager
    def sqlite_transaction(self, connection: Connection, *, write: bool) -> Iterator[None]:
        """A transaction on an SQLite connection: BEGIN IMMEDIATE behind this process's
        writer lock for a write, a plain BEGIN for a read."""
        with self._sqlite_writer if write else nullcontext():
            connection.info["sqlite_begin"] = "BEGIN IMMEDIATE" if write else "BEGIN"
            with connection.begin():
                yield

    @contextmanager
    def sqlite_driver_write(self, connection: Connection) -> Iterator[sqlite3.Connection]:
        """A write transaction on an SQLite connection run by sqlite3 itself, for work
        done only through the driver (``sqlite_driver``, or ``fetch`` on its driver
        path): BEGIN IMMEDIATE behind this process's writer lock, then COMMIT, or
        ROLLBACK on an error. Driver errors come out as SQLAlchemy's.

        Rate-limit decisions are written this way, on nearly every authenticated
        request: SQLAlchemy's transaction bookkeeping cost about as much as the hit.
        SQLAlchemy's own statements must not run inside (they would begin a second
        transaction).
        """
        with (
            self._sqlite_writer,
            self._sqlite_driver_transaction(connection, "BEGIN IMMEDIATE") as driver,
        ):
            yield driver

    @contextmanager
    def sqlite_driver_read(self, connection: Connection) -> Iterator[sqlite3.Connection]:
        """``sqlite_driver_write`` for reads: a plain BEGIN, no writer lock."""
        with self._sqlite_driver_transaction(connection, "BEGIN") as driver:
            yield driver

    @staticmethod
    @contextmanager
    def _sqlite_driver_transaction(
        connection: Connection, begin: str
    ) -> Iterator[sqlite3.Connection]:
        driver = sqlite_driver(connection)
        try:
            driver.execute(begin)
            try:
                yield driver
                driver.execute("COMMIT")
            except BaseException:
                if driver.in_transaction:
                    # SQLite may have rolled back by itself (a full disk, say); the
                    # error that got us here is the one to report.
                    with suppress(sqlite3.Error):
                        driver.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise _as_sqlalchemy_error(connection, exc, "an SQLite transaction", None) from exc

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking database work from async code: inline on SQLite, on a worker
        thread on PostgreSQL.

        SQLite work is local and takes microseconds, and in WAL mode reads never wait
        for writers: a thread hop (and the GIL traffic of many threads) costs more than
        the work. PostgreSQL waits on the network and on other sessions' locks, which
        must not stall the event loop.
        """
        if self.is_sqlite:
            return fn(*args)
        return await self._workers.run(fn, *args)

    def dispose(self) -> None:
        # Kept connections first, closed with the pools (a worker stuck past the wait
        # closes its own when it stops).
        self._workers.shutdown(wait=True)
        if self._sqlite_slot.take(wait=10.0):  # not from under a request still using it
            self._sqlite_slot.drop(close=True)
            self._sqlite_slot.put_back(sqlite=True)
        self.engine.dispose()
        self._autocommit_engine.dispose()


class _Workers:
    """Threads that run blocking calls for the event loop.

    Lighter than ``run_in_executor``: a job is a tuple on a queue and its result goes
    back with one ``call_soon_threadsafe``, where an executor also makes, chains and
    copies a concurrent Future with its own lock for every call (measured: 12-30% more
    GETs a second on PostgreSQL). As with an executor, a job whose caller went away
    before it started is skipped. Threads start on first use and, as daemons, never hold
    up the exit of the process: work cut off there rolls back with its connection. Each
    thread has a slot for the connection it keeps (``Database.connect``), given back
    when the thread stops.
    """

    def __init__(self, count: int, name: str) -> None:
        self._count = count
        self._name = name
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._local = threading.local()

    def slot(self) -> _Slot | None:
        """The calling worker thread's connection slot; None on any other thread."""
        return getattr(self._local, "slot", None)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if not self._threads:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        # The caller's context variables travel with the job, as with asyncio.to_thread.
        self._jobs.put((loop, future, contextvars.copy_context(), fn, args))
        return await future

    def _start(self) -> None:
        with self._lock:
            while len(self._threads) < self._count:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                thread.start()
                self._threads.append(thread)

    def _work(self) -> None:
        slot = self._local.slot = _Slot()
        try:
            self._serve()
        finally:
            slot.drop(close=True)  # the thread stops when its Database is disposed

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            loop, future, context, fn, args = job
            if future.cancelled():  # its caller went away before it started: skip it
                continue
            result = error = None
            try:
                result = context.run(fn, *args)
            except BaseException as exc:  # handed to the awaiting task, which re-raises it
                error = exc
            with suppress(RuntimeError):  # raised once the loop has closed: nobody waits
                loop.call_soon_threadsafe(_settle, future, result, error)

    def shutdown(self, wait: bool = False, timeout: float = 10.0) -> None:
        """Stop the threads once the jobs queued before have run; ``wait``: for at most
        ``timeout`` seconds in all (a job stuck on a lock must not hold up an exit)."""
        with self._lock:
            threads, self._threads = self._threads, []
        for _ in threads:
            self._jobs.put(None)
        if wait:
            deadline = time.monotonic() + timeout
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))


@dataclass
class _Slot:
    """A connection ``Database.connect`` keeps between requests, for one user at a time."""

    connection: Connection | None = None
    pool: Any = None  # the pool it came from
    _free: threading.Lock = field(default_factory=threading.Lock)

    def take(self, wait: float = 0.0) -> bool:
        """Whether the slot was free (it is now taken), waiting ``wait`` seconds at most."""
        return self._free.acquire(timeout=wait) if wait else self._free.acquire(blocking=False)

    def usable(self, pool: Any) -> bool:
        """Whether the kept connection can serve again. Not once closed or invalidated,
        nor when its pool was replaced (``fetch`` does so for a lost connection: the
        others are as likely lost) or marked older connections stale (SQLAlchemy does
        so for a lost one, to recycle the rest at their next checkout, which a kept
        connection never has)."""
        held = self.connection
        if held is None or held.closed or held.invalidated or self.pool is not pool:
            return False
        record = getattr(held.connection, "_connection_record", None)
        return record is None or record.starttime >= getattr(pool, "_invalidate_time", 0)

    def put_back(self, sqlite: bool) -> None:
        """Free the slot, its connection outside any transaction (a user's error can
        leave one open: SQLAlchemy's autobegin, or an SQLite driver transaction)."""
        held = self.connection
        try:
            if held is not None and not held.closed and not held.invalidated:
                if sqlite and sqlite_driver(held).in_transaction:
                    sqlite_driver(held).execute("ROLLBACK")
                if held.in_transaction():
                    held.rollback()
        except (SQLAlchemyError, sqlite3.Error):
            self.drop(close=True)
        finally:
            self._free.release()

    def drop(self, *, close: bool = False) -> None:
        """Give the connection back to its pool, or (``close``) close it outright: a
        replaced pool would keep it open, idle, until it is garbage."""
        held, self.connection = self.connection, None
        if held is not None and not held.closed:
            with suppress(SQLAlchemyError):  # never in the way of what a request raised
                if close and not held.invalidated:
                    held.invalidate()
                held.close()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the request went away; its work finished all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


def sqlite_driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under ``conn``, in the same transaction: for the few
    statements every request runs, which skip SQLAlchemy's per-statement work."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def null_pool_engine(url: str) -> Engine:
    """An engine for one-off commands (migrations, CLI) that keeps no idle connections."""
    return create_engine(url, poolclass=NullPool)


# ---------------------------------------------------------------- driver statements


# A row from ``fetch``: SQLAlchemy's Row, or a driver row read the same ways.
Record = Any
Statement = Select[Any] | TextClause | UpdateBase


def mapping(row: Record | dict[str, Any]) -> Mapping[str, Any]:
    """A row's values by column name; a dict (values about to be written) passes through."""
    return row if isinstance(row, dict) else row._mapping


@dataclass
class _DriverPlan:
    """A statement compiled once for one dialect, and the record type of its rows."""

    sql: str
    defaults: dict[str, Any]  # values the statement carries itself, such as .limit(1)
    order: tuple[str, ...] | None  # parameter order for positional drivers (sqlite3)
    # SQLAlchemy's own type conversions (booleans on SQLite, say), applied the same way.
    convert_params: tuple[tuple[str, Callable[[Any], Any]], ...]
    convert_row: tuple[Callable[[Any], Any] | None, ...] | None  # by column; None: as is
    prepared: libpq.Prepared | None  # the libpq form, on psycopg
    record: type | None = None  # made from the first result's columns

    def row_maker(self, names: list[str]) -> Callable[[Sequence[Any]], Any]:
        """Builds a record from a driver row of a result with columns ``names``."""
        if self.record is None:
            assert self.convert_row is None or len(self.convert_row) == len(names)
            self.record = _record_type(names)
        make = self.record._make  # type: ignore[attr-defined]
        if (by_column := self.convert_row) is None:
            return make  # type: ignore[no-any-return]
        return lambda row: make(
            [v if fn is None else fn(v) for fn, v in zip(by_column, row, strict=True)]
        )


# (statement, plan); plan None: SQLAlchemy must run the statement itself.
_plans: dict[tuple[int, str, str], tuple[object, _DriverPlan | None]] = {}
_MAX_PLANS = 1024  # fetch is for statements built once; this only bounds a misuse


def _record_type(names: list[str]) -> type:
    """A tuple with named fields and a ``_mapping``, read like SQLAlchemy's Row."""
    base = namedtuple("Record", names, rename=True)  # type: ignore[misc]

    class DriverRecord(base):
        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(self._fields, self, strict=True))

    return DriverRecord


def _plan(statement: Statement, dialect: Dialect) -> _DriverPlan | None:
    """The driver plan for ``statement``, or None where SQLAlchemy must run it."""
    try:
        compiled = statement.compile(dialect=dialect)
        if compiled.literal_execute_params or compiled.post_compile_params:
            return None
        convert_params = tuple(
            (name, convert)
            for name, bind in compiled.binds.items()
            if (convert := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        # The columns a Select, or a DML statement's RETURNING, gives back, in order.
        convert_row = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in getattr(statement, "exported_columns", ())
        )
    except Exception:  # a type that cannot say without a live cursor (Numeric on psycopg)
        return None
    positional = getattr(compiled, "positiontup", None)
    # Only values the statement carries: a parameter without one must come with params
    # (a KeyError otherwise, where SQLAlchemy would say a value is required).
    defaults = {
        name: value for name, value in compiled.params.items() if not compiled.binds[name].required
    }
    return _DriverPlan(
        compiled.string,
        defaults,
        tuple(positional) if dialect.positional and positional is not None else None,
        convert_params,
        convert_row if any(convert_row) else None,
        libpq.prepare(compiled.string) if dialect.driver == "psycopg" else None,
    )


def fetch(conn: Connection, statement: Statement, params: Mapping[str, Any]) -> list[Record]:
    """The rows of ``statement``, run on the driver's own cursor when it can.

    For statements built once (module level or cached) that nearly every request runs:
    SQLAlchemy's per-statement work (execution context, result metadata, Row objects)
    costs more than the query itself, about 45 µs of 120 for a customer by id on
    PostgreSQL here. A statement is compiled once per dialect, and every parameter it
    has must be in ``params``: an INSERT without ``.values()`` names every column, and
    column defaults do not apply. SQLAlchemy's type conversions (booleans on SQLite,
    say) are applied as it would; a statement whose compiled form depends on its values
    (expanding IN) keeps going through SQLAlchemy (inside a SQLAlchemy transaction,
    then). A DML statement without RETURNING gives ``[]``. Driver rows read like Rows
    (by position, by name, ``_mapping``); driver errors come out as SQLAlchemy's, and a
    lost connection is invalidated with its pool, as for SQLAlchemy's own statements.
    On PostgreSQL the statement runs as a libpq prepared statement (db/libpq.py).
    """
    dialect = conn.dialect
    cache_key = (id(statement), dialect.name, dialect.driver)
    cached = _plans.get(cache_key)
    if cached is None or cached[0] is not statement:
        if len(_plans) >= _MAX_PLANS:
            _plans.clear()
        # Kept with its plan, the statement stays alive, so its id is not reused.
        cached = _plans[cache_key] = (statement, _plan(statement, dialect))
    plan = cached[1]
    if plan is None:
        return list(conn.execute(statement, params).all())
    values = {**plan.defaults, **params} if plan.defaults else params
    if plan.convert_params:
        values = dict(values)
        for name, convert in plan.convert_params:
            if name in values:
                values[name] = convert(values[name])
    args: Any = values if plan.order is None else tuple(values[name] for name in plan.order)
    try:
        if plan.prepared is not None:
            records = libpq.execute(conn, plan.prepared, args, plan.row_maker)
            if records is not None:
                return records
        driver = conn.connection.dbapi_connection
        assert driver is not None
        cursor = driver.cursor()
        try:
            cursor.execute(plan.sql, args)
            if cursor.description is None:  # a DML statement without RETURNING
                return []
            rows = cursor.fetchall()  # to the end: an SQLite read holds its snapshot till then
            make = plan.row_maker([column[0] for column in cursor.description])
        finally:
            cursor.close()
    except dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy_error(conn, exc, plan.sql, args) from exc
    return [make(row) for row in rows]


def _as_sqlalchemy_error(conn: Connection, exc: Any, sql: str, args: Any) -> BaseException:
    """A driver error as SQLAlchemy would have raised it.

    A lost connection is invalidated and, as SQLAlchemy does, its pool replaced: the
    server went away for every idle connection too, and each would fail a request.
    """
    dialect = conn.dialect
    lost = dialect.is_disconnect(exc, conn.connection.dbapi_connection, None)
    if lost:
        conn.invalidate(exc)
        conn.engine.dispose()  # connections still checked out are dropped when returned
    error: BaseException = DBAPIError.instance(
        sql, args, exc, dialect.loaded_dbapi.Error, connection_invalidated=lost
    )
    return error
