"""The customer's activity log: one entry per change, written with the change, never edited."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert

from pivotal.core import ids, sequences
from pivotal.core.context import Tx
from pivotal.db import tables


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{field: {"from": old, "to": new}}`` for every field whose API value differs."""
    return {
        name: {"from": before.get(name), "to": value}
        for name, value in after.items()
        if name != "updated_at" and before.get(name) != value
    }


def record(
    tx: Tx,
    *,
    customer_id: str,
    event_type: str,
    target_type: str,
    target_id: str,
    changes: dict[str, Any] | None = None,
) -> None:
    _, created_at = sequences.allocate(tx.conn, tx.workspace_id, "activity", tx.now)
    tx.conn.execute(
        insert(tables.activity).values(
            id=ids.prefixed("act"),
            workspace_id=tx.workspace_id,
            customer_id=customer_id,
            actor=tx.actor.name,
            actor_type=tx.actor.type,
            livemode=tx.actor.livemode,
            event_type=event_type,
            target_type=target_type,
            target_id=target_id,
            changes=orjson.dumps(changes).decode() if changes is not None else None,
            created_at=created_at,
        )
    )
