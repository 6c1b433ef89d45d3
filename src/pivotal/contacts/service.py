"""Contact rules and queries (SPEC §7.3): unique email per customer, one primary contact."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from sqlalchemy import case, insert, select, update
from sqlalchemy.exc import IntegrityError

from pivotal.activity import service as activity
from pivotal.contacts.schemas import ContactCreate, ContactUpdate
from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import Conflict
from pivotal.core.lookup import find_one
from pivotal.core.pagination import PageParams, page_of
from pivotal.customers import service as customers_service
from pivotal.db import tables
from pivotal.db.engine import Record, mapping
from pivotal.webhooks import events

contacts = tables.contacts
customers = tables.customers


def render(row: Record | dict[str, Any]) -> dict[str, Any]:
    """A contact as the API returns it."""
    r = mapping(row)
    return {
        "object": "contact",
        "id": r["id"],
        "display_id": r["display_id"],
        "customer_id": r["customer_id"],
        "name": r["name"],
        "email": r["email"],
        "title": r["title"],
        "phone": r["phone"],
        "is_primary": bool(r["is_primary"]),
        "labels": orjson.loads(r["labels"]),
        "metadata": orjson.loads(r["metadata"]),
        "created_at": clock.iso(r["created_at"]),
        "updated_at": clock.iso(r["updated_at"]),
    }


@cache  # one immutable statement, so lookups reuse its compiled form
def _live_contacts() -> Any:
    """Contacts whose customer is live: a deleted customer hides its contacts everywhere."""
    return (
        select(contacts)
        .join(customers, customers.c.id == contacts.c.customer_id)
        .where(customers.c.deleted_at.is_(None))
    )


def find(tx: Tx, ref: str, *, for_update: bool = False, with_deleted: bool = False) -> Record:
    """The contact named by ``ref`` (display id or id), or 404 ``contact_not_found``."""
    return find_one(
        tx,
        _live_contacts(),
        contacts,
        ref,
        "contact",
        for_update=for_update,
        with_deleted=with_deleted,
    )


def get(tx: Tx, ref: str) -> dict[str, Any]:
    return render(find(tx, ref))


def list_contacts(
    tx: Tx, customer_ref: str, email: str | None, is_primary: bool | None, page: PageParams
) -> dict[str, Any]:
    customer = customers_service.find(tx, customer_ref)
    query = select(contacts).where(
        contacts.c.customer_id == customer.id, contacts.c.deleted_at.is_(None)
    )
    if email is not None:
        query = query.where(contacts.c.email == email.strip().lower())
    if is_primary is not None:
        query = query.where(contacts.c.is_primary == is_primary)
    return page_of(tx.conn, query, contacts.c.created_at, page, render)


def _email_taken(email: str) -> Conflict:
    return Conflict("email_taken", f"A contact of this customer already uses {email}.", "email")


def _ensure_email_free(tx: Tx, customer_id: str, email: str, except_id: str | None = None) -> None:
    query = select(contacts.c.id).where(
        contacts.c.customer_id == customer_id,
        contacts.c.email == email,
        contacts.c.deleted_at.is_(None),
    )
    if except_id is not None:
        query = query.where(contacts.c.id != except_id)
    if tx.conn.execute(query.limit(1)).first() is not None:
        raise _email_taken(email)


def _lock_customer(tx: Tx, customer_id: str) -> None:
    """Queue the transactions that make a contact of this customer primary.

    Without it, two concurrent requests promoting two contacts each clear the others
    under their own snapshot (PostgreSQL, read committed) and both commit: two primaries.
    Every such transaction takes this lock before any contact row lock, so the order is
    the same everywhere. ``NO KEY UPDATE`` leaves concurrent inserts of children (which
    take ``KEY SHARE`` on the customer through their foreign key) unblocked. SQLite
    already runs one writer at a time and ignores it.
    """
    tx.conn.execute(
        select(customers.c.id).where(customers.c.id == customer_id).with_for_update(key_share=True)
    ).first()


def _clear_other_primaries(tx: Tx, customer_id: str, keep_id: str) -> None:
    """At most one primary per customer: the others lose the flag in the same transaction."""
    cleared = tx.conn.execute(
        update(contacts)
        .where(
            contacts.c.customer_id == customer_id,
            contacts.c.id != keep_id,
            contacts.c.is_primary.is_(True),
            contacts.c.deleted_at.is_(None),
        )
        .values(
            is_primary=False,
            # updated_at only ever moves forward, even within one microsecond.
            updated_at=case(
                (contacts.c.updated_at >= tx.now, contacts.c.updated_at + 1), else_=tx.now
            ),
        )
        .returning(contacts)
    ).all()
    for row in cleared:
        after = render(row)
        events.emit(tx, "contact.updated", after, {"is_primary": True})
        activity.record(
            tx,
            customer_id=customer_id,
            event_type="contact.updated",
            target_type="contact",
            target_id=row.id,
            changes={"is_primary": {"from": True, "to": False}},
        )


def _stored(values: dict[str, Any]) -> dict[str, Any]:
    return {
        name: orjson.dumps(value).decode() if name in ("labels", "metadata") else value
        for name, value in values.items()
    }


def create(tx: Tx, customer_ref: str, data: ContactCreate) -> dict[str, Any]:
    customer = customers_service.find(tx, customer_ref)
    if data.is_primary:
        _lock_customer(tx, customer.id)
    _ensure_email_free(tx, customer.id, data.email)
    display_id, created_at = sequences.allocate(tx.conn, tx.workspace_id, "contact", tx.now)
    contact_id = ids.cuid()
    values = {
        "labels": "[]",
        "metadata": "{}",
        "is_primary": False,
        **_stored(data.sent()),
        "id": contact_id,
        "workspace_id": tx.workspace_id,
        "customer_id": customer.id,
        "display_id": display_id,
        "created_at": created_at,
        "updated_at": created_at,
    }
    if values["is_primary"]:
        _clear_other_primaries(tx, customer.id, contact_id)
    try:
        row = tx.conn.execute(insert(contacts).values(values).returning(contacts)).one()
    except IntegrityError as exc:
        raise _email_taken(data.email) from exc
    contact = render(row)
    events.emit(tx, "contact.created", contact)
    activity.record(
        tx,
        customer_id=customer.id,
        event_type="contact.created",
        target_type="contact",
        target_id=contact_id,
    )
    return contact


def update_contact(tx: Tx, ref: str, data: ContactUpdate) -> dict[str, Any]:
    if data.is_primary:
        _lock_customer(tx, find(tx, ref).customer_id)  # before the contact's own row lock
    row = find(tx, ref, for_update=True)
    before = render(row)
    sent = _stored(data.sent())
    current = mapping(row)
    changed = {name: value for name, value in sent.items() if current[name] != value}
    if not changed:
        return before
    if "email" in changed:
        _ensure_email_free(tx, row.customer_id, changed["email"], except_id=row.id)
    if changed.get("is_primary"):
        _clear_other_primaries(tx, row.customer_id, row.id)
    changed["updated_at"] = max(tx.now, row.updated_at + 1)
    try:
        new_row = tx.conn.execute(
            update(contacts).where(contacts.c.id == row.id).values(changed).returning(contacts)
        ).one()
    except IntegrityError as exc:
        raise _email_taken(changed.get("email", row.email)) from exc
    after = render(new_row)
    changes = activity.changed_fields(before, after)
    events.emit(tx, "contact.updated", after, {k: c["from"] for k, c in changes.items()})
    activity.record(
        tx,
        customer_id=row.customer_id,
        event_type="contact.updated",
        target_type="contact",
        target_id=row.id,
        changes=changes,
    )
    return after


def delete(tx: Tx, ref: str) -> dict[str, Any]:
    row = find(tx, ref, for_update=True, with_deleted=True)
    if row.deleted_at is None:
        tx.conn.execute(update(contacts).where(contacts.c.id == row.id).values(deleted_at=tx.now))
        events.emit(tx, "contact.deleted", render(row))
        activity.record(
            tx,
            customer_id=row.customer_id,
            event_type="contact.deleted",
            target_type="contact",
            target_id=row.id,
        )
    return customers_service.deleted_body(row)
