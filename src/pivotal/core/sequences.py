"""Display ids and creation times, allocated per workspace and resource type."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, case
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pivotal.db import tables
from pivotal.db.engine import fetch

_counters = tables.display_counters


def allocate(conn: Connection, workspace_id: str, resource: str, now: int) -> tuple[int, int]:
    """The next (display_id, created_at) for ``resource`` in the workspace.

    One upsert on the workspace's counter row: it locks that row until the transaction
    ends, so concurrent creates queue up, display ids come out strictly increasing and
    never reused, and created_at is unique and increasing (a tie is bumped by 1 us) —
    which is what makes cursor pagination exact.
    """
    params = {"workspace_id": workspace_id, "resource": resource, "now": now}
    ((display_id, created_at),) = fetch(conn, _upsert(conn.dialect.name), params)
    return int(display_id), int(created_at)


@cache  # one statement per dialect, built once: every create runs it two or three times
def _upsert(dialect: str) -> Any:
    dialect_insert = pg_insert if dialect == "postgresql" else sqlite_insert
    now = bindparam("now", type_=_counters.c.last_created_at.type)
    insert = dialect_insert(_counters).values(
        workspace_id=bindparam("workspace_id"),
        resource=bindparam("resource"),
        last_display_id=1,
        last_created_at=now,
    )
    return insert.on_conflict_do_update(
        index_elements=[_counters.c.workspace_id, _counters.c.resource],
        set_={
            "last_display_id": _counters.c.last_display_id + 1,
            "last_created_at": case(
                (_counters.c.last_created_at >= now, _counters.c.last_created_at + 1),
                else_=now,
            ),
        },
    ).returning(_counters.c.last_display_id, _counters.c.last_created_at)
