"""Task rules and queries (SPEC §7.5): one level of subtasks, completion, list order.

A task belongs to one onboarding (and, through it, to one customer, copied into the row).
It is visible only while it, its onboarding and its customer are all live: deleting the
onboarding or the customer hides its tasks from every read, without touching them.

Decisions where the SPEC is silent:

- ``parent_task_id`` takes the parent's id or display id (like other body references)
  and is answered as the canonical id. The parent must be a live task of the same
  onboarding that is not itself a subtask; a task that has live subtasks cannot become
  a subtask; a task cannot be its own parent. Every such refusal (an unknown parent
  included) is 400 ``invalid_parent`` with field ``parent_task_id``. PATCH may change or
  clear it.
- Deleting a task also deletes its live subtasks (each with its own ``task.deleted``
  event and activity entry), so no visible subtask ever points at a deleted parent.
- ``position`` defaults to one past the highest position among the onboarding's live
  tasks (0 for the first). Positions may repeat; ties list in creation order, so a new
  task always lands at the end. Changing one task's position moves no other task.
- A task created with ``completed: true`` gets ``completed_at``/``completed_by`` at once
  and emits ``task.completed`` (and its activity entry, changes null) after
  ``task.created``, like a customer created ``at_risk`` emits ``customer.at_risk``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import orjson
from sqlalchemy import Row, and_, func, insert, or_, select, update

from pivotal.activity import service as activity
from pivotal.core import clock, ids, sequences
from pivotal.core.context import Tx
from pivotal.core.errors import InvalidRequest
from pivotal.core.lookup import find_one, ref_condition
from pivotal.core.pagination import PageParams
from pivotal.customers import service as customers_service
from pivotal.db import tables
from pivotal.db.engine import Record, mapping
from pivotal.onboardings import service as onboardings_service
from pivotal.tasks.schemas import MAX_POSITION, TaskCreate, TaskUpdate
from pivotal.webhooks import events

tasks = tables.tasks
onboardings = tables.onboardings
customers = tables.customers
COMPLETION_FIELDS = ("completed", "completed_at", "completed_by")


def render(row: Record | dict[str, Any]) -> dict[str, Any]:
    """A task as the API returns it."""
    r = mapping(row)
    return {
        "object": "task",
        "id": r["id"],
        "display_id": r["display_id"],
        "onboarding_id": r["onboarding_id"],
        "customer_id": r["customer_id"],
        "parent_task_id": r["parent_task_id"],
        "title": r["title"],
        "description": r["description"],
        "assignee_email": r["assignee_email"],
        "due_date": r["due_date"],
        "completed": bool(r["completed"]),
        "completed_at": clock.iso(r["completed_at"]),
        "completed_by": r["completed_by"],
        "position": r["position"],
        "metadata": orjson.loads(r["metadata"]),
        "created_at": clock.iso(r["created_at"]),
        "updated_at": clock.iso(r["updated_at"]),
    }


@cache  # one immutable statement, so lookups reuse its compiled form
def _visible_tasks() -> Any:
    """Tasks whose onboarding and customer are live (the task's own deleted_at aside)."""
    return (
        select(tasks)
        .join(onboardings, onboardings.c.id == tasks.c.onboarding_id)
        .join(customers, customers.c.id == tasks.c.customer_id)
        .where(onboardings.c.deleted_at.is_(None), customers.c.deleted_at.is_(None))
    )


def find(tx: Tx, ref: str, *, for_update: bool = False, with_deleted: bool = False) -> Record:
    """The task named by ``ref`` (display id or id), or 404 ``task_not_found``."""
    return find_one(
        tx, _visible_tasks(), tasks, ref, "task", for_update=for_update, with_deleted=with_deleted
    )


def get(tx: Tx, ref: str) -> dict[str, Any]:
    return render(find(tx, ref))


def list_tasks(
    tx: Tx, onboarding_ref: str, completed: bool | None, page: PageParams
) -> dict[str, Any]:
    """One page of the onboarding's tasks, in ``position`` then ``created_at`` order.

    The cursor keeps the SPEC's form (``next_cursor`` is the ``created_at`` of the last
    item) but, as the order starts with ``position``, "created strictly before T" would
    not be the rest of the list. Task ``created_at`` values are unique per workspace
    (core/sequences.py), so the cursor names exactly one task: its row, soft-deleted or
    not, gives the (position, created_at) key, and the page continues strictly after that
    key. Walking the pages therefore visits every task exactly once, even while tasks are
    created or deleted in between (a task whose position changes mid-walk is, as in any
    list ordered by a mutable field, seen where it stood when its page was read). A
    well-formed cursor that names no task of this onboarding is 400 ``invalid_parameter``.
    """
    onboarding = onboardings_service.find(tx, onboarding_ref)
    query = select(tasks).where(
        tasks.c.onboarding_id == onboarding.id, tasks.c.deleted_at.is_(None)
    )
    if completed is not None:
        query = query.where(tasks.c.completed == completed)
    if page.before is not None:
        anchor = tx.conn.execute(
            select(tasks.c.position, tasks.c.created_at).where(
                tasks.c.onboarding_id == onboarding.id, tasks.c.created_at == page.before
            )
        ).first()
        if anchor is None:
            raise InvalidRequest(
                "invalid_parameter",
                "cursor does not name a task of this list; pass the next_cursor of the "
                "previous page",
                "cursor",
            )
        query = query.where(
            or_(
                tasks.c.position > anchor.position,
                and_(tasks.c.position == anchor.position, tasks.c.created_at > anchor.created_at),
            )
        )
    rows: Sequence[Row[Any]] = tx.conn.execute(
        query.order_by(tasks.c.position, tasks.c.created_at).limit(page.limit + 1)
    ).all()
    has_more = len(rows) > page.limit
    rows = rows[: page.limit]
    return {
        "object": "list",
        "data": [render(row) for row in rows],
        "has_more": has_more,
        "next_cursor": clock.iso(rows[-1].created_at) if has_more else None,
    }


def _invalid_parent(message: str) -> InvalidRequest:
    return InvalidRequest("invalid_parent", message, "parent_task_id")


def _has_live_subtasks(tx: Tx, task_id: str) -> bool:
    query = select(tasks.c.id).where(
        tasks.c.parent_task_id == task_id, tasks.c.deleted_at.is_(None)
    )
    return tx.conn.execute(query.limit(1)).first() is not None


def _lock_structure(tx: Tx, onboarding_id: str) -> None:
    """Queue the transactions that change which tasks of this onboarding are subtasks.

    Setting a parent (on create or update) and deleting (which cascades to subtasks)
    take this lock on the onboarding row before any task row lock. On PostgreSQL (read
    committed) that keeps "one level of subtasks" true when two requests race (A under B
    while B goes under A; a subtask added while its parent is deleted): the second one
    sees the first one's result. The same order everywhere also rules out deadlocks.
    ``NO KEY UPDATE`` leaves inserts of tasks (``KEY SHARE`` through their foreign key)
    unblocked. SQLite already runs one writer at a time and ignores it.
    """
    tx.conn.execute(
        select(onboardings.c.id)
        .where(onboardings.c.id == onboarding_id)
        .with_for_update(key_share=True)
    ).first()


def _parent(tx: Tx, onboarding_id: str, ref: str, child_id: str | None = None) -> Record:
    """The live top-level task ``ref`` of the onboarding, to parent a task (or 400).

    Callers hold ``_lock_structure`` for the onboarding.
    """
    row = tx.conn.execute(
        select(tasks).where(
            ref_condition(tasks, tx.workspace_id, ref),
            tasks.c.onboarding_id == onboarding_id,
            tasks.c.deleted_at.is_(None),
        )
    ).first()
    if row is None:
        raise _invalid_parent("parent_task_id must name a live task of the same onboarding.")
    if row.id == child_id:
        raise _invalid_parent("A task cannot be its own parent.")
    if row.parent_task_id is not None:
        raise _invalid_parent("The parent is itself a subtask: only one level is allowed.")
    if child_id is not None and _has_live_subtasks(tx, child_id):
        raise _invalid_parent("A task with subtasks cannot become a subtask.")
    return row


def _end_position(tx: Tx, onboarding_id: str) -> int:
    highest = tx.conn.execute(
        select(func.max(tasks.c.position)).where(
            tasks.c.onboarding_id == onboarding_id, tasks.c.deleted_at.is_(None)
        )
    ).scalar()
    # At the cap the new task ties with the last one and still lists after it.
    return 0 if highest is None else min(int(highest) + 1, MAX_POSITION)


def _record(tx: Tx, row: Row[Any], event_type: str, changes: dict[str, Any] | None = None) -> None:
    activity.record(
        tx,
        customer_id=row.customer_id,
        event_type=event_type,
        target_type="task",
        target_id=row.id,
        changes=changes,
    )


def create(tx: Tx, onboarding_ref: str, data: TaskCreate) -> dict[str, Any]:
    onboarding = onboardings_service.find(tx, onboarding_ref)
    sent = data.sent()
    if sent.get("parent_task_id") is not None:
        _lock_structure(tx, onboarding.id)
        sent["parent_task_id"] = _parent(tx, onboarding.id, sent["parent_task_id"]).id
    # Allocated before the end position is read: the counter row lock queues concurrent
    # creates, so each one sees the others' tasks and appends after them.
    display_id, created_at = sequences.allocate(tx.conn, tx.workspace_id, "task", tx.now)
    if sent.get("position") is None:
        sent["position"] = _end_position(tx, onboarding.id)
    completed = bool(sent.get("completed"))
    values = {
        **sent,
        "id": ids.cuid(),
        "workspace_id": tx.workspace_id,
        "onboarding_id": onboarding.id,
        "customer_id": onboarding.customer_id,
        "display_id": display_id,
        "completed": completed,
        "completed_at": created_at if completed else None,
        "completed_by": tx.actor.name if completed else None,
        "metadata": orjson.dumps(sent.get("metadata") or {}).decode(),
        "created_at": created_at,
        "updated_at": created_at,
    }
    row = tx.conn.execute(insert(tasks).values(values).returning(tasks)).one()
    task = render(row)
    events.emit(tx, "task.created", task)
    _record(tx, row, "task.created")
    if completed:
        events.emit(tx, "task.completed", task)
        _record(tx, row, "task.completed")
    return task


def update_task(tx: Tx, ref: str, data: TaskUpdate) -> dict[str, Any]:
    sent = data.sent()
    if sent.get("parent_task_id") is not None:
        _lock_structure(tx, find(tx, ref).onboarding_id)  # before the task's own row lock
    row = find(tx, ref, for_update=True)
    before = render(row)
    if "metadata" in sent:
        sent["metadata"] = orjson.dumps(sent["metadata"]).decode()
    if sent.get("parent_task_id") is not None:
        sent["parent_task_id"] = _parent(tx, row.onboarding_id, sent["parent_task_id"], row.id).id
    current = mapping(row)
    changed = {name: value for name, value in sent.items() if current[name] != value}
    if not changed:
        return before
    changed["updated_at"] = max(tx.now, row.updated_at + 1)
    if "completed" in changed:
        done = changed["completed"]
        changed["completed_at"] = changed["updated_at"] if done else None
        changed["completed_by"] = tx.actor.name if done else None
    new_row = tx.conn.execute(
        update(tasks).where(tasks.c.id == row.id).values(changed).returning(tasks)
    ).one()
    after = render(new_row)
    changes = activity.changed_fields(before, after)
    events.emit(tx, "task.updated", after, {k: c["from"] for k, c in changes.items()})
    _record(tx, row, "task.updated", changes)
    if after["completed"] and not before["completed"]:
        completion = {k: changes[k] for k in COMPLETION_FIELDS if k in changes}
        events.emit(tx, "task.completed", after, {k: c["from"] for k, c in completion.items()})
        _record(tx, row, "task.completed", completion)
    return after


def delete(tx: Tx, ref: str) -> dict[str, Any]:
    """Soft delete, with the task's live subtasks; deleting again answers the same body."""
    _lock_structure(tx, find(tx, ref, with_deleted=True).onboarding_id)
    row = find(tx, ref, for_update=True, with_deleted=True)
    if row.deleted_at is None:
        tx.conn.execute(update(tasks).where(tasks.c.id == row.id).values(deleted_at=tx.now))
        events.emit(tx, "task.deleted", render(row))
        _record(tx, row, "task.deleted")
        subtasks = tx.conn.execute(
            update(tasks)
            .where(tasks.c.parent_task_id == row.id, tasks.c.deleted_at.is_(None))
            .values(deleted_at=tx.now)
            .returning(tasks)
        ).all()
        for subtask in sorted(subtasks, key=lambda r: (r.position, r.created_at)):
            events.emit(tx, "task.deleted", render(subtask))
            _record(tx, subtask, "task.deleted")
    return customers_service.deleted_body(row)
