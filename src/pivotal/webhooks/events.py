"""The transactional outbox: events are written in the same transaction as the change,
and so are their deliveries to every subscribed endpoint of the same mode."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select

from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.db import tables
from pivotal.db.engine import fetch

API_VERSION = "v1"
EVENT_TYPES = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "customer.archived",
    "customer.at_risk",
    "customer.churned",
    "contact.created",
    "contact.updated",
    "contact.deleted",
    "onboarding.created",
    "onboarding.updated",
    "onboarding.deleted",
    "onboarding.phase_changed",
    "onboarding.state_changed",
    "onboarding.at_risk",
    "onboarding.back_on_track",
    "onboarding.launched",
    "onboarding.completed",
    "task.created",
    "task.updated",
    "task.completed",
    "task.deleted",
    "webhook.ping",
)
_endpoints = tables.webhook_endpoints


# Every change runs these: built once, values travel as parameters.
_INSERT_EVENT = insert(tables.events)
_INSERT_DELIVERIES = insert(tables.webhook_deliveries)
_LISTENING = select(_endpoints.c.id, _endpoints.c.enabled_events).where(
    _endpoints.c.workspace_id == bindparam("workspace_id"),
    _endpoints.c.livemode == bindparam("livemode"),
    _endpoints.c.disabled.is_(False),
    _endpoints.c.deleted_at.is_(None),
)
_LISTENING_ONE = _LISTENING.where(_endpoints.c.id == bindparam("endpoint_id"))


def emit(
    tx: Tx,
    event_type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None = None,
    *,
    only_endpoint: str | None = None,
) -> str:
    """Write one event carrying the full resource as the API returns it; returns its id.

    Deliveries go to the workspace's enabled endpoints of the event's mode that listen
    to this type (``only_endpoint`` narrows that to one, for ``webhook.ping``).
    """
    event_id = ids.prefixed("evt")
    created_at = sequences.created_at(tx, "event")
    envelope = {
        "object": "event",
        "id": event_id,
        "type": event_type,
        "created_at": clock.iso(created_at),
        "org_id": tx.workspace_id,
        "livemode": tx.actor.livemode,
        "api_version": API_VERSION,
        "data": {"object": obj, "previous_attributes": previous_attributes},
    }
    fetch(
        tx.conn,
        _INSERT_EVENT,
        {
            "id": event_id,
            "workspace_id": tx.workspace_id,
            "type": event_type,
            "livemode": tx.actor.livemode,
            "created_at": created_at,
            "payload": orjson.dumps(envelope).decode(),
        },
    )
    _fan_out(tx, event_id, event_type, created_at, only_endpoint)
    return event_id


def _fan_out(
    tx: Tx, event_id: str, event_type: str, created_at: int, only_endpoint: str | None
) -> None:
    params = {"workspace_id": tx.workspace_id, "livemode": tx.actor.livemode}
    if only_endpoint is None:
        endpoints = fetch(tx.conn, _LISTENING, params)
    else:
        endpoints = fetch(tx.conn, _LISTENING_ONE, {**params, "endpoint_id": only_endpoint})
    rows = [
        {
            "id": ids.prefixed("msg"),
            "workspace_id": tx.workspace_id,
            "endpoint_id": endpoint.id,
            "event_id": event_id,
            "event_type": event_type,
            "status": "pending",
            "attempt_count": 0,
            "next_attempt_at": created_at,
            "created_at": created_at,
            "updated_at": created_at,
        }
        for endpoint in endpoints
        if only_endpoint is not None or subscribed(endpoint.enabled_events, event_type)
    ]
    if rows:
        tx.conn.execute(_INSERT_DELIVERIES, rows)


def subscribed(enabled_events: str, event_type: str) -> bool:
    listening = orjson.loads(enabled_events)
    return "*" in listening or event_type in listening
