"""The transactional outbox: events are written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import insert

from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.db import tables

API_VERSION = "v1"


def emit(
    tx: Tx,
    event_type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None = None,
) -> str:
    """Write one event carrying the full resource as the API returns it; returns its id."""
    event_id = ids.prefixed("evt")
    _, created_at = sequences.allocate(tx.conn, tx.workspace_id, "event", tx.now)
    envelope = {
        "id": event_id,
        "type": event_type,
        "created_at": clock.iso(created_at),
        "org_id": tx.workspace_id,
        "livemode": tx.actor.livemode,
        "api_version": API_VERSION,
        "data": {"object": obj, "previous_attributes": previous_attributes},
    }
    tx.conn.execute(
        insert(tables.events).values(
            id=event_id,
            workspace_id=tx.workspace_id,
            type=event_type,
            livemode=tx.actor.livemode,
            created_at=created_at,
            payload=orjson.dumps(envelope).decode(),
        )
    )
    return event_id
