"""Small helpers shared by the task tests."""

from __future__ import annotations

import re
from typing import Any

import orjson
from sqlalchemy import text

from pivotal.db.engine import Database

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")
CUID = re.compile(r"^[a-z][a-z0-9]{23}$")
TASK_KEYS = [
    "object", "id", "display_id", "onboarding_id", "customer_id", "parent_task_id", "title",
    "description", "assignee_email", "due_date", "completed", "completed_at", "completed_by",
    "position", "metadata", "created_at", "updated_at",
]  # fmt: skip


def events(db: Database, type_prefix: str = "task.") -> list[dict[str, Any]]:
    """The outbox events whose type starts with ``type_prefix``, oldest first."""
    with db.transaction(write=False) as conn:
        rows = conn.execute(
            text("SELECT payload FROM events WHERE type LIKE :p ORDER BY created_at"),
            {"p": f"{type_prefix}%"},
        ).all()
    return [orjson.loads(row.payload) for row in rows]
