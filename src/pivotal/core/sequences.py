"""Display ids and creation times, allocated per workspace and resource type."""

from __future__ import annotations

from sqlalchemy import Connection, case, literal
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from pivotal.db import tables

_counters = tables.display_counters


def allocate(conn: Connection, workspace_id: str, resource: str, now: int) -> tuple[int, int]:
    """The next (display_id, created_at) for ``resource`` in the workspace.

    One upsert on the workspace's counter row: it locks that row until the transaction
    ends, so concurrent creates queue up, display ids come out strictly increasing and
    never reused, and created_at is unique and increasing (a tie is bumped by 1 us) —
    which is what makes cursor pagination exact.
    """
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    insert = dialect_insert(_counters).values(
        workspace_id=workspace_id, resource=resource, last_display_id=1, last_created_at=now
    )
    stmt = insert.on_conflict_do_update(
        index_elements=[_counters.c.workspace_id, _counters.c.resource],
        set_={
            "last_display_id": _counters.c.last_display_id + 1,
            "last_created_at": case(
                (_counters.c.last_created_at >= literal(now), _counters.c.last_created_at + 1),
                else_=literal(now),
            ),
        },
    ).returning(_counters.c.last_display_id, _counters.c.last_created_at)
    display_id, created_at = conn.execute(stmt).one()
    return int(display_id), int(created_at)
