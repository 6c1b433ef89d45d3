"""Webhook endpoints, their deliveries, and the events API (SPEC §8.1, §8.2)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import Row, insert, select, update

from pivotal.config import Settings
from pivotal.core import clock, crypto, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import InvalidRequest, not_found
from pivotal.core.pagination import PageParams, page_of
from pivotal.db import tables
from pivotal.db.engine import Record, mapping
from pivotal.webhooks import events, signing
from pivotal.webhooks.schemas import EndpointCreate, EndpointUpdate
from pivotal.webhooks.urls import validate_endpoint_url

endpoints = tables.webhook_endpoints
deliveries = tables.webhook_deliveries
attempts = tables.webhook_attempts
events_table = tables.events
SECRET_OVERLAP_US = 24 * 3600 * clock.MICROS_PER_SECOND
EVENT_RETENTION_US = 30 * 24 * 3600 * clock.MICROS_PER_SECOND


def render_endpoint(row: Row[Any], secret: str | None = None) -> dict[str, Any]:
    body = {
        "object": "webhook_endpoint",
        "id": row.id,
        "url": row.url,
        "enabled_events": orjson.loads(row.enabled_events),
        "description": row.description,
        "livemode": bool(row.livemode),
        "disabled": bool(row.disabled),
        "disabled_reason": row.disabled_reason,
        "created_at": clock.iso(row.created_at),
        "updated_at": clock.iso(row.updated_at),
    }
    if secret is not None:
        body["secret"] = secret  # shown only when created or rotated
    return body


def vet_url(settings: Settings, url: str) -> str:
    """The URL rules and the SSRF guard. Called before the transaction opens: a DNS
    lookup must not hold the database's write lock."""
    return validate_endpoint_url(
        url,
        allow_http=settings.webhooks_allow_http,
        allow_private=settings.webhooks_allow_private,
    )


def find_endpoint(tx: Tx, endpoint_id: str, *, for_update: bool = False) -> Record:
    if not ids.storable(endpoint_id):
        raise not_found("webhook_endpoint")
    query = select(endpoints).where(
        endpoints.c.workspace_id == tx.workspace_id,
        endpoints.c.id == endpoint_id,
        endpoints.c.deleted_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    row = tx.conn.execute(query).first()
    if row is None:
        raise not_found("webhook_endpoint")
    return row


def create_endpoint(tx: Tx, server_secret: bytes, data: EndpointCreate, url: str) -> dict[str, Any]:
    """Create an endpoint for ``url`` (already vetted by ``vet_url``)."""
    secret = signing.generate_secret()
    _, created_at = sequences.allocate(tx.conn, tx.workspace_id, "webhook_endpoint", tx.now)
    row = tx.conn.execute(
        insert(endpoints)
        .values(
            id=ids.prefixed("ep"),
            workspace_id=tx.workspace_id,
            url=url,
            description=data.description,
            enabled_events=orjson.dumps(list(dict.fromkeys(data.enabled_events))).decode(),
            livemode=tx.actor.livemode,
            disabled=False,
            secret=crypto.seal(server_secret, secret),
            consecutive_failures=0,
            created_at=created_at,
            updated_at=created_at,
        )
        .returning(endpoints)
    ).one()
    endpoint = render_endpoint(row)
    events.emit(tx, "webhook.ping", endpoint, only_endpoint=row.id)
    return {**endpoint, "secret": secret}


def list_endpoints(tx: Tx, page: PageParams) -> dict[str, Any]:
    query = select(endpoints).where(
        endpoints.c.workspace_id == tx.workspace_id, endpoints.c.deleted_at.is_(None)
    )
    return page_of(tx.conn, query, endpoints.c.created_at, page, render_endpoint)


def get_endpoint(tx: Tx, endpoint_id: str) -> dict[str, Any]:
    return render_endpoint(find_endpoint(tx, endpoint_id))


def update_endpoint(
    tx: Tx, endpoint_id: str, data: EndpointUpdate, url: str | None
) -> dict[str, Any]:
    """Apply the fields sent; ``url``, when sent, was vetted by ``vet_url``."""
    row = find_endpoint(tx, endpoint_id, for_update=True)
    sent = data.sent()
    values: dict[str, Any] = {}
    if url is not None:
        values["url"] = url
    if "enabled_events" in sent:
        values["enabled_events"] = orjson.dumps(
            list(dict.fromkeys(sent["enabled_events"]))
        ).decode()
    if "description" in sent:
        values["description"] = sent["description"]
    if "disabled" in sent:
        values["disabled"] = sent["disabled"]
        if not sent["disabled"]:
            # Switched back on by a person: the failure streak starts over.
            values["disabled_reason"] = None
            values["consecutive_failures"] = 0
        elif not row.disabled:
            values["disabled_reason"] = "disabled through the API"
    current = mapping(row)
    changed = {k: v for k, v in values.items() if current[k] != v}
    if not changed:
        return render_endpoint(row)
    changed["updated_at"] = max(tx.now, row.updated_at + 1)
    new_row = tx.conn.execute(
        update(endpoints).where(endpoints.c.id == row.id).values(changed).returning(endpoints)
    ).one()
    return render_endpoint(new_row)


def delete_endpoint(tx: Tx, endpoint_id: str) -> dict[str, Any]:
    if not ids.storable(endpoint_id):
        raise not_found("webhook_endpoint")
    query = select(endpoints).where(
        endpoints.c.workspace_id == tx.workspace_id, endpoints.c.id == endpoint_id
    )
    row = tx.conn.execute(query).first()
    if row is None:
        raise not_found("webhook_endpoint")
    if row.deleted_at is None:
        tx.conn.execute(update(endpoints).where(endpoints.c.id == row.id).values(deleted_at=tx.now))
    return {"object": "deleted", "id": row.id, "deleted": True}


def rotate_secret(tx: Tx, server_secret: bytes, endpoint_id: str) -> dict[str, Any]:
    """A new secret; every replaced one keeps signing beside it for 24 hours."""
    row = find_endpoint(tx, endpoint_id, for_update=True)
    secret = signing.generate_secret()
    retiring = [
        *_previous_secrets(row, server_secret, tx.now),
        {
            "secret": crypto.unseal(server_secret, row.secret),
            "expires_at": tx.now + SECRET_OVERLAP_US,
        },
    ]
    new_row = tx.conn.execute(
        update(endpoints)
        .where(endpoints.c.id == row.id)
        .values(
            secret=crypto.seal(server_secret, secret),
            previous_secret=crypto.seal(server_secret, orjson.dumps(retiring).decode()),
            previous_secret_expires_at=max(item["expires_at"] for item in retiring),
            updated_at=max(tx.now, row.updated_at + 1),
        )
        .returning(endpoints)
    ).one()
    return render_endpoint(new_row, secret)


def _previous_secrets(row: Any, server_secret: bytes, now: int) -> list[dict[str, Any]]:
    """Replaced secrets still inside their 24-hour overlap."""
    if not row.previous_secret or (row.previous_secret_expires_at or 0) <= now:
        return []
    retiring = orjson.loads(crypto.unseal(server_secret, row.previous_secret))
    return [item for item in retiring if item["expires_at"] > now]


def active_secrets(row: Any, server_secret: bytes, now: int) -> list[str]:
    """The secrets that sign a delivery now: the current one, and every replaced one
    during its 24-hour overlap."""
    current = crypto.unseal(server_secret, row.secret)
    return [current, *(item["secret"] for item in _previous_secrets(row, server_secret, now))]


def render_deliveries(conn: Any, rows: list[Row[Any]]) -> list[dict[str, Any]]:
    """Deliveries with their attempts, in one extra query for the whole page."""
    by_delivery: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if rows:
        for attempt in conn.execute(
            select(attempts)
            .where(attempts.c.delivery_id.in_([r.id for r in rows]))
            .order_by(attempts.c.attempted_at, attempts.c.id)
        ):
            by_delivery[attempt.delivery_id].append(
                {
                    "attempted_at": clock.iso(attempt.attempted_at),
                    "status_code": attempt.status_code,
                    "duration_ms": attempt.duration_ms,
                    "error": attempt.error,
                }
            )
    return [
        {
            "object": "webhook_delivery",
            "id": row.id,
            "endpoint_id": row.endpoint_id,
            "event_id": row.event_id,
            "event_type": row.event_type,
            "status": row.status,
            "attempts": by_delivery[row.id],
            "next_attempt_at": clock.iso(row.next_attempt_at) if row.status == "pending" else None,
            "created_at": clock.iso(row.created_at),
        }
        for row in rows
    ]


def list_deliveries(tx: Tx, endpoint_id: str, page: PageParams) -> dict[str, Any]:
    endpoint = find_endpoint(tx, endpoint_id)
    query = select(deliveries).where(deliveries.c.endpoint_id == endpoint.id)
    result = page_of(tx.conn, query, deliveries.c.created_at, page, lambda row: row)
    result["data"] = render_deliveries(tx.conn, result["data"])
    return result


def replay_delivery(tx: Tx, delivery_id: str) -> dict[str, Any]:
    """A new delivery of the same event (same event id and body) to the same endpoint."""
    if not ids.storable(delivery_id):
        raise not_found("webhook_delivery")
    original = tx.conn.execute(
        select(deliveries).where(
            deliveries.c.workspace_id == tx.workspace_id, deliveries.c.id == delivery_id
        )
    ).first()
    if original is None:
        raise not_found("webhook_delivery")
    endpoint = find_endpoint(tx, original.endpoint_id)
    if bool(endpoint.livemode) != tx.actor.livemode:
        # Test keys never cause live outbound traffic (SPEC §2.2), and vice versa.
        mode = "live" if endpoint.livemode else "test"
        raise InvalidRequest(
            "livemode_mismatch",
            f"This delivery goes to a {mode} endpoint; replay it with a {mode} key.",
        )
    _, created_at = sequences.allocate(tx.conn, tx.workspace_id, "event", tx.now)
    row = tx.conn.execute(
        insert(deliveries)
        .values(
            id=ids.prefixed("msg"),
            workspace_id=tx.workspace_id,
            endpoint_id=original.endpoint_id,
            event_id=original.event_id,
            event_type=original.event_type,
            status="pending",
            attempt_count=0,
            next_attempt_at=created_at,
            created_at=created_at,
            updated_at=created_at,
        )
        .returning(deliveries)
    ).one()
    return render_deliveries(tx.conn, [row])[0]


def _render_event(row: Row[Any]) -> dict[str, Any]:
    return dict(orjson.loads(row.payload))


def list_events(
    tx: Tx, page: PageParams, event_type: str | None, created_after: int | None
) -> dict[str, Any]:
    horizon = tx.now - EVENT_RETENTION_US
    query = select(events_table).where(
        events_table.c.workspace_id == tx.workspace_id,
        events_table.c.created_at
        > max(horizon, created_after if created_after is not None else horizon),
    )
    if event_type is not None:
        query = query.where(events_table.c.type == event_type)
    return page_of(tx.conn, query, events_table.c.created_at, page, _render_event)


def get_event(tx: Tx, event_id: str) -> dict[str, Any]:
    if not ids.storable(event_id):
        raise not_found("event")
    row = tx.conn.execute(
        select(events_table).where(
            events_table.c.workspace_id == tx.workspace_id,
            events_table.c.id == event_id,
            events_table.c.created_at > tx.now - EVENT_RETENTION_US,
        )
    ).first()
    if row is None:
        raise not_found("event")
    return _render_event(row)
