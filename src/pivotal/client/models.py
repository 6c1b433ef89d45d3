"""The objects the API returns, as small typed classes with attribute access.

Each class lists the fields SPEC §7-§8 documents. ``from_dict`` is tolerant in both
directions, as SPEC §1 asks of clients: keys the server adds later are kept and readable
as attributes at run time (``obj.new_field``, invisible to type checkers) and through
``to_dict()``; a documented key the server left out reads as ``None``. Date-times become
aware ``datetime`` objects in UTC, dates ``date`` objects; ``to_dict()`` returns the JSON
exactly as received.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Literal, TypeVar

__all__ = [
    "Activity",
    "Contact",
    "Customer",
    "DeepHealth",
    "Deleted",
    "Event",
    "EventData",
    "Health",
    "Me",
    "MeApiKey",
    "Organization",
    "Page",
    "PhaseTransition",
    "PivotalObject",
    "RateLimitInfo",
    "Task",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
]

CustomerStatus = Literal["onboarding", "active", "at_risk", "churned", "archived"]
Phase = Literal[
    "before_getting_started",
    "program_design",
    "review",
    "program_buildout",
    "internal_qa",
    "launch",
    "completed",
]
OnboardingState = Literal["active", "paused", "at_risk", "waiting"]
DeliveryStatus = Literal["pending", "succeeded", "failed"]

T = TypeVar("T")
M = TypeVar("M", bound="PivotalObject")
Converter = Callable[[Any], Any]

# "object" value -> model class, to type the resource inside an event.
_BY_OBJECT_TYPE: dict[str, type[PivotalObject]] = {}


def _parse_datetime(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _parse_date(value: Any) -> Any:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _identity(value: Any) -> Any:
    return value


def _as_object(value: Any) -> Any:
    """A nested resource of any type (an event's ``data.object``), typed when known."""
    if isinstance(value, dict):
        cls = _BY_OBJECT_TYPE.get(str(value.get("object")))
        if cls is not None:
            return cls.from_dict(value)
    return value


def _converter(annotation: Any) -> Converter:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            convert = _converter(inner[0])
            return lambda value: None if value is None else convert(value)
        return _identity
    if origin is list:
        (item,) = typing.get_args(annotation)
        convert_item = _converter(item)
        if convert_item is _identity:
            return _identity
        return lambda value: [convert_item(v) for v in value] if isinstance(value, list) else value
    if annotation is datetime:
        return _parse_datetime
    if annotation is date:
        return _parse_date
    if annotation is Any:
        return _as_object
    if isinstance(annotation, type) and issubclass(annotation, PivotalObject):
        model = annotation
        return lambda value: model.from_dict(value) if isinstance(value, dict) else value
    return _identity


@dataclass(frozen=True, kw_only=True)
class PivotalObject:
    """Base of every model: attribute access, unknown keys kept, ``to_dict()``."""

    _raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _fields: ClassVar[tuple[tuple[str, str, Converter], ...] | None] = None
    # JSON keys that are not valid Python names ("from" -> from_).
    _json_names: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._fields = None
        object_type = cls.__dict__.get("OBJECT_TYPE")
        if isinstance(object_type, str):
            _BY_OBJECT_TYPE[object_type] = cls

    @classmethod
    def _field_specs(cls) -> tuple[tuple[str, str, Converter], ...]:
        if cls.__dict__.get("_fields") is None:
            hints = typing.get_type_hints(cls)
            cls._fields = tuple(
                (f.name, cls._json_names.get(f.name, f.name), _converter(hints[f.name]))
                for f in dataclasses.fields(cls)
                if f.name != "_raw"
            )
        assert cls._fields is not None
        return cls._fields

    @classmethod
    def from_dict(cls: type[M], data: Mapping[str, Any]) -> M:
        """Build the object from the API's JSON (a parsed dict)."""
        values = {name: convert(data.get(key)) for name, key, convert in cls._field_specs()}
        return cls(_raw=dict(data), **values)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the server sent it (a deep copy)."""
        return copy.deepcopy(self._raw)

    if not TYPE_CHECKING:
        # Hidden from type checkers, so that a typo in a field name is still caught.
        def __getattr__(self, name: str) -> Any:
            # Only called for names that are not fields: keys the server added later.
            if not name.startswith("_"):
                raw = self.__dict__.get("_raw")
                if raw is not None and name in raw:
                    return raw[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


@dataclass(frozen=True, kw_only=True)
class Customer(PivotalObject):
    OBJECT_TYPE: ClassVar[str] = "customer"
    object: str
    id: str
    display_id: int
    name: str
    slug: str
    domain: str | None
    status: CustomerStatus
    plan: str | None
    mrr: int | None
    monthly_orders: int | None
    hubspot_company_id: str | None
    hubspot_deal_id: str | None
    stripe_customer_id: str | None
    intercom_company_id: str | None
    slack_channel_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Contact(PivotalObject):
    OBJECT_TYPE: ClassVar[str] = "contact"
    object: str
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
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Onboarding(PivotalObject):
    OBJECT_TYPE: ClassVar[str] = "onboarding"
    object: str
    id: str
    display_id: int
    customer_id: str
    name: str | None
    template_id: str | None
    phase: Phase
    state: OnboardingState
    waiting_on_customer: bool
    started_at: datetime | None
    completed_at: datetime | None
    target_launch_date: datetime | None
    csm_id: str | None
    se_id: str | None
    designer_id: str | None
    product_ops_id: str | None
    notes: str | None
    reminders_enabled: bool
    reminder_frequency_days: int
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class PhaseTransition(PivotalObject):
    """A recorded phase change; ``from_`` is the JSON key ``from``."""

    OBJECT_TYPE: ClassVar[str] = "phase_transition"
    _json_names: ClassVar[dict[str, str]] = {"from_": "from"}
    object: str
    id: str
    onboarding_id: str
    from_: Phase
    to: Phase
    actor: str
    livemode: bool
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Task(PivotalObject):
    OBJECT_TYPE: ClassVar[str] = "task"
    object: str
    id: str
    display_id: int
    onboarding_id: str
    customer_id: str
    parent_task_id: str | None
    title: str
    description: str | None
    assignee_email: str | None
    due_date: date | None
    completed: bool
    completed_at: datetime | None
    completed_by: str | None
    position: int
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Activity(PivotalObject):
    """One entry of a customer's history; ``changes`` maps a field to ``{from, to}``."""

    OBJECT_TYPE: ClassVar[str] = "activity"
    object: str
    id: str
    customer_id: str
    actor: str
    actor_type: str
    livemode: bool
    event_type: str
    target_type: str
    target_id: str
    changes: dict[str, Any] | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class EventData(PivotalObject):
    """``object`` is the resource as a model (``Customer``, ...) when its type is known."""

    object: Any
    previous_attributes: dict[str, Any] | None


@dataclass(frozen=True, kw_only=True)
class Event(PivotalObject):
    """An event; also the body of every webhook delivery."""

    OBJECT_TYPE: ClassVar[str] = "event"
    id: str
    type: str
    created_at: datetime
    org_id: str
    livemode: bool
    api_version: str
    data: EventData


@dataclass(frozen=True, kw_only=True)
class WebhookEndpoint(PivotalObject):
    """``secret`` is present only in the create and rotate_secret answers."""

    OBJECT_TYPE: ClassVar[str] = "webhook_endpoint"
    object: str
    id: str
    url: str
    enabled_events: list[str]
    description: str | None
    livemode: bool
    disabled: bool
    disabled_reason: str | None
    secret: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class WebhookDeliveryAttempt(PivotalObject):
    attempted_at: datetime
    status_code: int | None
    duration_ms: int | None
    error: str | None


@dataclass(frozen=True, kw_only=True)
class WebhookDelivery(PivotalObject):
    OBJECT_TYPE: ClassVar[str] = "webhook_delivery"
    object: str
    id: str
    endpoint_id: str
    event_id: str
    event_type: str
    status: DeliveryStatus
    attempts: list[WebhookDeliveryAttempt]
    next_attempt_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class Deleted(PivotalObject):
    """The answer to a delete: ``deleted`` is always true."""

    object: str
    id: str
    display_id: int | None
    deleted: bool


@dataclass(frozen=True, kw_only=True)
class RateLimitInfo(PivotalObject):
    limit: int
    window_seconds: int


@dataclass(frozen=True, kw_only=True)
class MeApiKey(PivotalObject):
    id: str
    name: str
    prefix: str
    mode: Literal["live", "test"]
    scopes: list[str]
    rate_limit: RateLimitInfo


@dataclass(frozen=True, kw_only=True)
class Organization(PivotalObject):
    id: str
    slug: str
    name: str


@dataclass(frozen=True, kw_only=True)
class Me(PivotalObject):
    """The calling API key and its workspace."""

    object: str
    livemode: bool
    api_key: MeApiKey
    organization: Organization


@dataclass(frozen=True, kw_only=True)
class Health(PivotalObject):
    status: str
    timestamp: datetime
    version: str


@dataclass(frozen=True, kw_only=True)
class DeepHealth(PivotalObject):
    """Readiness: ``status`` is ``"ok"`` or ``"error"``; ``checks`` names each dependency."""

    status: str
    checks: dict[str, str]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: iterate it, or read ``data``, ``has_more``, ``next_cursor``."""

    data: list[T]
    has_more: bool
    next_cursor: str | None

    def __iter__(self) -> Iterator[T]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)

    @classmethod
    def from_dict(cls, body: Mapping[str, Any], parse: Callable[[dict[str, Any]], T]) -> Page[T]:
        return cls(
            data=[parse(item) for item in body.get("data") or []],
            has_more=bool(body.get("has_more")),
            next_cursor=body.get("next_cursor"),
        )
