"""Customer rules and queries (SPEC §7.2). Every query is filtered by the workspace here."""

from __future__ import annotations

import re
import unicodedata
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import Row, and_, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from pivotal.activity import service as activity
from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import Conflict
from pivotal.core.lookup import PointLookup, find_one
from pivotal.core.pagination import PageParams, page_of
from pivotal.customers.schemas import CustomerCreate, CustomerUpdate
from pivotal.db import tables
from pivotal.db.engine import Record, fetch, mapping
from pivotal.integrations import service as integrations
from pivotal.webhooks import events

customers = tables.customers
SLUG_MAX = 120
# An event beside customer.updated when the status becomes one of these.
STATUS_EVENTS = {
    "archived": "customer.archived",
    "at_risk": "customer.at_risk",
    "churned": "customer.churned",
}


_RENDERED = (
    "id",
    "display_id",
    "name",
    "slug",
    "domain",
    "status",
    "plan",
    "mrr",
    "monthly_orders",
    "hubspot_company_id",
    "hubspot_deal_id",
    "stripe_customer_id",
    "intercom_company_id",
    "slack_channel_id",
    "metadata",
    "created_at",
    "updated_at",
)
_TABLE_ORDER = tuple(column.name for column in customers.c)
# A row of select(customers) is read by position: a page renders a hundred of them.
_pick_from_row = itemgetter(*(_TABLE_ORDER.index(name) for name in _RENDERED))
_pick_from_dict = itemgetter(*_RENDERED)


def render(row: Record | dict[str, Any]) -> dict[str, Any]:
    """A customer as the API returns it."""
    if getattr(row, "_fields", None) == _TABLE_ORDER:
        values = _pick_from_row(row)
    else:
        values = _pick_from_dict(mapping(row))
    (
        id_,
        display_id,
        name,
        slug,
        domain,
        status,
        plan,
        mrr,
        monthly_orders,
        hubspot_company_id,
        hubspot_deal_id,
        stripe_customer_id,
        intercom_company_id,
        slack_channel_id,
        metadata,
        created_at,
        updated_at,
    ) = values
    return {
        "object": "customer",
        "id": id_,
        "display_id": display_id,
        "name": name,
        "slug": slug,
        "domain": domain,
        "status": status,
        "plan": plan,
        "mrr": mrr,
        "monthly_orders": monthly_orders,
        "hubspot_company_id": hubspot_company_id,
        "hubspot_deal_id": hubspot_deal_id,
        "stripe_customer_id": stripe_customer_id,
        "intercom_company_id": intercom_company_id,
        "slack_channel_id": slack_channel_id,
        "metadata": orjson.loads(metadata),
        "created_at": clock.iso(created_at),
        "updated_at": clock.iso(updated_at),
    }


def derive_slug(name: str) -> str:
    """Accents folded to ASCII, lowercased, other runs to ``-``, trimmed, cut to 120."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:SLUG_MAX].strip("-")


def _slug_taken(slug: str) -> Conflict:
    return Conflict("slug_taken", f"The slug '{slug}' is already used by another customer.", "slug")


_SLUG_USERS = (
    select(customers.c.id)
    .where(
        customers.c.workspace_id == bindparam("workspace_id"),
        customers.c.slug == bindparam("slug"),
        customers.c.deleted_at.is_(None),
        customers.c.id != bindparam("except_id"),
    )
    .limit(1)
)
_INSERT = insert(customers).returning(customers)
# fetch applies no column defaults: an insert names every column, these unless sent.
_UNSENT = dict.fromkeys((column.name for column in customers.c), None)


def _ensure_slug_free(tx: Tx, slug: str, except_id: str | None = None) -> None:
    params = {"workspace_id": tx.workspace_id, "slug": slug, "except_id": except_id or ""}
    if fetch(tx.conn, _SLUG_USERS, params):
        raise _slug_taken(slug)


# Where GET /customers/{id} looks; the fast lane joins it to admission (core/fastlane.py).
LOOKUP = PointLookup(select(customers), customers, "customer")


def find(tx: Tx, ref: str | int, *, for_update: bool = False, with_deleted: bool = False) -> Record:
    """The customer named by ``ref`` (display id or id), or 404 ``customer_not_found``."""
    return find_one(
        tx,
        LOOKUP.visible,
        LOOKUP.table,
        ref,
        LOOKUP.resource,
        for_update=for_update,
        with_deleted=with_deleted,
    )


def get(tx: Tx, ref: str) -> dict[str, Any]:
    return render(find(tx, ref))


_LIVE_CUSTOMERS = select(customers).where(
    customers.c.workspace_id == bindparam("workspace_id"), customers.c.deleted_at.is_(None)
)


def list_customers(tx: Tx, filters: dict[str, Any], page: PageParams) -> dict[str, Any]:
    query = _LIVE_CUSTOMERS
    for name, value in filters.items():
        if value is not None:
            if name == "domain":
                value = re.sub(r"^https?://", "", value.strip().lower()).rstrip("/")
            query = query.where(customers.c[name] == value)
    params = {"workspace_id": tx.workspace_id}
    prebuilt = query is _LIVE_CUSTOMERS  # the unfiltered list, by far the most asked for
    return page_of(tx.conn, query, customers.c.created_at, page, render, params, prebuilt=prebuilt)


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    """API values to column values (JSON fields become text)."""
    if "metadata" in values:
        values = {**values, "metadata": orjson.dumps(values["metadata"]).decode()}
    return values


def create(tx: Tx, data: CustomerCreate) -> dict[str, Any]:
    # The slug is checked before the counters are taken: they stay locked until commit,
    # and every other write of the workspace waits on them. (The listening webhook
    # endpoints are read after: an endpoint whose ping is older than our event must
    # receive it.)
    slug = data.slug or derive_slug(data.name)
    if slug:
        _ensure_slug_free(tx, slug)
    status = data.status or "active"
    display_id, created_at = sequences.reserve(
        tx, "customer", {"event": 1 + (status in STATUS_EVENTS), "activity": 1}
    )
    if not slug:
        slug = f"customer-{display_id}"
        _ensure_slug_free(tx, slug)
    values = {
        **_UNSENT,
        **_stored(data.sent()),
        "id": ids.cuid(),
        "workspace_id": tx.workspace_id,
        "display_id": display_id,
        "slug": slug,
        "status": status,
        "metadata": orjson.dumps(data.metadata or {}).decode(),
        "created_at": created_at,
        "updated_at": created_at,
    }
    try:
        (row,) = fetch(tx.conn, _INSERT, values)
    except IntegrityError as exc:
        raise _slug_taken(slug) from exc
    customer = render(row)
    events.emit(tx, "customer.created", customer)
    activity.record(
        tx,
        customer_id=row.id,
        event_type="customer.created",
        target_type="customer",
        target_id=row.id,
    )
    if customer["status"] in STATUS_EVENTS:
        events.emit(tx, STATUS_EVENTS[customer["status"]], customer)
    integrations.on_customer_change(tx, customer, None)
    return customer


def update_customer(tx: Tx, ref: str, data: CustomerUpdate) -> dict[str, Any]:
    row = find(tx, ref, for_update=True)
    before = render(row)
    sent = _stored(data.sent())
    current = mapping(row)
    changed = {name: value for name, value in sent.items() if current[name] != value}
    if not changed:
        return before
    if "slug" in changed:
        _ensure_slug_free(tx, changed["slug"], except_id=row.id)
    changed["updated_at"] = max(tx.now, row.updated_at + 1)
    try:
        new_row = tx.conn.execute(
            update(customers).where(customers.c.id == row.id).values(changed).returning(customers)
        ).one()
    except IntegrityError as exc:
        raise _slug_taken(changed["slug"]) from exc
    after = render(new_row)
    changes = activity.changed_fields(before, after)
    previous = {name: change["from"] for name, change in changes.items()}
    events.emit(tx, "customer.updated", after, previous)
    if "status" in changes and after["status"] in STATUS_EVENTS:
        events.emit(tx, STATUS_EVENTS[after["status"]], after, {"status": before["status"]})
    activity.record(
        tx,
        customer_id=row.id,
        event_type="customer.updated",
        target_type="customer",
        target_id=row.id,
        changes=changes,
    )
    integrations.on_customer_change(tx, after, set(changes))
    return after


def deleted_body(row: Row[Any]) -> dict[str, Any]:
    return {"object": "deleted", "id": row.id, "display_id": row.display_id, "deleted": True}


def delete(tx: Tx, ref: str) -> dict[str, Any]:
    """Soft delete; deleting again answers the same body. Children are hidden with it."""
    row = find(tx, ref, for_update=True, with_deleted=True)
    if row.deleted_at is None:
        tx.conn.execute(
            update(customers)
            .where(and_(customers.c.id == row.id, customers.c.deleted_at.is_(None)))
            .values(deleted_at=tx.now)
        )
        events.emit(tx, "customer.deleted", render(row))
        activity.record(
            tx,
            customer_id=row.id,
            event_type="customer.deleted",
            target_type="customer",
            target_id=row.id,
        )
    return deleted_body(row)
