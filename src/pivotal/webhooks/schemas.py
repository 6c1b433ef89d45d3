"""Webhook endpoint bodies and the shapes of endpoints, deliveries and events (SPEC §8)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

from pivotal.core.validation import InputModel, NotNull, StrictBool, Text255
from pivotal.webhooks.events import EVENT_TYPES

Url = Annotated[
    str, Strict(), StringConstraints(strip_whitespace=True, min_length=1, max_length=2048)
]


def _known_event(value: str) -> str:
    if value != "*" and value not in EVENT_TYPES:
        raise PydanticCustomError(
            "invalid_enum_value", "must be '*' or one of: " + ", ".join(EVENT_TYPES)
        )
    return value


EventType = Annotated[str, Strict(), AfterValidator(_known_event)]
EnabledEvents = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES) + 1)]


class _EndpointFields(InputModel):
    url: Annotated[Url | None, NotNull] = None
    enabled_events: Annotated[EnabledEvents | None, NotNull] = None
    description: Text255 | None = None


class EndpointCreate(_EndpointFields):
    """A new endpoint; it receives events of the calling key's mode only."""

    url: Url
    enabled_events: EnabledEvents


class EndpointUpdate(_EndpointFields):
    """A partial update; ``disabled: false`` re-enables an endpoint that was switched off."""

    disabled: Annotated[StrictBool | None, NotNull] = None


class WebhookEndpoint(BaseModel):
    object: Literal["webhook_endpoint"]
    id: str
    url: str
    enabled_events: list[str]
    description: str | None
    livemode: bool
    disabled: bool
    disabled_reason: str | None
    created_at: str
    updated_at: str
    secret: str | None = Field(default=None, description="Only in create and rotate answers.")


class WebhookEndpointList(BaseModel):
    object: Literal["list"]
    data: list[WebhookEndpoint]
    has_more: bool
    next_cursor: str | None


class Attempt(BaseModel):
    attempted_at: str
    status_code: int | None
    duration_ms: int
    error: str | None


class WebhookDelivery(BaseModel):
    object: Literal["webhook_delivery"]
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: list[Attempt]
    next_attempt_at: str | None
    created_at: str


class WebhookDeliveryList(BaseModel):
    object: Literal["list"]
    data: list[WebhookDelivery]
    has_more: bool
    next_cursor: str | None


class EventData(BaseModel):
    object: dict[str, Any]
    previous_attributes: dict[str, Any] | None


class Event(BaseModel):
    object: Literal["event"]
    id: str
    type: str
    created_at: str
    org_id: str
    livemode: bool
    api_version: Literal["v1"]
    data: EventData


class EventList(BaseModel):
    object: Literal["list"]
    data: list[Event]
    has_more: bool
    next_cursor: str | None


class DeletedEndpoint(BaseModel):
    object: Literal["deleted"]
    id: str
    deleted: Literal[True]
