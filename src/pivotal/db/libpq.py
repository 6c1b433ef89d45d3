"""Fixed statements on PostgreSQL as libpq prepared statements, on psycopg's connection.

Through a psycopg cursor, a statement costs this process about 100 µs of CPU here, of
which some 60 µs are psycopg's Python around the round trip: query conversion, its
prepare manager, a cursor object and its result bookkeeping. For the statements every
request runs (``engine.fetch``) this module calls libpq itself on the same connection:
prepare once per connection, then execute (a blocking call that releases the GIL), and
load the rows with psycopg's own adapters, so values come back as a cursor gives them.

What keeps psycopg's view of the connection true:
- A statement that opens a transaction sends the plain BEGIN psycopg would send first;
  on a connection with transaction options (isolation level, read-only, deferrable) it
  is left to psycopg (``execute`` answers None). Transaction state lives in libpq,
  where psycopg reads it back for COMMIT and ROLLBACK.
- The connection's prepared statements are ours alone. psycopg's automatic preparing is
  off (``CONNECT_ARGS``) because after a ROLLBACK it deallocates every prepared
  statement of the session, ours included; on a connection where it is on, psycopg runs
  everything.
- Ours are named from a hash of the SQL and parameter types, prepared once per
  connection and types, and remembered in the pool's per-connection ``info`` (which
  SQLAlchemy empties for a new connection; we check that it is the same one all the
  same). One the server lost, or whose plan a migration broke, is prepared again.
- Errors are psycopg's exception classes, built from the result as psycopg builds them;
  a connection that dropped mid-statement is psycopg's OperationalError.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import abc, errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy import Connection

_PLACEHOLDER = re.compile(r"%\(([^)]+)\)s|%%|%")
_MAX_PREPARED = 256  # per connection; beyond it (a misuse) statements go through psycopg
_INFO_KEY = "pivotal.libpq"

# For the app's PostgreSQL engines: psycopg prepares nothing itself (see above).
CONNECT_ARGS: dict[str, Any] = {"prepare_threshold": None}


@dataclass(frozen=True)
class Prepared:
    """A statement in libpq's form: ``$n`` placeholders and the parameter names in order."""

    sql: bytes
    names: tuple[str, ...]
    formats: tuple[PyFormat, ...]  # every parameter goes as text; built once, not per run


def prepare(pyformat_sql: str) -> Prepared | None:
    """``pyformat_sql`` (psycopg's ``%(name)s`` form) with ``$n`` placeholders; None if
    it has a ``%`` that is neither a placeholder nor ``%%``, or is not ASCII."""
    names: list[str] = []
    positions: dict[str, int] = {}
    stray = False

    def number(match: re.Match[str]) -> str:
        nonlocal stray
        name = match.group(1)
        if name is None:
            stray = stray or match.group(0) == "%"
            return "%"
        if name not in positions:
            names.append(name)
            positions[name] = len(names)
        return f"${positions[name]}"

    sql = _PLACEHOLDER.sub(number, pyformat_sql)
    # ASCII reads the same in every client encoding; psycopg encodes anything else.
    return (
        None
        if stray or not sql.isascii()
        else Prepared(sql.encode(), tuple(names), (PyFormat.TEXT,) * len(names))
    )


_Key = tuple[bytes, tuple[int, ...]]  # the SQL and its parameters' type OIDs

# The server no longer has the statement (26000: DEALLOCATE or DISCARD ALL), or its
# plan no longer fits the tables (0A000: "cached plan must not change result type",
# after a migration): prepared afresh, it works again.
_STALE = (errors.InvalidSqlStatementName, errors.FeatureNotSupported)


@dataclass
class _ConnectionState:
    """What one connection has prepared, and its adapters (psycopg's, copied once)."""

    driver: psycopg.Connection[Any]
    transformer: abc.Transformer
    encoding: str  # of column names; the app never changes client_encoding
    names: dict[_Key, bytes] = field(default_factory=dict)
    # A prepared statement's result columns never change (a schema change that would
    # change them fails the statement, which is then prepared again, under a new name).
    columns: dict[bytes, list[str]] = field(default_factory=dict)
    generation: int = 0  # of names: a statement prepared again gets a name of its own

    def name_for(self, key: _Key) -> bytes:
        # From the statement itself: one name means one statement, on every connection.
        digest = hashlib.blake2b(key[0] + repr(key[1]).encode(), digest_size=8).hexdigest()
        return f"pivotal_{self.generation}_{digest}".encode()

    def forget(self) -> None:
        self.names.clear()
        self.columns.clear()
        self.generation += 1


def execute(
    conn: Connection,
    statement: Prepared,
    values: Mapping[str, Any],
    row_maker: Callable[[list[str]], Callable[[Sequence[Any]], Any]],
) -> list[Any] | None:
    """The rows of ``statement`` (``[]`` for a command without rows), each built by the
    function ``row_maker`` gives for the result's column names; None when psycopg must
    run the statement (see the module docstring)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    pgconn = driver.pgconn
    if driver.prepare_threshold is not None:
        return None
    status = pgconn.transaction_status
    if (
        pgconn.status != pq.ConnStatus.OK
        or status == pq.TransactionStatus.ACTIVE
        or pgconn.pipeline_status  # psycopg's pipeline mode: its business
    ):
        return None
    begin = status == pq.TransactionStatus.IDLE and not driver.autocommit
    if begin and not _plain_begin(driver):
        return None  # psycopg begins the transaction, with its options
    info = conn.connection.info
    state: _ConnectionState | None = info.get(_INFO_KEY)
    if state is None or state.driver is not driver:  # SQLAlchemy clears info on reconnect
        state = _ConnectionState(driver, Transformer(driver), driver.info.encoding)
        info[_INFO_KEY] = state
    transformer = state.transformer
    params = transformer.dump_sequence(
        [values[name] for name in statement.names], statement.formats
    )
    types = transformer.types or ()
    key = (statement.sql, types)
    with driver.lock:
        if begin:  # the BEGIN psycopg would send (see _plain_begin)
            _run(pgconn, pgconn.exec_, b"BEGIN")
        for retry in (True, False):
            name = state.names.get(key)
            try:
                if name is None:
                    if len(state.names) >= _MAX_PREPARED:
                        return None
                    name = state.name_for(key)
                    _run(pgconn, pgconn.prepare, name, statement.sql, types)
                    state.names[key] = name
                # None is NULL: psycopg passes it so too, whatever its stubs say.
                result = _run(pgconn, pgconn.exec_prepared, name, params)
                break
            except _STALE:
                state.forget()
                # At once in autocommit; in a transaction, which the error aborted,
                # from the next statement on.
                if not (retry and driver.autocommit):
                    raise
    if result.status == pq.ExecStatus.COMMAND_OK:
        return []
    assert name is not None  # set by the loop, which ran exec_prepared with it
    names = state.columns.get(name)
    if names is None:
        names = [_column_name(result, i, state.encoding) for i in range(result.nfields)]
        state.columns[name] = names
    make_row = row_maker(names)
    transformer.set_pgresult(result)
    try:
        rows: list[Any] = transformer.load_rows(0, result.ntuples, make_row)
        return rows
    finally:
        transformer.set_pgresult(None)


def _plain_begin(driver: psycopg.Connection[Any]) -> bool:
    """Whether psycopg would open a transaction with a plain BEGIN: no isolation level,
    read-only or deferrable option set on the connection."""
    return driver.isolation_level is None and driver.read_only is None and driver.deferrable is None


def _column_name(result: pq.abc.PGresult, index: int, encoding: str) -> str:
    name = result.fname(index)
    assert name is not None  # index < nfields
    return name.decode(encoding)


def _run(pgconn: pq.abc.PGconn, call: Callable[..., pq.abc.PGresult], *args: Any) -> Any:
    """``call``'s result if it succeeded, else raise psycopg's error for it."""
    try:
        result = call(*args)
    except MemoryError as exc:  # psycopg's C wrapper, when libpq gives no result at all
        raise psycopg.OperationalError(pgconn.get_error_message()) from exc
    if result.status in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        return result
    if pgconn.status != pq.ConnStatus.OK:  # the server went away: as psycopg says it
        raise psycopg.OperationalError(result.get_error_message(pgconn._encoding))
    raise errors.error_from_result(result, encoding=pgconn._encoding)
