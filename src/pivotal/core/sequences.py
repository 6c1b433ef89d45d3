"""Display ids and creation times, allocated per workspace and resource type."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Connection, bindparam, case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pivotal.db import tables
from pivotal.db.engine import fetch

if TYPE_CHECKING:
    from pivotal.core.context import Tx

_counters = tables.display_counters


def allocate(conn: Connection, workspace_id: str, resource: str, now: int) -> tuple[int, int]:
    """The next (display_id, created_at) for ``resource`` in the workspace.

    One upsert on the workspace's counter row: it locks that row until the transaction
    ends, so concurrent creates queue up, display ids come out strictly increasing and
    never reused, and created_at is unique and increasing (a tie is bumped by 1 us) —
    which is what makes cursor pagination exact.
    """
    params = {"workspace_id": workspace_id, "now": now, "resource_0": resource, "count_0": 1}
    ((_, display_id, created_at),) = fetch(conn, _upsert(conn.dialect.name, 1), params)
    return int(display_id), int(created_at)


def reserve(tx: Tx, resource: str, ahead: dict[str, int]) -> tuple[int, int]:
    """``allocate`` for ``resource``, and ``ahead[r]`` created_at values of each other
    resource ``r`` the same change writes next (its events, its activity entry).

    One statement takes every counter the change needs, in the order given (so in the
    order ``allocate`` calls would take them); ``created_at`` hands out the reserved
    values. Fewer statements while the workspace's counters are locked is less time
    every other write of the workspace waits.
    """
    if resource in ahead:
        raise ValueError("one row of the upsert per counter")
    counts = {resource: 1, **{name: n for name, n in ahead.items() if n > 0}}
    params: dict[str, Any] = {"workspace_id": tx.workspace_id, "now": tx.now}
    for i, (name, count) in enumerate(counts.items()):
        params[f"resource_{i}"] = name
        params[f"count_{i}"] = count
    rows = fetch(tx.conn, _upsert(tx.conn.dialect.name, len(counts)), params)
    taken = {row.resource: (int(row.last_display_id), int(row.last_created_at)) for row in rows}
    for name, count in counts.items():
        if name != resource:
            last = taken[name][1]
            tx.stamps.setdefault(name, []).extend(range(last - count + 1, last + 1))
    return taken[resource]


def created_at(tx: Tx, resource: str) -> int:
    """The next created_at of ``resource``: reserved ahead (``reserve``), else allocated."""
    reserved = tx.stamps.get(resource)
    if reserved:
        return reserved.pop(0)
    return allocate(tx.conn, tx.workspace_id, resource, tx.now)[1]


@cache  # one statement per dialect and row count, built once: nearly every change runs it
def _upsert(dialect: str, rows: int) -> Any:
    """The upsert of ``rows`` counters, each advanced by its ``count_<i>``: the row
    inserted holds the count and the last of its created_at values."""
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = bindparam("now", type_=BigInteger)
    insert = dialect_insert(_counters).values(
        [
            {
                "workspace_id": bindparam("workspace_id"),
                "resource": bindparam(f"resource_{i}"),
                "last_display_id": bindparam(f"count_{i}", type_=BigInteger),
                "last_created_at": now + bindparam(f"count_{i}", type_=BigInteger) - 1,
            }
            for i in range(rows)
        ]
    )
    count = insert.excluded.last_display_id
    return insert.on_conflict_do_update(
        index_elements=[_counters.c.workspace_id, _counters.c.resource],
        set_={
            "last_display_id": _counters.c.last_display_id + count,
            "last_created_at": case(
                (_counters.c.last_created_at >= now, _counters.c.last_created_at + count),
                else_=insert.excluded.last_created_at,
            ),
        },
    ).returning(_counters.c.resource, _counters.c.last_display_id, _counters.c.last_created_at)
