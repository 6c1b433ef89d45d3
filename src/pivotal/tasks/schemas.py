"""Task request bodies and the response shape (SPEC §7.5)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from pivotal.core import clock
from pivotal.core.validation import (
    Email,
    InputModel,
    Metadata,
    Name255,
    NotNull,
    Ref,
    StrictBool,
    Text10k,
)

# Positions are ordinary 32-bit integers; ties are allowed and broken by created_at.
MAX_POSITION = 2**31 - 1
Position = Annotated[int, Field(ge=0, le=MAX_POSITION, strict=True)]


def _due_date(value: Any) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError("invalid_type", "must be a YYYY-MM-DD date string")
    try:
        return clock.parse_date(value.strip()).isoformat()
    except ValueError as exc:
        raise PydanticCustomError("invalid_string", "must be a YYYY-MM-DD date") from exc


# A calendar date, stored and returned as its canonical "YYYY-MM-DD" text.
DueDate = Annotated[
    str, BeforeValidator(_due_date), WithJsonSchema({"type": "string", "format": "date"})
]


class _TaskFields(InputModel):
    parent_task_id: Annotated[
        Ref | None,
        Field(description="The parent task's id or display id; null for a top-level task."),
    ] = None
    title: Annotated[Name255 | None, NotNull] = None
    description: Text10k | None = None
    assignee_email: Email | None = None
    due_date: DueDate | None = None
    completed: Annotated[StrictBool | None, NotNull] = None
    position: Annotated[Position | None, NotNull] = None
    metadata: Annotated[Metadata | None, NotNull] = None


class TaskCreate(_TaskFields):
    """A new task of the onboarding in the path; ``title`` is required."""

    title: Name255


class TaskUpdate(_TaskFields):
    """A partial update; a task cannot move to another onboarding."""


class Task(BaseModel):
    object: Literal["task"]
    id: str
    display_id: int
    onboarding_id: str
    customer_id: str
    parent_task_id: str | None
    title: str
    description: str | None
    assignee_email: str | None
    due_date: str | None
    completed: bool
    completed_at: str | None
    completed_by: str | None
    position: int
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class TaskList(BaseModel):
    object: Literal["list"]
    data: list[Task]
    has_more: bool
    next_cursor: str | None
