"""The customer's activity log: one entry per change, written with the change, never edited.

Services call ``record`` inside the transaction of the change they describe, so an entry
exists exactly when its change committed. ``list_activity`` is the read side
(SPEC §7.6): newest first, with the standard created_at cursor. Entries' created_at
values are unique per workspace (core/sequences.py), so that cursor is exact, and the
query walks the (customer_id, created_at) index from either end at the same cost.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Row, insert, select

from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import not_found
from pivotal.core.lookup import ref_condition
from pivotal.core.pagination import PageParams, page_of
from pivotal.db import tables
from pivotal.db.engine import fetch

activity = tables.activity
customers = tables.customers


def _same(a: Any, b: Any) -> bool:
    # Compared as JSON, not with ==: in Python 1 == 1.0 == True and dicts ignore key
    # order, while the API shows 1, 1.0 and true, and metadata in its stored key order.
    return a is b or orjson.dumps(a) == orjson.dumps(b)


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for every field whose API value differs."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if name != "updated_at" and not _same(before.get(name), value)
    }


# Statements that run on every change are built once; values travel as parameters.
_INSERT = insert(activity)


def record(
    tx: Tx,
    *,
    customer_id: str,
    event_type: str,
    target_type: str,
    target_id: str,
    changes: dict[str, Any] | None = None,
) -> None:
    created_at = sequences.created_at(tx, "activity")
    fetch(
        tx.conn,
        _INSERT,
        {
            "id": ids.prefixed("act"),
            "workspace_id": tx.workspace_id,
            "customer_id": customer_id,
            "actor": tx.actor.name,
            "actor_type": tx.actor.type,
            "livemode": tx.actor.livemode,
            "event_type": event_type,
            "target_type": target_type,
            "target_id": target_id,
            "changes": orjson.dumps(changes).decode() if changes is not None else None,
            "created_at": created_at,
        },
    )


def render(row: Row[Any]) -> dict[str, Any]:
    """An activity entry as the API returns it."""
    return {
        "object": "activity",
        "id": row.id,
        "customer_id": row.customer_id,
        "actor": row.actor,
        "actor_type": row.actor_type,
        "livemode": bool(row.livemode),
        "event_type": row.event_type,
        "target_type": row.target_type,
        "target_id": row.target_id,
        "changes": orjson.loads(row.changes) if row.changes is not None else None,
        "created_at": clock.iso(row.created_at),
    }


def list_activity(tx: Tx, customer_ref: str, page: PageParams) -> dict[str, Any]:
    """One page of a live customer's activity, newest first, or 404 ``customer_not_found``.

    The customer is looked up here rather than through customers.service, which imports
    this module to record its own entries.
    """
    customer_id = tx.conn.execute(
        select(customers.c.id).where(
            ref_condition(customers, tx.workspace_id, customer_ref),
            customers.c.deleted_at.is_(None),
        )
    ).scalar()
    if customer_id is None:
        raise not_found("customer")
    query = select(activity).where(activity.c.customer_id == customer_id)
    return page_of(tx.conn, query, activity.c.created_at, page, render)
