"""Onboarding rules (SPEC §7.4): phases, the waiting/state pairing, transitions, events."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, insert, select, update

from pivotal.activity import service as activity
from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import InvalidRequest
from pivotal.core.lookup import find_one, ref_condition
from pivotal.core.pagination import PageParams, page_of
from pivotal.customers import service as customers_service
from pivotal.db import tables
from pivotal.db.engine import Record, mapping
from pivotal.integrations import service as integrations
from pivotal.onboardings.schemas import OnboardingCreate, OnboardingUpdate
from pivotal.webhooks import events

onboardings = tables.onboardings
customers = tables.customers
transitions = tables.phase_transitions
PHASE_EVENTS = {"launch": "onboarding.launched", "completed": "onboarding.completed"}


def render(row: Record | dict[str, Any]) -> dict[str, Any]:
    """An onboarding as the API returns it."""
    r = mapping(row)
    return {
        "object": "onboarding",
        "id": r["id"],
        "display_id": r["display_id"],
        "customer_id": r["customer_id"],
        "name": r["name"],
        "template_id": r["template_id"],
        "phase": r["phase"],
        "state": r["state"],
        "waiting_on_customer": bool(r["waiting_on_customer"]),
        "started_at": clock.iso(r["started_at"]),
        "completed_at": clock.iso(r["completed_at"]),
        "target_launch_date": clock.iso(r["target_launch_date"]),
        "csm_id": r["csm_id"],
        "se_id": r["se_id"],
        "designer_id": r["designer_id"],
        "product_ops_id": r["product_ops_id"],
        "notes": r["notes"],
        "reminders_enabled": bool(r["reminders_enabled"]),
        "reminder_frequency_days": r["reminder_frequency_days"],
        "metadata": orjson.loads(r["metadata"]),
        "created_at": clock.iso(r["created_at"]),
        "updated_at": clock.iso(r["updated_at"]),
    }


def render_transition(row: Row[Any]) -> dict[str, Any]:
    return {
        "object": "phase_transition",
        "id": row.id,
        "onboarding_id": row.onboarding_id,
        "from": row.from_phase,
        "to": row.to_phase,
        "actor": row.actor,
        "livemode": bool(row.livemode),
        "created_at": clock.iso(row.created_at),
    }


def resolve_state(
    current_state: str, current_waiting: bool, sent: dict[str, Any]
) -> tuple[str, bool]:
    """Apply the rule ``state == "waiting"`` exactly when ``waiting_on_customer``."""
    state, waiting = sent.get("state"), sent.get("waiting_on_customer")
    if state is not None and waiting is not None and (state == "waiting") != waiting:
        raise InvalidRequest(
            "conflicting_fields",
            "state and waiting_on_customer disagree: state is 'waiting' exactly when "
            "waiting_on_customer is true.",
        )
    if state is not None:
        return state, state == "waiting"
    if waiting is True:
        return "waiting", True
    if waiting is False and current_state == "waiting":
        return "active", False
    return current_state, current_waiting


@cache  # one immutable statement, so lookups reuse its compiled form
def _live_onboardings() -> Any:
    """Onboardings whose customer is live: a deleted customer hides them everywhere."""
    return (
        select(onboardings)
        .join(customers, customers.c.id == onboardings.c.customer_id)
        .where(customers.c.deleted_at.is_(None))
    )


def find(tx: Tx, ref: str, *, for_update: bool = False, with_deleted: bool = False) -> Record:
    """The onboarding named by ``ref`` (display id or id), or 404 ``onboarding_not_found``."""
    return find_one(
        tx,
        _live_onboardings(),
        onboardings,
        ref,
        "onboarding",
        for_update=for_update,
        with_deleted=with_deleted,
    )


def get(tx: Tx, ref: str) -> dict[str, Any]:
    return render(find(tx, ref))


def list_onboardings(
    tx: Tx,
    page: PageParams,
    *,
    customer_ref: str | None = None,
    customer_must_exist: bool = False,
    phase: str | None = None,
    state: str | None = None,
) -> dict[str, Any]:
    query = _live_onboardings().where(
        onboardings.c.workspace_id == tx.workspace_id, onboardings.c.deleted_at.is_(None)
    )
    if customer_ref is not None:
        if customer_must_exist:
            query = query.where(
                onboardings.c.customer_id == customers_service.find(tx, customer_ref).id
            )
        else:
            query = query.where(ref_condition(customers, tx.workspace_id, customer_ref))
    if phase is not None:
        query = query.where(onboardings.c.phase == phase)
    if state is not None:
        query = query.where(onboardings.c.state == state)
    return page_of(tx.conn, query, onboardings.c.created_at, page, render)


def list_transitions(tx: Tx, ref: str, page: PageParams) -> dict[str, Any]:
    onboarding = find(tx, ref)
    query = select(transitions).where(transitions.c.onboarding_id == onboarding.id)
    return page_of(tx.conn, query, transitions.c.created_at, page, render_transition)


def create(tx: Tx, data: OnboardingCreate) -> dict[str, Any]:
    customer = customers_service.find(tx, data.customer_id)
    sent = data.sent()
    sent.pop("customer_id")
    state, waiting = resolve_state("active", False, sent)
    display_id, created_at = sequences.allocate(tx.conn, tx.workspace_id, "onboarding", tx.now)
    phase = sent.get("phase") or "before_getting_started"
    values = {
        "reminders_enabled": True,
        "reminder_frequency_days": 1,
        "started_at": created_at,
        **sent,
        "id": ids.cuid(),
        "workspace_id": tx.workspace_id,
        "customer_id": customer.id,
        "display_id": display_id,
        "phase": phase,
        "state": state,
        "waiting_on_customer": waiting,
        "completed_at": created_at if phase == "completed" else None,
        "metadata": orjson.dumps(sent.get("metadata") or {}).decode(),
        "created_at": created_at,
        "updated_at": created_at,
    }
    row = tx.conn.execute(insert(onboardings).values(values).returning(onboardings)).one()
    onboarding = render(row)
    events.emit(tx, "onboarding.created", onboarding)
    if phase in PHASE_EVENTS:  # created already launched or completed, like customer.at_risk
        events.emit(tx, PHASE_EVENTS[phase], onboarding)
    activity.record(
        tx,
        customer_id=customer.id,
        event_type="onboarding.created",
        target_type="onboarding",
        target_id=row.id,
    )
    return onboarding


# Built once; the SET clause comes from the keys of the parameters each call sends.
_UPDATE = (
    update(onboardings).where(onboardings.c.id == bindparam("target_id")).returning(onboardings)
)
_INSERT_TRANSITION = insert(transitions)


def update_onboarding(tx: Tx, ref: str, data: OnboardingUpdate) -> dict[str, Any]:
    row = find(tx, ref, for_update=True)
    before = render(row)
    sent = data.sent()
    if "metadata" in sent:
        sent["metadata"] = orjson.dumps(sent["metadata"]).decode()
    if "state" in sent or "waiting_on_customer" in sent:
        sent["state"], sent["waiting_on_customer"] = resolve_state(
            row.state, bool(row.waiting_on_customer), sent
        )
    if "phase" in sent and sent["phase"] != row.phase:
        sent["completed_at"] = tx.now if sent["phase"] == "completed" else None
    current = mapping(row)
    changed = {name: value for name, value in sent.items() if current[name] != value}
    if not changed:
        return before
    changed["updated_at"] = max(tx.now, row.updated_at + 1)
    new_row = tx.conn.execute(_UPDATE, {**changed, "target_id": row.id}).one()
    after = render(new_row)
    changes = activity.changed_fields(before, after)
    events.emit(tx, "onboarding.updated", after, {k: c["from"] for k, c in changes.items()})
    activity.record(
        tx,
        customer_id=row.customer_id,
        event_type="onboarding.updated",
        target_type="onboarding",
        target_id=row.id,
        changes=changes,
    )
    if "phase" in changes:
        _record_phase_change(tx, row, after, before["phase"])
    if "state" in changes:
        _record_state_change(tx, after, before["state"])
    return after


def _record_phase_change(tx: Tx, row: Row[Any], after: dict[str, Any], old: str) -> None:
    new = after["phase"]
    _, created_at = sequences.allocate(tx.conn, tx.workspace_id, "phase_transition", tx.now)
    tx.conn.execute(
        _INSERT_TRANSITION,
        {
            "id": ids.prefixed("ptr"),
            "workspace_id": tx.workspace_id,
            "onboarding_id": row.id,
            "from_phase": old,
            "to_phase": new,
            "actor": tx.actor.name,
            "livemode": tx.actor.livemode,
            "created_at": created_at,
        },
    )
    activity.record(
        tx,
        customer_id=row.customer_id,
        event_type="onboarding.phase_changed",
        target_type="onboarding",
        target_id=row.id,
        changes={"phase": {"from": old, "to": new}},
    )
    events.emit(tx, "onboarding.phase_changed", after, {"phase": old})
    if new in PHASE_EVENTS:
        events.emit(tx, PHASE_EVENTS[new], after, {"phase": old})
    if new == "launch":
        integrations.on_launch(tx, after, customers_service.find(tx, row.customer_id))


def _record_state_change(tx: Tx, after: dict[str, Any], old: str) -> None:
    events.emit(tx, "onboarding.state_changed", after, {"state": old})
    if after["state"] == "at_risk":
        events.emit(tx, "onboarding.at_risk", after, {"state": old})
    elif old == "at_risk":
        events.emit(tx, "onboarding.back_on_track", after, {"state": old})


def delete(tx: Tx, ref: str) -> dict[str, Any]:
    row = find(tx, ref, for_update=True, with_deleted=True)
    if row.deleted_at is None:
        tx.conn.execute(
            update(onboardings).where(onboardings.c.id == row.id).values(deleted_at=tx.now)
        )
        events.emit(tx, "onboarding.deleted", render(row))
        activity.record(
            tx,
            customer_id=row.customer_id,
            event_type="onboarding.deleted",
            target_type="onboarding",
            target_id=row.id,
        )
    return customers_service.deleted_body(row)
