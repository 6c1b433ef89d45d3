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


def walk(api: Any, path: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    """Every page of ``path``, following next_cursor, checking the list envelope."""
    pages: list[list[dict[str, Any]]] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = api.get(path, params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["object"] == "list"
        assert len(body["data"]) <= limit
        pages.append(body["data"])
        if body["has_more"]:
            assert len(body["data"]) == limit
            assert body["next_cursor"] == body["data"][-1]["created_at"]
            cursor = body["next_cursor"]
        else:
            assert body["next_cursor"] is None
            return pages
        assert len(pages) < 1000, "pagination does not end"
