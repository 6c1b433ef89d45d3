"""Contact request bodies and the response shape (SPEC §7.3)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel

from pivotal.core.validation import (
    Email,
    InputModel,
    Labels,
    Metadata,
    Name255,
    NotNull,
    StrictBool,
    Text50,
    Text255,
)


class _ContactFields(InputModel):
    name: Annotated[Name255 | None, NotNull] = None
    email: Annotated[Email | None, NotNull] = None
    title: Text255 | None = None
    phone: Text50 | None = None
    is_primary: Annotated[StrictBool | None, NotNull] = None
    labels: Annotated[Labels | None, NotNull] = None
    metadata: Annotated[Metadata | None, NotNull] = None


class ContactCreate(_ContactFields):
    """A new contact of a customer; ``name`` and ``email`` are required."""

    name: Name255  # required here, optional on update
    email: Email


class ContactUpdate(_ContactFields):
    """A partial update; a contact cannot move to another customer."""


class Contact(BaseModel):
    object: Literal["contact"]
    id: str
    display_id: int
    customer_id: str
    name: str
    email: str
    title: str | None
    phone: str | None
    is_primary: bool
    labels: list[str]
    metadata: dict[str, Any]
    created_at: str
    updated_at: str


class ContactList(BaseModel):
    object: Literal["list"]
    data: list[Contact]
    has_more: bool
    next_cursor: str | None
