"""The driver path (db/engine.py): ``fetch`` gives exactly what SQLAlchemy would, and
``sqlite_driver_write`` is a whole transaction."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Select, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from pivotal.core import auth
from pivotal.core.lookup import _lookup_statement
from pivotal.core.pagination import _paged_once
from pivotal.customers import service as customers
from pivotal.db import engine, libpq, tables
from pivotal.db.engine import Database, fetch, mapping


def same_rows(db: Database, statement: Select[Any] | TextClause, params: dict[str, Any]) -> list:
    """fetch's rows, after checking them against SQLAlchemy's for the same statement."""
    with db.transaction(write=False) as conn:
        ours = fetch(conn, statement, params)
        theirs = conn.execute(statement, params).all()
    assert len(ours) == len(theirs)
    for mine, row in zip(ours, theirs, strict=True):
        assert tuple(mine) == tuple(row)
        assert mine._fields == row._fields
        assert dict(mapping(mine)) == dict(row._mapping)
        assert [getattr(mine, name) for name in row._fields] == list(row)
    return ours


@pytest.fixture
def workspace_id(api: TestClient) -> str:
    for name in ("Acme Corp", "Globex", "Initech"):
        assert api.post("/api/v1/customers", json={"name": name}).status_code == 201
    me = api.get("/api/v1/me").json()
    return str(me["organization"]["id"])


def test_driver_rows_read_like_sqlalchemy_rows(db: Database, workspace_id: str) -> None:
    by_display_id = _lookup_statement(
        customers.LOOKUP.visible, tables.customers, "display_id", False, False
    )
    rows = same_rows(db, by_display_id, {"workspace_id": workspace_id, "ref": 2})
    assert [row.name for row in rows] == ["Globex"]
    # A page: the statement's LIMIT is a bind parameter of its own.
    page = _paged_once(customers._LIVE_CUSTOMERS, tables.customers.c.created_at, False)
    rows = same_rows(db, page, {"workspace_id": workspace_id, "page_limit": 2})
    assert [row.name for row in rows] == ["Initech", "Globex"]
    # A value SQLAlchemy bound itself (.limit(1)) is sent too.
    params = {"workspace_id": workspace_id, "slug": "globex", "except_id": ""}
    assert len(same_rows(db, customers._SLUG_USERS, params)) == 1
    # Plain text, and a statement that finds nothing.
    assert same_rows(db, auth._KEY_LOOKUP, {"key_hash": "nothing"}) == []


def test_sqlalchemys_type_conversions_apply_on_the_driver_path(
    api: TestClient, db: Database, workspace_id: str
) -> None:
    customer = api.get("/api/v1/customers/1").json()
    created = api.post("/api/v1/onboardings", json={"customer_id": customer["id"]})
    assert created.status_code == 201, created.text
    statement = select(tables.onboardings).where(
        tables.onboardings.c.workspace_id == bindparam("workspace_id"),
        tables.onboardings.c.reminders_enabled == bindparam("reminders"),
    )
    with db.connect() as conn:
        assert engine._plan(statement, conn.dialect) is not None  # not SQLAlchemy's path
    (row,) = same_rows(db, statement, {"workspace_id": workspace_id, "reminders": True})
    # SQLite stores booleans as integers: the column comes back a bool all the same.
    assert row.waiting_on_customer is False
    assert row.reminders_enabled is True
    assert same_rows(db, statement, {"workspace_id": workspace_id, "reminders": False}) == []


_ADD_SLOT = insert(tables.rate_limit_slots)
_BUMP_SLOT = (
    update(tables.rate_limit_slots)
    .where(tables.rate_limit_slots.c.bucket == bindparam("b"))
    .values(hits=tables.rate_limit_slots.c.hits + 1)
    .returning(tables.rate_limit_slots.c.second, tables.rate_limit_slots.c.hits)
)


def test_writes_with_and_without_returning(db: Database) -> None:
    with db.transaction(write=True) as conn:
        assert fetch(conn, _ADD_SLOT, {"bucket": "k", "second": 7, "hits": 1}) == []
        (row,) = fetch(conn, _BUMP_SLOT, {"b": "k"})
        assert (row.second, row.hits) == (7, 2)
    with db.transaction(write=False) as conn:  # both committed with the transaction
        assert conn.execute(text("SELECT hits FROM rate_limit_slots")).scalar_one() == 2


def test_driver_errors_come_out_as_sqlalchemy_errors(db: Database) -> None:
    statement = text("SELECT id FROM no_such_table WHERE id = :id")
    with db.connect() as conn, pytest.raises(DBAPIError) as raised:
        fetch(conn, statement, {"id": "x"})
    assert "no_such_table" in str(raised.value.orig)
    assert raised.value.statement is not None and "no_such_table" in raised.value.statement
    with db.connect() as conn:  # the connection went back to the pool usable
        assert fetch(conn, text("SELECT 1 AS one"), {})[0].one == 1


def test_a_driver_write_commits_or_rolls_back_whole(db: Database) -> None:
    if not db.is_sqlite:
        pytest.skip("SQLite's own write transaction")
    add = "INSERT INTO rate_limit_slots (bucket, second, hits) VALUES (?, 1, 1)"
    with db.connect() as conn:
        with db.sqlite_driver_write(conn) as driver:
            driver.execute(add, ("kept",))
        with pytest.raises(OperationalError), db.sqlite_driver_write(conn) as driver:
            driver.execute(add, ("dropped",))
            driver.execute("INSERT INTO no_such_table VALUES (1)")
        with db.sqlite_driver_write(conn) as driver:  # the connection is usable again
            buckets = [row[0] for row in driver.execute("SELECT bucket FROM rate_limit_slots")]
    assert buckets == ["kept"]


def test_a_lost_connection_is_invalidated_with_its_pool(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("an embedded database has no connection to lose")
    backend = text("SELECT pg_backend_pid() AS pid")
    with db.connect() as conn:
        with db.connect() as idle:  # a second pooled connection, idle when the first fails
            idle_pid = fetch(idle, backend, {})[0].pid
        pid = fetch(conn, backend, {})[0].pid
        with db.transaction(write=True) as other:  # the other engine: its own pool
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(OperationalError) as raised:
            fetch(conn, text("SELECT 1 AS one"), {})
        assert raised.value.connection_invalidated
        assert conn.invalidated
    # The whole pool was replaced, as SQLAlchemy does: neither old connection comes back.
    with db.connect() as first, db.connect() as second:
        fresh = {fetch(first, backend, {})[0].pid, fetch(second, backend, {})[0].pid}
    assert not fresh & {pid, idle_pid}


def test_a_worker_keeps_its_connection_between_jobs(database_url: str) -> None:
    """On PostgreSQL each worker thread (``Database.run``) keeps the connection it gets
    from ``connect`` for its next jobs, rather than a pool checkout per request; a second
    connection within a job is the pool's. After a lost connection the kept ones are
    not used again (whether ``fetch`` replaced the pool or SQLAlchemy marked its
    connections stale), and dispose closes every kept connection."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite keeps one for the process (the next test)")
    db = Database(database_url, threads=3)
    backend = text("SELECT pg_backend_pid() AS pid")

    def job() -> tuple[int, int]:
        with db.connect() as conn:
            with db.connect() as second:
                other = fetch(second, backend, {})[0].pid
            return fetch(conn, backend, {})[0].pid, other

    async def jobs() -> set[int]:
        answers = await asyncio.gather(*(db.run(job) for _ in range(30)))
        assert all(kept != other for kept, other in answers)
        return {kept for kept, _ in answers}

    def lose_own_connection() -> None:
        with db.connect() as conn:
            pid = fetch(conn, backend, {})[0].pid
            with db.transaction(write=True) as other:
                other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            with pytest.raises(OperationalError):
                conn.execute(text("SELECT 1"))  # SQLAlchemy's own statement, not fetch's

    seen: set[int] = set()
    try:
        first = asyncio.run(jobs())
        assert 1 <= len(first) <= 3
        # Held between jobs, not back in the pool.
        assert db._autocommit_engine.pool.checkedout() == len(first)
        asyncio.run(db.run(lose_own_connection))
        second = asyncio.run(jobs())
        assert not second & first
        db._autocommit_engine.dispose()  # what fetch does after a lost connection
        third = asyncio.run(jobs())
        assert not third & (first | second)
        seen = first | second | third
    finally:
        db.dispose()
    deadline = time.monotonic() + 10
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as probe:
        while True:
            alive = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(seen),)
            ).fetchone()
            if alive == (0,) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert alive == (0,)


def test_sqlite_keeps_one_connection_for_the_work_it_runs_inline(database_url: str) -> None:
    """On SQLite ``connect`` hands out one kept connection, to one user at a time (a
    second at the same moment gets the pool's), always outside any transaction, and
    gives it back at dispose."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's; PostgreSQL keeps one per worker thread")
    db = Database(database_url)
    pool = db.engine.pool
    try:
        kept_once(db, pool)
    finally:
        db.dispose()
    assert pool.checkedout() == 0


def kept_once(db: Database, pool: Any) -> None:
    with db.connect() as first:
        with db.connect() as second:
            assert second is not first
        sqlite_driver_connection = engine.sqlite_driver(first)
        sqlite_driver_connection.execute("BEGIN")  # left open, as by a failing user
    assert pool.checkedout() == 1  # kept, not back in the pool
    with db.connect() as again:
        assert again is first
        assert not engine.sqlite_driver(again).in_transaction
        assert fetch(again, text("SELECT 1 AS one"), {})[0].one == 1
        with db.transaction(write=False) as inner:  # taken: the pool's
            assert inner is not again
    # Transactions run on it too, when it is free.
    with pytest.raises(RuntimeError), db.transaction(write=True) as tx:
        assert tx is first
        tx.execute(text("INSERT INTO rate_limit_slots (bucket, second, hits) VALUES ('x', 1, 1)"))
        raise RuntimeError("rolled back")
    with db.transaction(write=False) as tx:
        assert tx is first
        assert tx.execute(text("SELECT count(*) FROM rate_limit_slots")).scalar() == 0


def test_every_parameter_needs_a_value(db: Database) -> None:
    # SQLAlchemy would refuse the missing value too; it must never go as NULL.
    with db.connect() as conn, pytest.raises((KeyError, DBAPIError), match="now"):
        fetch(conn, auth._TOUCH, {"key_id": "key_x"})


# ---------------------------------------------------------------- libpq (PostgreSQL)


def test_libpq_form_numbers_each_name_once() -> None:
    prepared = libpq.prepare("SELECT %(a)s, %(b)s, %(a)s WHERE name LIKE 'x%%'")
    assert prepared is not None
    assert prepared.sql == b"SELECT $1, $2, $1 WHERE name LIKE 'x%'"
    assert prepared.names == ("a", "b")
    assert libpq.prepare("SELECT 7 % 2") is None  # not psycopg's form: psycopg runs it


def _prepared_here(conn: Any) -> int:
    state = conn.connection.info.get("pivotal.libpq")
    return 0 if state is None else len(state.names)


def test_libpq_statements_open_and_share_the_transaction(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    with pytest.raises(RuntimeError), db.transaction(write=True) as conn:
        # The first statement sends BEGIN itself; all of them roll back together.
        before = _prepared_here(conn)
        assert fetch(conn, _ADD_SLOT, {"bucket": "a", "second": 1, "hits": 1}) == []
        assert _prepared_here(conn) == before + 1
        assert fetch(conn, _ADD_SLOT, {"bucket": "b", "second": 1, "hits": 1}) == []
        assert fetch(conn, _BUMP_SLOT, {"b": "b"})[0].hits == 2
        raise RuntimeError("roll back")
    with db.connect() as conn:
        assert fetch(conn, text("SELECT count(*) AS n FROM rate_limit_slots"), {})[0].n == 0


def test_a_transaction_with_options_is_opened_by_psycopg(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    level = text("SELECT current_setting('transaction_isolation') AS level")
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="SERIALIZABLE")
        with conn.begin():
            assert fetch(conn, level, {})[0].level == "serializable"
        with conn.execution_options(isolation_level="READ COMMITTED").begin():
            assert fetch(conn, level, {})[0].level == "read committed"


def test_libpq_errors_are_sqlalchemys_and_leave_the_connection_usable(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    with db.transaction(write=True) as conn:
        fetch(conn, _ADD_SLOT, {"bucket": "k", "second": 1, "hits": 1})
    with pytest.raises(IntegrityError) as raised, db.transaction(write=True) as conn:
        fetch(conn, _BUMP_SLOT, {"b": "k"})
        fetch(conn, _ADD_SLOT, {"bucket": "k", "second": 1, "hits": 1})  # a duplicate
    assert raised.value.orig is not None and raised.value.orig.sqlstate == "23505"
    with db.transaction(write=True) as conn:  # the bump rolled back with the duplicate
        fetch(conn, text("SELECT 1 AS one"), {})
        assert fetch(conn, _BUMP_SLOT, {"b": "k"})[0].hits == 2


def test_libpq_values_of_any_type_round_trip(db: Database) -> None:
    statement = text(
        "SELECT CAST(:n AS BIGINT) AS n, CAST(:s AS VARCHAR) AS s, CAST(:b AS BOOLEAN) AS b,"
        " 'x%' AS pct"
    )
    cases = [
        {"n": 1, "s": "one", "b": True},
        {"n": 2**40, "s": "ünïcode", "b": False},  # another integer type: prepared again
        {"n": None, "s": None, "b": None},  # NULLs of unknown type
        {"n": -3, "s": "", "b": True},
    ]
    with db.connect() as conn:
        for params in cases:
            (row,) = fetch(conn, statement, params)
            assert (row.n, row.s, row.b, row.pct) == (params["n"], params["s"], params["b"], "x%")


def test_libpq_statements_outlive_a_rollback(db: Database) -> None:
    # psycopg deallocates all of a session's prepared statements after a ROLLBACK when
    # it prepares statements itself; ours must still be there for the next transaction.
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    with db.engine.connect() as conn:
        for attempt in range(3):
            transaction = conn.begin()
            for _ in range(6):  # often enough for psycopg to prepare it, were that on
                conn.execute(text("SELECT 2"))
            fetch(conn, _ADD_SLOT, {"bucket": "b", "second": attempt, "hits": 1})
            transaction.rollback()
        assert _prepared_here(conn) == 1  # prepared once, run by every attempt
        with conn.begin():
            fetch(conn, text("SELECT 1 AS one"), {})
            fetch(conn, _ADD_SLOT, {"bucket": "b", "second": 9, "hits": 1})
    with db.connect() as conn:
        rows = fetch(conn, text("SELECT second FROM rate_limit_slots"), {})
    assert [row.second for row in rows] == [9]


def test_a_statement_the_server_lost_is_prepared_again(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    one = text("SELECT 1 AS one")
    with db.connect() as conn:  # autocommit: prepared again at once
        assert fetch(conn, one, {})[0].one == 1
        conn.exec_driver_sql("DEALLOCATE ALL")
        assert fetch(conn, one, {})[0].one == 1
    with db.engine.connect() as conn:  # in a transaction: that one fails, the next works
        with conn.begin():
            assert fetch(conn, one, {})[0].one == 1
            conn.exec_driver_sql("DEALLOCATE ALL")
        with pytest.raises(DBAPIError), conn.begin():
            fetch(conn, one, {})
        with conn.begin():
            assert fetch(conn, one, {})[0].one == 1


def test_a_statement_a_migration_broke_is_prepared_again(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("libpq is PostgreSQL's")
    read = text("SELECT n FROM scratch")
    with db.connect() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE scratch (n INTEGER)")
        conn.exec_driver_sql("INSERT INTO scratch VALUES (7)")
        assert fetch(conn, read, {})[0].n == 7
        # The prepared plan's result type no longer fits ("cached plan must not change
        # result type"): prepared again, the statement reads the new column.
        conn.exec_driver_sql("ALTER TABLE scratch ALTER COLUMN n TYPE TEXT")
        assert fetch(conn, read, {})[0].n == "7"
