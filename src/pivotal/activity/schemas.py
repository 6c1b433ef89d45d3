"""Activity response shapes (SPEC §7.6)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class FieldChange(BaseModel):
    from_: Any = Field(alias="from")
    to: Any


class Activity(BaseModel):
    object: Literal["activity"]
    id: str
    customer_id: str
    actor: str
    actor_type: Literal["api_key", "user"]
    livemode: bool
    event_type: str
    target_type: Literal["customer", "contact", "onboarding", "task"]
    target_id: str
    changes: dict[str, FieldChange] | None
    created_at: str


class ActivityList(BaseModel):
    object: Literal["list"]
    data: list[Activity]
    has_more: bool
    next_cursor: str | None
